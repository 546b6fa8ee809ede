"""`cibot serve` end to end: a real subprocess, real HTTP, Slack-signed events and CI webhooks,
posting to a fake Web API. Plus the Socket Mode path against a fake Socket Mode server."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from slack_fakes import (
    BOT_TOKEN,
    BOT_USER,
    SIGNING_SECRET,
    FakeSlackAPI,
    Harness,
    event_body,
    sign,
)

from bot.server.webhooks import hmac_sha256

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).with_name("slack_serve_driver.py")


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def serve_env(api: FakeSlackAPI, home: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIBOT_", "SLACK_"))}
    env.update({
        "CIBOT_HOME": str(home), "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "CIBOT_SLACK_API_URL": api.api_url, "CIBOT_WEBHOOKS__GITHUB_SECRET": "gh-secret",
        "CIBOT_WEBHOOKS__GITLAB_TOKEN": "gl-token", "CIBOT_WEBHOOKS__GENERIC_SECRET": "gen-secret",
        "CIBOT_WEBHOOKS__REPO_CHANNELS": json.dumps({"acme/api": "CREPO"}),
        "CIBOT_WEBHOOKS__DEFAULT_CHANNEL": "CDEFAULT", "CIBOT_SERVER__LOG_FORMAT": "json", **extra,
    })
    return env


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    api = FakeSlackAPI()
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER), "serve", "--http", "--host", "127.0.0.1", "--port", "0", "--no-scheduler"],
        env=serve_env(api, tmp_path_factory.mktemp("home")), stderr=subprocess.PIPE, text=True, cwd=REPO,
    )
    url = None
    deadline = time.monotonic() + 60
    while url is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if line.startswith("cibot: listening on "):
            url = line.split()[3]
    assert url, "cibot serve did not start"
    drain = threading.Thread(target=proc.stderr.read, daemon=True)
    drain.start()
    yield url, api, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    api.close()


def post_event(url: str, event: dict, event_id: str, headers: dict | None = None, secret: str = SIGNING_SECRET):
    body = json.dumps(event_body(event, event_id))
    all_headers = {"Content-Type": "application/json", **sign(body, secret), **(headers or {})}
    return http("POST", url + "/slack/events", body.encode(), all_headers)


def answers_in(api: FakeSlackAPI, channel: str, count: int = 1, timeout: float = 10.0):
    return api.wait_for("chat.update", count, timeout,
                        where=lambda c: c.params.get("channel") == channel and "feedback_up" in json.dumps(c.params))


def test_health_readiness_and_metrics(served):
    url, _, _ = served
    assert http("GET", url + "/healthz")[0] == 200
    deadline = time.monotonic() + 10
    while (status := http("GET", url + "/readyz"))[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status[0] == 200 and json.loads(status[1])["checks"]["database"] == "ok"
    status, body = http("GET", url + "/metrics")
    assert status == 200 and b"cibot_queue_depth" in body


def test_signed_mention_over_http_is_acked_fast_and_answered_once(served):
    url, api, _ = served
    event = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> ```\nE: boom\n```",
             "ts": "1700000100.000001", "channel": "CHTTP"}
    started = time.perf_counter()
    status, _ = post_event(url, event, "EvHttp1")
    assert status == 200 and time.perf_counter() - started < 3
    status, _ = post_event(url, event, "EvHttp1", headers={"X-Slack-Retry-Num": "1"})
    assert status == 200
    assert answers_in(api, "CHTTP")
    api.settle()
    assert len(answers_in(api, "CHTTP")) == 1


def test_bad_signature_and_stale_timestamp_are_401_over_http(served):
    url, api, _ = served
    event = {"type": "app_mention", "user": "U1", "text": "x", "ts": "1.1", "channel": "CBAD"}
    assert post_event(url, event, "EvBad", secret="nope")[0] == 401
    body = json.dumps(event_body(event, "EvStale"))
    stale = sign(body, timestamp=int(time.time()) - 3600)
    assert http("POST", url + "/slack/events", body.encode(), {"Content-Type": "application/json", **stale})[0] == 401


def test_malformed_json_is_400_and_unknown_path_404(served):
    url, _, _ = served
    body = b"{not json"
    assert http("POST", url + "/slack/events", body, {"Content-Type": "application/json", **sign(body.decode())})[0] == 400
    assert http("POST", url + "/nope", b"{}")[0] == 404


def github_delivery(delivery: str, secret: str = "gh-secret", conclusion: str = "failure"):
    body = json.dumps({"workflow_run": {"name": "CI", "conclusion": conclusion, "head_branch": "main",
                                        "html_url": "https://github.com/acme/api/actions/runs/1"},
                       "repository": {"full_name": "acme/api"}, "log": "Error: Cannot find module 'left-pad'"}).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "workflow_run", "X-GitHub-Delivery": delivery,
               "X-Hub-Signature-256": hmac_sha256(secret, body)}
    return body, headers


def test_github_webhook_posts_alert_and_analysis_once(served):
    url, api, _ = served
    body, headers = github_delivery("gh-1")
    assert http("POST", url + "/webhooks/github", body, headers)[0] == 202
    assert http("POST", url + "/webhooks/github", body, headers)[0] == 202  # replayed delivery
    assert answers_in(api, "CREPO")
    api.settle()
    roots = [c for c in api.called("chat.postMessage") if c.params["channel"] == "CREPO" and not c.params.get("thread_ts")]
    assert len(roots) == 1 and "CI failed" in roots[0].params["text"] and "acme/api" in roots[0].params["text"]
    assert len(answers_in(api, "CREPO")) == 1


def test_webhook_with_wrong_hmac_is_401(served):
    url, api, _ = served
    body, headers = github_delivery("gh-2", secret="wrong")
    assert http("POST", url + "/webhooks/github", body, headers)[0] == 401
    body = json.dumps({"repo": "x/y", "job": "build", "log": "E"}).encode()
    assert http("POST", url + "/webhooks/generic", body, {"X-Cibot-Signature-256": "sha256=00"})[0] == 401


def test_github_success_is_ignored(served):
    url, _, _ = served
    body, headers = github_delivery("gh-3", conclusion="success")
    status, reply = http("POST", url + "/webhooks/github", body, headers)
    assert status == 202 and json.loads(reply)["status"] == "ignored"


def test_gitlab_job_and_generic_webhooks_go_to_default_channel(served):
    url, api, _ = served
    job = json.dumps({"object_kind": "build", "build_status": "failed", "build_name": "unit", "build_id": 9,
                      "project": {"path_with_namespace": "grp/other", "web_url": "https://gitlab.example/grp/other"},
                      "build_failure_reason": "script_failure"}).encode()
    assert http("POST", url + "/webhooks/gitlab", job, {"X-Gitlab-Token": "bad"})[0] == 401
    assert http("POST", url + "/webhooks/gitlab", job, {"X-Gitlab-Token": "gl-token", "X-Gitlab-Event-UUID": "u-9"})[0] == 202
    generic = json.dumps({"id": "g-1", "repo": "acme/api", "job": "deploy", "url": "https://ci.example/1",
                          "log": "FATAL: kubectl: context not found"}).encode()
    signed = {"X-Cibot-Signature-256": hmac_sha256("gen-secret", generic)}
    assert http("POST", url + "/webhooks/generic", generic, signed)[0] == 202
    assert answers_in(api, "CDEFAULT")
    bad_json = b"{broken"
    assert http("POST", url + "/webhooks/generic", bad_json, {"X-Cibot-Signature-256": hmac_sha256("gen-secret", bad_json)})[0] == 400


def test_sigterm_stops_the_server(served):
    _, _, proc = served
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("mode, missing", [("--http", "SLACK_SIGNING_SECRET"), ("--socket", "SLACK_APP_TOKEN")])
def test_missing_secrets_exit_before_binding(tmp_path, mode, missing):
    api = FakeSlackAPI()
    try:
        port = free_port()
        env = serve_env(api, tmp_path)
        env.pop("SLACK_SIGNING_SECRET")
        env.pop("SLACK_BOT_TOKEN")
        proc = subprocess.run([sys.executable, "-m", "bot", "serve", mode, "--port", str(port), "--host", "127.0.0.1"],
                              env=env, capture_output=True, text=True, timeout=60, cwd=REPO)
        assert proc.returncode != 0
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "SLACK_BOT_TOKEN" in lines[0] and missing in lines[0]
        assert api.calls == []  # nothing talked to Slack, and the port was never taken
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
    finally:
        api.close()


def test_socket_mode_receives_events_and_acks(tmp_path):
    from pydantic import SecretStr
    from websockets.sync.server import serve

    from bot.server.service import _start_socket

    acks: list[dict] = []
    envelope = {"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
                "payload": event_body({"type": "app_mention", "user": "U1", "channel": "CSOCK", "ts": "1700000200.000001",
                                       "text": f"<@{BOT_USER}> ```\nE: socket boom\n```"}, "EvSock1")}

    def handler(ws):
        ws.send(json.dumps({"type": "hello", "num_connections": 1}))
        ws.send(json.dumps(envelope))
        try:
            for message in ws:
                acks.append(json.loads(message))
        except Exception:
            pass

    with serve(handler, "127.0.0.1", 0) as ws_server:
        threading.Thread(target=ws_server.serve_forever, daemon=True).start()
        h = Harness()
        h.api.ws_url = f"ws://127.0.0.1:{ws_server.socket.getsockname()[1]}/"
        h.settings.slack.app_token = SecretStr("xapp-test")
        socket_handler = _start_socket(h.app, h.settings)
        try:
            assert h.answered(timeout=10)
            assert h.api.called("apps.connections.open")
            deadline = time.monotonic() + 5
            while not acks and time.monotonic() < deadline:
                time.sleep(0.01)
            assert acks and acks[0]["envelope_id"] == "env-1"
        finally:
            socket_handler.close()
            h.close()
            ws_server.shutdown()
