"""Slack events through app.dispatch with signed requests, against a recording fake Web API."""
from __future__ import annotations

import json
import time

import pytest
from slack_fakes import BOT_ID, BOT_USER, ANSWER, FakeEngine, Harness, sign

from bot.slack.answering import APOLOGY_TEXT, NOT_ALLOWED_TEXT, RATE_LIMITED_TEXT


@pytest.fixture
def slack():
    h = Harness()
    yield h
    h.close()


def test_mention_gets_placeholder_then_answer_in_thread(slack):
    ts, resp = slack.mention("why did this fail?\n```\nnpm ERR! gyp ERR! build error\n```")
    assert resp.status == 200
    [update] = slack.answered()
    [placeholder] = slack.api.called("chat.postMessage")
    assert placeholder.params["thread_ts"] == ts and "Looking into it" in placeholder.params["text"]
    assert update.params["ts"] == placeholder.response["ts"]
    blocks = json.dumps(update.params["blocks"])
    assert "Root cause" in blocks and "node-gyp" in blocks and "41 | npm ERR! gyp ERR! build error" in blocks
    assert "<https://runbooks.example/node-gyp|Node native builds>" in blocks
    assert "route: rag" in blocks and "adapter v3" in blocks
    assert update.params["text"].startswith("Root cause:")
    request = slack.engine.requests[0]
    assert "gyp ERR! build error" in request.log and request.question == "why did this fail?"
    record = slack.store.thread_answers("C1", ts)[0]
    assert slack.store.answer_by_message("C1", record.message_ts).answer_id == record.answer_id


def test_answer_replaces_the_placeholder_so_the_thread_gets_one_message(slack):
    slack.mention("```\nerror: build failed\n```")
    [update] = slack.answered()
    [posted] = slack.api.called("chat.postMessage")
    assert update.params["ts"] == posted.response["ts"]


def test_bad_signature_is_401_and_not_answered(slack):
    from slack_bolt.request import BoltRequest

    body = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention"}})
    headers = sign(body, secret="wrong-secret")
    resp = slack.app.dispatch(BoltRequest(body=body, headers={k: [v] for k, v in headers.items()}))
    assert resp.status == 401
    assert slack.api.called("chat.postMessage") == []


def test_stale_timestamp_is_401(slack):
    from slack_bolt.request import BoltRequest

    body = json.dumps({"type": "event_callback", "event_id": "Ev2", "event": {"type": "app_mention"}})
    headers = sign(body, timestamp=int(time.time()) - 10 * 60)
    resp = slack.app.dispatch(BoltRequest(body=body, headers={k: [v] for k, v in headers.items()}))
    assert resp.status == 401


def test_retry_delivered_twice_is_answered_once(slack):
    event = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> ```\nE: fail\n```",
             "ts": "1700000001.000001", "channel": "C1"}
    assert slack.event(event, event_id="EvRetry").status == 200
    retry = slack.event(event, event_id="EvRetry", headers={"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"})
    assert retry.status == 200
    slack.answered()
    slack.api.settle()
    assert len(slack.engine.requests) == 1
    assert len(slack.api.called("chat.postMessage")) == 1


def test_message_and_app_mention_double_delivery_answered_once():
    h = Harness(watch_channels=["CW"], alert_senders=["U1"])
    try:
        ts = "1700000002.000001"
        text = f"<@{BOT_USER}> Build failed ```\nE: fail\n```"
        h.event({"type": "message", "channel_type": "channel", "user": "U1", "text": text, "ts": ts, "channel": "CW"})
        h.event({"type": "app_mention", "user": "U1", "text": text, "ts": ts, "channel": "CW"})
        h.answered()
        h.api.settle()
        assert len(h.engine.requests) == 1
    finally:
        h.close()


def test_rate_limited_web_api_call_is_retried(slack):
    slack.api.fail("chat.update", times=1)
    slack.mention("```\nE: fail\n```")
    calls = slack.answered(count=2, timeout=8)
    assert len(calls) == 2  # the 429, then the retry after Retry-After
    assert calls[0].response["error"] == "ratelimited" and calls[1].response["ok"]


def test_direct_message_is_answered_in_its_thread(slack):
    ts = slack.next_ts()
    slack.event({"type": "message", "channel_type": "im", "user": "U1", "channel": "D1", "ts": ts,
                 "text": "```\nModuleNotFoundError: No module named 'yaml'\n```"})
    [update] = slack.answered()
    assert update.params["channel"] == "D1"
    assert slack.api.called("chat.postMessage")[0].params["thread_ts"] == ts


def test_messages_from_other_bots_and_ourselves_are_ignored(slack):
    slack.event({"type": "message", "channel_type": "im", "bot_id": "BOTHER", "channel": "D1",
                 "ts": slack.next_ts(), "text": "```\nE: fail\n```"})
    slack.event({"type": "message", "channel_type": "im", "user": BOT_USER, "bot_id": BOT_ID, "channel": "D1",
                 "ts": slack.next_ts(), "text": "Root cause: x"})
    slack.api.settle()
    assert slack.engine.requests == []


