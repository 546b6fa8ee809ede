"""Attachments: the bot token goes only to Slack's file hosts; file names cannot ping or break out."""
from __future__ import annotations

from slack_fakes import BOT_TOKEN, FakeSlackAPI

from bot.slack.attachments import fetch_files, trusted_file_url


def test_the_bot_token_is_sent_only_to_slack_file_hosts():
    api = FakeSlackAPI()
    try:
        api.files["build.log"] = b"E: boom\n"
        info = {"name": "build.log", "mimetype": "text/plain", "size": 8, "url_private": api.url + "/files/build.log"}
        refused = fetch_files([info], BOT_TOKEN, 1 << 20, hosts=("files.slack.com",))
        assert refused.logs == [] and "only download files from Slack" in refused.notes[0]
        assert not api.calls and not getattr(api, "file_requests", [])
        fetched = fetch_files([info], BOT_TOKEN, 1 << 20, hosts=("files.slack.com", "127.0.0.1"))
        assert fetched.logs == ["E: boom\n"]
    finally:
        api.close()


def test_trusted_hosts_match_exactly_or_as_subdomains():
    hosts = ("files.slack.com",)
    assert trusted_file_url("https://files.slack.com/files-pri/T1-F1/x.log", hosts)
    assert not trusted_file_url("https://files.slack.com.evil.example/x.log", hosts)
    assert not trusted_file_url("https://evil.example/files.slack.com/x.log", hosts)
    assert not trusted_file_url("file:///etc/passwd", hosts)


def test_file_names_are_escaped_and_cannot_leave_their_code_span():
    files = [{"name": "`<!channel> urgent.bin", "mimetype": "application/octet-stream", "size": 10,
              "url_private": "https://files.slack.com/x"},
             {"name": "``<!here>` big.log", "mimetype": "text/plain", "size": 1 << 30,
              "url_private": "https://files.slack.com/y"}]
    notes = fetch_files(files, BOT_TOKEN, 1 << 20, hosts=("files.slack.com",)).notes
    joined = "\n".join(notes)
    assert "<!channel>" not in joined and "<!here>" not in joined
    assert "&lt;!channel&gt;" in joined
    for note in notes:
        assert note.count("`") == 2  # one span, opened and closed
