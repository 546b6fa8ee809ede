"""Job and run links become fetch targets only on the configured hosts; webhook payloads carry theirs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.ci.logfile import save_stream
from bot.ci.settings import GitHubSettings, GitLabSettings, JenkinsSettings
from bot.ci.target import Hosts, Target, target_from_url, targets_in
from bot.server.webhooks import hmac_sha256, parse_github, parse_gitlab
from bot.slack.inputs import links_in

DATA = Path(__file__).with_name("data") / "ci"
HOSTS = Hosts(github=GitHubSettings(), gitlab=GitLabSettings(url="https://gitlab.example.com/gitlab"),
              jenkins=JenkinsSettings(url="https://ci.example.com"))


@pytest.mark.parametrize("url, expected", [
    ("https://github.com/o/r/actions/runs/12/job/34", Target("github", "o/r", job_id=34, run_id=12)),
    ("https://github.com/o/r/actions/runs/12/attempts/2/job/34", Target("github", "o/r", job_id=34, run_id=12)),
    ("https://github.com/o/r/actions/runs/12", Target("github", "o/r", run_id=12)),
    ("https://github.com/o/r/runs/34", Target("github", "o/r", job_id=34)),
    ("https://gitlab.example.com/gitlab/g/sub/p/-/jobs/9", Target("gitlab", "g/sub/p", job_id=9)),
    ("https://gitlab.example.com/gitlab/g/p/-/pipelines/77", Target("gitlab", "g/p", run_id=77)),
    ("https://ci.example.com/job/team/job/app/42/", Target("jenkins", "team/app", job_id=42)),
    ("https://ci.example.com/job/app/42/console", Target("jenkins", "app", job_id=42)),
])
def test_configured_links_become_targets(url, expected):
    got = target_from_url(url, HOSTS)
    assert got is not None and (got.provider, got.project, got.job_id, got.run_id) == (
        expected.provider, expected.project, expected.job_id, expected.run_id)


@pytest.mark.parametrize("url", [
    "https://evil.example.com/o/r/actions/runs/12/job/34",  # another host
    "https://github.com.evil.example/o/r/actions/runs/12/job/34",
    "https://user:pw@github.com/o/r/actions/runs/12/job/34",  # credentials in the link
    "https://gitlab.example.com/other/g/p/-/jobs/9",  # outside the GitLab's path prefix
    "https://github.com/o/r/pull/5",  # not a job
    "ftp://github.com/o/r/actions/runs/12",
    "http://127.0.0.1:8080/job/app/1/",
])
def test_other_links_are_never_targets(url):
    assert target_from_url(url, HOSTS) is None


def test_links_in_slack_markup_and_attachments_and_buttons():
    event = {"text": "see <https://github.com/o/r/actions/runs/1/job/2|the job>",
             "attachments": [{"title_link": "https://gitlab.example.com/gitlab/g/p/-/jobs/3"}],
             "blocks": [{"type": "actions", "elements": [{"type": "button", "url": "https://ci.example.com/job/a/4/"}]}]}
    found = targets_in(links_in(event), HOSTS)
    assert [(t.provider, t.job_id) for t in found] == [("github", 2), ("gitlab", 3), ("jenkins", 4)]


def test_github_enterprise_web_host_comes_from_the_api_url():
    assert GitHubSettings(api_url="https://ghe.corp.example/api/v3").web_host == "ghe.corp.example"


def test_webhook_payloads_carry_their_targets():
    body = (DATA / "github_workflow_job_completed_failure.json").read_bytes()
    headers = {"X-GitHub-Event": "workflow_job", "X-Hub-Signature-256": hmac_sha256("s", body)}
    target = parse_github(headers, body, "s").target
    assert (target.provider, target.project, target.job_id, target.run_id) == ("github", "octo-org/octo-repo",
                                                                              1291536064, 289782451)
    body = (DATA / "github_workflow_run_completed_failure.json").read_bytes()
    headers = {"X-GitHub-Event": "workflow_run", "X-Hub-Signature-256": hmac_sha256("s", body)}
    assert parse_github(headers, body, "s").target.run_id == 289782451
    body = (DATA / "gitlab_pipeline_event_failed.json").read_bytes()
    target = parse_gitlab({"X-Gitlab-Token": "t"}, body, "t").target
    assert (target.run_id, target.failed_job_ids) == (31, (377, 378))
    body = (DATA / "gitlab_job_event_failed.json").read_bytes()
    assert parse_gitlab({"X-Gitlab-Token": "t"}, body, "t").target.job_id == 378


def test_a_payload_that_carries_its_log_needs_no_fetch():
    data = json.loads((DATA / "github_workflow_job_completed_failure.json").read_text())
    data["log"] = "E: boom"
    body = json.dumps(data).encode()
    headers = {"X-GitHub-Event": "workflow_job", "X-Hub-Signature-256": hmac_sha256("s", body)}
    failure = parse_github(headers, body, "s")
    assert failure.target is None and failure.log == "E: boom"


def test_saved_stream_keeps_the_tail_in_bounded_disk(tmp_path):
    lines = [b"line %06d\n" % i for i in range(100_000)]  # 1.2 MB in 1,000 chunks
    chunks = (b"".join(lines[i:i + 100]) for i in range(0, len(lines), 100))
    saved = save_stream(chunks, cap=64 * 1024)
    data = saved.path.read_bytes()
    assert len(data) <= 64 * 1024 and data.endswith(b"line 099999\n") and data.startswith(b"line ")
    assert saved.skipped + len(data) == sum(map(len, lines))
    saved.close()
    assert not saved.path.parent.exists()