def test_follow_up_in_thread_keeps_log_and_earlier_answer(slack):
    ts, _ = slack.mention("```\nnpm ERR! gyp ERR! build error\n```")
    slack.answered()
    slack.mention("and how do I pin it?", ts=slack.next_ts(), thread_ts=ts)
    slack.answered(count=2)
    follow = slack.engine.requests[1]
    assert "gyp ERR! build error" in follow.log
    assert any("node-gyp 9" in turn["content"] for turn in follow.history)
    assert follow.question == "and how do I pin it?"


def test_mention_in_an_alert_thread_reads_the_alert(slack):
    slack.api.responses["conversations.replies"] = {"ok": True, "messages": [
        {"ts": "1.1", "text": "Workflow CI failed", "attachments": [{"text": "Error: tests failed in job unit"}]}]}
    slack.mention("why?", thread_ts="1.1")
    slack.answered()
    assert "tests failed in job unit" in slack.engine.requests[0].log


def test_nothing_to_analyse_gets_a_helpful_note(slack):
    slack.mention("hello")
    calls = slack.api.wait_for("chat.update", where=lambda c: "didn't find a log" in c.params["text"])
    assert calls and slack.engine.requests == []


def test_engine_exception_yields_apology_and_listener_survives():
    h = Harness(engine=FakeEngine(error=RuntimeError("boom")))
    try:
        h.mention("```\nE: fail\n```")
        assert h.api.wait_for("chat.update", where=lambda c: c.params["text"] == APOLOGY_TEXT)
        h.engine.error = None
        h.mention("```\nE: fail again\n```")
        assert h.answered()
    finally:
        h.close()


def test_channel_allow_list_refuses_politely():
    h = Harness(allowed_channels=["COK"])
    try:
        h.mention("```\nE: fail\n```", channel="CNOPE")
        [note] = h.api.wait_for("chat.postEphemeral")
        assert note.params["text"] == NOT_ALLOWED_TEXT and note.params["user"] == "U1"
        h.api.settle()
        assert h.engine.requests == []
    finally:
        h.close()


def test_user_rate_limit_replies_politely():
    h = Harness(user_rate_per_min=1)
    try:
        h.mention("```\nE: one\n```")
        h.mention("```\nE: two\n```")
        [note] = h.api.wait_for("chat.postEphemeral")
        assert note.params["text"] == RATE_LIMITED_TEXT
        h.answered()
        h.api.settle()
        assert len(h.engine.requests) == 1
    finally:
        h.close()


def test_unknown_channel_post_failure_is_logged_not_fatal(slack):
    slack.api.fail("chat.postMessage", times=1, status=200, body={"ok": False, "error": "channel_not_found"})
    slack.mention("```\nE: fail\n```", channel="CGONE")
    slack.api.settle()
    slack.mention("```\nE: fail\n```")
    assert slack.answered()


def test_event_missing_fields_is_ignored(slack):
    resp = slack.event({"type": "message", "channel_type": "im"})
    assert resp.status == 200
    slack.api.settle()
    assert slack.engine.requests == []


def test_answer_sanitised_against_broadcast_mentions():
    evil = ANSWER.__class__(**{**ANSWER.__dict__, "root_cause": "<!channel> ping <@U999> and @here", "fix": "see <@U1>"})
    h = Harness(engine=FakeEngine(answer=evil))
    try:
        h.mention("<@U1> broke it ```\nE: fail\n```")
        [update] = h.answered()
        text = json.dumps(update.params["blocks"]) + update.params["text"]
        assert "<!channel>" not in text and "<@U999>" not in text and "@here" not in text
        assert "<@U1>" in text  # the asker wrote this mention themselves
    finally:
        h.close()


def test_attached_text_file_is_downloaded_with_the_bot_token(slack):
    slack.api.files["build.log"] = b"step 1\nERROR: relocation R_X86_64_32 against symbol\n"
    slack.mention("why?", files=[{"name": "build.log", "mimetype": "text/plain", "filetype": "text", "size": 60,
                                  "url_private": slack.api.url + "/files/build.log"}])
    slack.answered()
    [download] = slack.api.called("files.build.log")
    assert download.headers["Authorization"] == "Bearer xoxb-test-token"
    assert "relocation R_X86_64_32" in slack.engine.requests[0].log


def test_attached_ci_config_goes_to_the_engine_as_config(slack):
    slack.api.files["ci.yml"] = b"jobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: []\n"
    slack.mention("```\nE: fail\n```", files=[{"name": "ci.yml", "filetype": "yaml", "size": 50,
                                               "url_private": slack.api.url + "/files/ci.yml"}])
    slack.answered()
    request = slack.engine.requests[0]
    assert request.ci_config_name == "ci.yml" and "runs-on" in request.ci_config and "runs-on" not in request.log


