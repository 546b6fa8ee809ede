"""CI webhooks, forwarded alerts and job links end to end: the real HTTP server and Bolt app, a real
answer engine without a model, a fake Slack Web API and a fake GitHub/GitLab/Jenkins API.

Payloads are the providers' published examples (tests/data/ci, see SOURCES.md)."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from ci_fakes import GITHUB_TOKEN, GITLAB_TOKEN, JENKINS_TOKEN, Reply
from engine_fakes import FakeRetriever
from slack_fakes import Harness
from test_slack_serve import http

from bot.engine.pipeline import AnswerEngine
from bot.server.http import start_http
from bot.server.webhooks import hmac_sha256

DATA = Path(__file__).with_name("data") / "ci"
REPO, RUN, JOB = "octo-org/octo-repo", 289782451, 1291536064
FAILING = (b"2024-01-01T00:00:01Z ##[group]Run yarn run format-check\n"
           b"2024-01-01T00:00:02Z yarn run v1.22.19\n"
           b"2024-01-01T00:00:03Z $ prettier --check 'src/**/*.ts'\n"
           b"2024-01-01T00:00:04Z [warn] src/server/routes.ts\n"
           b"2024-01-01T00:00:04Z [warn] Code style issues found in the above file. Forgot to run Prettier?\n"
           b"2024-01-01T00:00:05Z error Command failed with exit code 1.\n"
           b"2024-01-01T00:00:05Z ##[error]Process completed with exit code 1.\n")
PASSING = b"Run yarn run format-check\n$ prettier --check 'src/**/*.ts'\nAll matched files use Prettier code style!\n"
TEST_LOG = (b"Run yarn test\nFAIL src/cart.test.ts\n  \xe2\x97\x8f cart > totals\n"
            b"    expect(received).toBe(expected)\n    Expected: 30\n    Received: 27\n"
            b"Tests: 1 failed, 41 passed\n##[error]Process completed with exit code 1.\n")


def payload(name: str) -> dict:
    return json.loads((DATA / name).read_text())


@pytest.fixture
def bot(ci_api, monkeypatch):
    """Harness (Bolt + store + fake Slack) with the real engine minus the model, plus the HTTP server."""
    env = {**ci_api.env(), "CIBOT_WEBHOOKS__GITHUB_SECRET": "gh-secret", "CIBOT_WEBHOOKS__GITLAB_TOKEN": "gl-token",
           "CIBOT_WEBHOOKS__DEFAULT_CHANNEL": "CCI", "CIBOT_GITHUB__WEB_URL": "https://github.com",
           "CIBOT_SLACK__WATCH_CHANNELS": '["CALERTS"]'}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    engine = AnswerEngine(retriever=FakeRetriever([]), generator=None)
    harness = Harness()
    harness.engine = engine
    server, _ = start_http(harness.deps, harness.app, "127.0.0.1", 0)
    harness.url = server.url
    yield harness
    server.shutdown()
    server.server_close()
    harness.close()


def github_hook(body: dict, event: str, delivery: str) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    return raw, {"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
                 "X-Hub-Signature-256": hmac_sha256("gh-secret", raw)}


def seed_github(ci_api, jobs=((JOB, "linters", "failure", FAILING),)):
    ci_api.add_github_run(REPO, RUN, jobs=list(jobs), branch="master", sha="3484a3fb816e0859fd6e1cea078d76385ff50625",
                          workflow_id=2823525, path=".github/workflows/test.yml",
                          workflow_text="name: test\non: push\njobs:\n  linters:\n    runs-on: ubuntu-latest\n"
                                        "    steps:\n      - run: yarn run format-check\n")
    ci_api.add_github_run(REPO, RUN - 10, jobs=[(JOB - 10, "linters", "success", PASSING)], branch="master",
                          workflow_id=2823525, path=".github/workflows/test.yml", conclusion="success")


def answer_texts(bot, count: int) -> list[str]:
    calls = bot.answered(count, timeout=20)
    return [json.dumps(c.params) for c in calls]


def test_workflow_job_webhook_is_answered_from_the_fetched_log_once(bot, ci_api):
    seed_github(ci_api)
    raw, headers = github_hook(payload("github_workflow_job_completed_failure.json"), "workflow_job", "d-1")
    assert http("POST", bot.url + "/webhooks/github", raw, headers)[0] == 202
    (answer,) = answer_texts(bot, 1)
    assert "src/server/routes.ts" in answer and "Forgot to run Prettier" in answer  # evidence from the fetched log
    assert "step 8" not in answer  # not the payload's step names
    assert "compared with the last passing run" in answer.lower()
    stored = bot.store.thread_answers("CCI", bot.api.called("chat.postMessage")[0].response["ts"])
    assert "routes.ts" in stored[0].excerpt
    # the same delivery again: nothing new is posted
    assert http("POST", bot.url + "/webhooks/github", raw, headers)[0] == 202
    bot.api.settle()
    assert len(bot.answered(1)) == 1
    assert len(ci_api.requests_to(r"/actions/jobs/\d+/logs$")) == 2  # the failing and the passing job, once


def test_workflow_run_webhook_answers_each_failed_job_in_one_thread(bot, ci_api):
    seed_github(ci_api, jobs=((JOB, "linters", "failure", FAILING), (JOB + 1, "test", "failure", TEST_LOG),
                              (399444496, "build", "success", PASSING)))
    raw, headers = github_hook(payload("github_workflow_run_completed_failure.json"), "workflow_run", "d-2")
    assert http("POST", bot.url + "/webhooks/github", raw, headers)[0] == 202
    texts = answer_texts(bot, 2)
    bot.api.settle()
    assert len(bot.answered(2)) == 2
    joined = "\n".join(texts)
    assert "Job linters" in joined and "Job test" in joined
    assert "routes.ts" in joined and "cart.test.ts" in joined
    roots = bot.api.called("chat.postMessage")
    thread = roots[0].response["ts"]
    assert all(c.params.get("thread_ts") == thread for c in roots[1:])


def test_gitlab_pipeline_event_fetches_each_failed_job_trace(bot, ci_api):
    body = payload("gitlab_pipeline_event_failed.json")
    ci_api.add_gitlab_pipeline("gitlab-org/gitlab-test", 31, ref="master", jobs=[
        (377, "test-image", "failed", b"$ docker build -t app .\nERROR: failed to solve: failed to read dockerfile: "
                                      b"open Dockerfile.test: no such file or directory\n"),
        (378, "test-build", "failed", TEST_LOG), (376, "build-image", "success", PASSING)])
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-Gitlab-Token": "gl-token", "X-Gitlab-Event": "Pipeline Hook",
               "X-Gitlab-Event-UUID": "gl-1"}
    assert http("POST", bot.url + "/webhooks/gitlab", raw, headers)[0] == 202
    joined = "\n".join(answer_texts(bot, 2))
    assert "Dockerfile.test" in joined and "cart.test.ts" in joined


def test_unreachable_log_is_named_with_its_reason_and_the_payload_still_analysed(bot, ci_api):
    seed_github(ci_api)
    ci_api.faults[r"/actions/jobs/\d+/logs$"] = [Reply(404, {"message": "Not Found"})] * 3
    raw, headers = github_hook(payload("github_workflow_job_completed_failure.json"), "workflow_job", "d-3")
    assert http("POST", bot.url + "/webhooks/github", raw, headers)[0] == 202
    (answer,) = answer_texts(bot, 1)
    assert "could not fetch the log of job linters: github api 404" in answer.lower()
    assert "format-check" in answer  # the payload's failed step is still the evidence


def test_unconfigured_provider_says_so(bot, ci_api, monkeypatch):
    bot.deps.settings.gitlab.token = None
    body = payload("gitlab_job_event_failed.json")
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-Gitlab-Token": "gl-token", "X-Gitlab-Event-UUID": "gl-2"}
    assert http("POST", bot.url + "/webhooks/gitlab", raw, headers)[0] == 202
    (answer,) = answer_texts(bot, 1)
    assert "gitlab is not configured" in answer and "CIBOT_GITLAB__TOKEN" in answer
    assert not ci_api.seen


def test_forwarded_alert_with_a_job_link_is_answered_from_the_log(bot, ci_api):
    seed_github(ci_api)
    job_url = f"https://github.com/{REPO}/actions/runs/{RUN}/job/{JOB}"
    bot.event({"type": "message", "channel": "CALERTS", "ts": "1700000001.000100", "bot_id": "BGH",
               "bot_profile": {"name": "GitHub"}, "text": "",
               "attachments": [{"color": "#cb2431", "title": "Workflow test failed on master",
                                "title_link": job_url, "text": "linters: failure"}]})
    (answer,) = answer_texts(bot, 1)
    assert "routes.ts" in answer


def test_mention_with_a_gitlab_job_link_fetches_it(bot, ci_api):
    ci_api.add_gitlab_pipeline("grp/app", 5, jobs=[(55, "rspec", "failed", TEST_LOG)])
    bot.mention(f"why did this fail? <{ci_api.gitlab_url}/grp/app/-/jobs/55>")
    (answer,) = answer_texts(bot, 1)
    assert "cart.test.ts" in answer


def test_links_to_other_hosts_are_never_fetched(bot, ci_api):
    bot.mention("why? <https://evil.example.com/octo-org/octo-repo/actions/runs/1/job/2> ```\nE: boom\n```")
    bot.mention(f"and? <http://127.0.0.1:1/{REPO}/actions/runs/1/job/2> ```\nE: bang\n```")
    answer_texts(bot, 2)
    assert not ci_api.seen


def test_tokens_never_appear_in_answers_or_logs(bot, ci_api, caplog):
    caplog.set_level(logging.DEBUG)
    seed_github(ci_api)
    ci_api.gh_logs[JOB] = FAILING + f"curl -H 'Authorization: token {GITHUB_TOKEN}' https://api\n".encode() + FAILING
    raw, headers = github_hook(payload("github_workflow_job_completed_failure.json"), "workflow_job", "d-4")
    http("POST", bot.url + "/webhooks/github", raw, headers)
    answer_texts(bot, 1)
    bot.mention(f"<{ci_api.jenkins_url}/job/nope/3/>")  # a 404 from Jenkins
    answer_texts(bot, 2)
    thread = bot.api.called("chat.postMessage")[0].response["ts"]
    stored = [(a.excerpt, a.root_cause, a.fix) for a in bot.store.thread_answers("CCI", thread)]
    assert stored and "routes.ts" in stored[0][0]
    everything = json.dumps([c.params for c in bot.api.calls]) + caplog.text + json.dumps(stored)
    for token in (GITHUB_TOKEN, GITLAB_TOKEN, JENKINS_TOKEN):
        assert token not in everything


# ------------------------------------------------------------------ cibot ask --url
@pytest.fixture
def cli_env(ci_api, monkeypatch):
    from bot.engine.pipeline import AnswerEngine as Engine

    for key, value in {**ci_api.env(), "CIBOT_GITHUB__WEB_URL": "https://github.com"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("bot.commands.ask._engine",
                        lambda settings, with_model: Engine(retriever=FakeRetriever([]), generator=None))


def test_ask_url_json_answers_the_fetched_job(ci_api, cli_env, capsys):
    import jsonschema

    from bot.cli import main

    seed_github(ci_api)
    url = f"https://github.com/{REPO}/actions/runs/{RUN}/job/{JOB}"
    assert main(["ask", "--url", url, "--json"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    jsonschema.validate(doc, json.loads((Path(__file__).parent.parent / "bot/data/answer.schema.json").read_text()))
    assert any("routes.ts" in e["text"] for e in doc["evidence"])
    assert "compared with the last passing run" in doc["note"].lower()
    assert GITHUB_TOKEN not in out


def test_ask_url_run_in_text_answers_each_failed_job(ci_api, cli_env, capsys):
    from bot.cli import main

    seed_github(ci_api, jobs=((JOB, "linters", "failure", FAILING), (JOB + 1, "test", "failure", TEST_LOG)))
    assert main(["ask", "--url", f"https://github.com/{REPO}/actions/runs/{RUN}"]) == 0
    out = capsys.readouterr().out
    assert "== job linters ==" in out and "== job test ==" in out and "cart.test.ts" in out


def test_ask_url_refuses_other_hosts_and_explains_fetch_failures(ci_api, cli_env, capsys):
    from bot.cli import main

    assert main(["ask", "--url", "https://example.org/o/r/actions/runs/1/job/2"]) == 2
    assert "not a job or run link of a configured CI provider" in capsys.readouterr().err
    assert main(["ask", "--url", f"https://github.com/{REPO}/actions/runs/1/job/2", "--json"]) == 1
    err = capsys.readouterr().err
    assert "github API 404" in err and "Traceback" not in err
    assert not [s for s in ci_api.seen if "example.org" in s.path]