def test_non_text_and_oversize_attachments_get_a_polite_note(slack):
    files = [
        {"name": "screenshot.png", "mimetype": "image/png", "filetype": "png", "size": 2000,
         "url_private": slack.api.url + "/files/screenshot.png"},
        {"name": "huge.log", "mimetype": "text/plain", "filetype": "text", "size": 50 * 1024 * 1024,
         "url_private": slack.api.url + "/files/huge.log"},
    ]
    slack.mention("```\nE: fail\n```", files=files)
    slack.answered()
    notes = " ".join(c.params["text"] for c in slack.api.called("chat.postMessage"))
    assert "screenshot.png" in notes and "only read text files" in notes
    assert "huge.log" in notes and "50.0 MB" in notes
    assert not [c for c in slack.api.calls if c.method.startswith("files.")]  # nothing downloaded


def test_attachment_larger_than_reported_is_cut_off(slack):
    slack.settings.slack.max_attachment_bytes = 1024
    slack.api.files["liar.log"] = b"x" * 5000
    slack.mention("why?", files=[{"name": "liar.log", "mimetype": "text/plain", "size": 10,
                                  "url_private": slack.api.url + "/files/liar.log"}])
    assert slack.api.wait_for("chat.postMessage", where=lambda c: "over my" in c.params["text"])
    assert slack.api.wait_for("chat.update", where=lambda c: "didn't find a log" in c.params["text"])


def test_slash_command_posts_question_and_answers_in_its_thread(slack):
    from urllib.parse import urlencode

    body = urlencode({"command": "/ci-why", "text": "error: linker command failed", "user_id": "U1",
                      "channel_id": "C1", "team_id": "T1", "trigger_id": "t-1", "response_url": "http://x"})
    resp = slack.dispatch(body, content_type="application/x-www-form-urlencoded")
    assert resp.status == 200
    slack.answered()
    root, placeholder = slack.api.called("chat.postMessage")[:2]
    assert root.params.get("thread_ts") is None and "/ci-why" in root.params["text"]
    assert placeholder.params["thread_ts"] == root.response["ts"]
    assert "linker command failed" in slack.engine.requests[0].log


def test_empty_slash_command_gets_usage(slack):
    from urllib.parse import urlencode

    body = urlencode({"command": "/ci-why", "text": "", "user_id": "U1", "channel_id": "C1", "team_id": "T1"})
    resp = slack.dispatch(body, content_type="application/x-www-form-urlencoded")
    assert resp.status == 200 and "Paste the failing part" in resp.body


def test_shortcut_explains_a_forwarded_alert(slack):
    message = {"type": "message", "ts": "1699.000001", "user": "U7", "text": "",
               "attachments": [{"is_share": True, "title": "Build #88 failed", "text": "FATAL: missing env API_KEY"}]}
    resp = slack.interact({"type": "message_action", "callback_id": "explain_failure", "trigger_id": "tr-1",
                           "user": {"id": "U1"}, "channel": {"id": "C1"}, "team": {"id": "T1"},
                           "message": message, "api_app_id": "A1", "token": "legacy", "action_ts": "1.1"})
    assert resp.status == 200
    [update] = slack.answered()
    assert slack.api.called("chat.postMessage")[0].params["thread_ts"] == "1699.000001"
    assert "missing env API_KEY" in slack.engine.requests[0].log


def test_watched_channel_alert_answered_and_success_ignored():
    h = Harness(watch_channels=["CW"])
    try:
        ok = {"type": "message", "subtype": "bot_message", "bot_id": "BGH", "bot_profile": {"name": "GitHub"},
              "channel": "CW", "ts": "1.000001", "text": "", "attachments": [{"color": "good", "text": "CI passed"}]}
        bad = {**ok, "ts": "1.000002", "attachments": [{"color": "danger", "text": "Workflow CI failed: exit code 2"}]}
        elsewhere = {**bad, "channel": "COTHER", "ts": "1.000003"}
        for event in (ok, bad, elsewhere):
            h.event(event)
        [update] = h.answered()
        h.api.settle()
        assert len(h.engine.requests) == 1 and "exit code 2" in h.engine.requests[0].log
        assert h.api.called("chat.postMessage")[0].params["thread_ts"] == "1.000002"
    finally:
        h.close()


def test_full_queue_replies_busy_instead_of_queueing_forever():
    from bot.slack.answering import BUSY_TEXT

    h = Harness(engine=FakeEngine(delay=1.0), max_pending=1)
    try:
        h.mention("```\nE: one\n```")
        h.mention("```\nE: two\n```")
        assert h.api.wait_for("chat.postMessage", where=lambda c: c.params["text"] == BUSY_TEXT)
        assert h.answered()
    finally:
        h.close()


def test_bolts_own_logs_follow_the_level_set_after_the_app_is_built():
    """Bolt copies the root level onto its app logger when the app is built unless it is given
    ours; then `configure_logging` (or a test's level) could never show Bolt's INFO lines."""
    import logging

    from slack_fakes import Harness

    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.WARNING)
    harness = Harness()
    try:
        harness.mention("why did it fail?\n```\nE: fail\n```")  # Bolt makes its app logger on the first request
        assert len(harness.answered(1)) == 1
        root.setLevel(logging.INFO)
        assert logging.getLogger("cibot").getEffectiveLevel() == logging.INFO
    finally:
        root.setLevel(before)
        harness.close()
