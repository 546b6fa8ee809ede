"""The real `cibot serve --http` process: start-up checks, /healthz, /readyz and /metrics.

A stdlib fake of Slack's Web API stands in for slack.com (CIBOT_SLACK_API_URL), as in Bolt's suite.
"""
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CIBOT = str(Path(sys.executable).parent / "cibot")
START_TIMEOUT_S = 420  # first start installs the model and builds the starter index on shared cores


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _FakeSlack(BaseHTTPRequestHandler):
    """Answers every Web API method with ok; enough for auth.test at start-up."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1", "user": "cibot",
                           "team": "test", "url": "https://test.slack.com/"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def fake_slack():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSlack)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory) -> Path:
    """One CIBOT_HOME for the module, so the model is installed and the index built only once."""
    return tmp_path_factory.mktemp("serve-home")


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIBOT_", "SLACK_"))}
    env.update(CIBOT_HOME=str(home), CIBOT_SERVER__HOST="127.0.0.1", CIBOT_SERVER__LOG_FORMAT="json", **extra)
    return env


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def _wait_for(url: str, proc: subprocess.Popen, accept, timeout: float = START_TIMEOUT_S):
    """Poll `url` until `accept(status, body)`; fail early, with the server's output, if it exits."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"cibot serve exited with {proc.returncode}:\n{_drain(proc)}")
        try:
            last = _get(url)
            if accept(last[0], last[2]):
                return last
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} never became acceptable (last: {last})\n{_drain(proc)}")


def _ready_or_failed(status: int, body: bytes) -> bool:
    """Accept ready; stop waiting at once when a check has failed for good (it never recovers)."""
    if status == 200:
        return True
    failed = {k: v for k, v in json.loads(body)["checks"].items() if v.startswith("failed")}
    if failed:
        pytest.fail(f"cibot serve will never be ready: {failed}")
    return False


def _drain(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.kill()
    out, _ = proc.communicate(timeout=30)
    return out[-4000:]


def _start(home: Path, port: int, fake_slack: str, **env: str) -> subprocess.Popen:
    environment = _env(
        home, SLACK_BOT_TOKEN="xoxb-1-test", SLACK_SIGNING_SECRET="test-signing-secret",
        CIBOT_SLACK_API_URL=fake_slack, **env,
    )
    return subprocess.Popen(
        [CIBOT, "serve", "--http", "--port", str(port), "--no-scheduler"],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()
    return proc.returncode


# --- start-up refusal ----------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    "given, missing",
    [({}, ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]),
     ({"SLACK_BOT_TOKEN": "xoxb-1-test"}, ["SLACK_SIGNING_SECRET"])],
)
def test_serve_http_without_slack_secrets_names_each_and_exits_before_binding(given, missing, tmp_path):
    # Hold the port ourselves: a server that bound before checking would fail with "address in use".
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [CIBOT, "serve", "--http", "--port", str(port), "--no-scheduler"],
            env=_env(tmp_path, **given), capture_output=True, text=True, timeout=120,
        )
    assert result.returncode != 0
    err = result.stderr.strip()
    for name in missing:
        assert name in err
    for name in {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"} - set(missing):
        assert name not in err
    assert "in use" not in err.lower() and "Traceback" not in err
    assert len(err.splitlines()) <= len(missing), err


# --- a running server ----------------------------------------------------------------------------


@pytest.mark.integration
def test_serve_http_answers_healthz_readyz_and_metrics(shared_home, fake_slack):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(shared_home, port, fake_slack)
    try:
        status, _, body = _wait_for(f"{base}/healthz", proc, lambda s, b: s == 200)
        status, content_type, body = _wait_for(f"{base}/readyz", proc, lambda s, b: s in (200, 503))
        # Not ready is a 503 with the pending checks named; then it turns ready once everything loaded.
        assert status == 200 or set(json.loads(body)["checks"]) >= {"model", "index", "database"}
        status, _, body = _wait_for(f"{base}/readyz", proc, _ready_or_failed)
        checks = json.loads(body)["checks"]
        assert {checks[name] for name in ("model", "index", "database")} == {"ok"}

        status, content_type, body = _get(f"{base}/metrics")
        text = body.decode()
        assert status == 200 and content_type.startswith("text/plain")
        for family in ("cibot_requests_total", "cibot_answer_stage_seconds", "cibot_feedback_total",
                       "cibot_retrain_runs_total", "cibot_queue_depth"):
            assert f"# HELP {family}" in text, family
        # The serving adapter is published once loaded.
        assert "cibot_adapter_info{" in text and 'version="' in text
        assert _get(f"{base}/nope")[0] == 404
    finally:
        returncode = _stop(proc)
    assert returncode in (0, -signal.SIGTERM), returncode


@pytest.mark.integration
@pytest.mark.parametrize("what", ["index", "model"])
def test_readyz_never_reports_ready_when_the_model_or_index_fails_to_load(what, shared_home, fake_slack,
                                                                         tmp_path):
    # The index case is fast (nothing listens on the Chroma port); the model case reuses the index
    # that the test above built in the shared home.
    broken = ({"CIBOT_RETRIEVAL__MODE": "http", "CIBOT_RETRIEVAL__CHROMA_HOST": "127.0.0.1",
               "CIBOT_RETRIEVAL__CHROMA_PORT": str(_free_port())} if what == "index"
              else {"CIBOT_MODEL__BASE": str(tmp_path / "no-such-model")})
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(shared_home, port, fake_slack, **broken)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                # Refusing to run at all is also an acceptable answer to a component that cannot load.
                assert proc.returncode != 0
                return
            try:
                status, _, body = _get(f"{base}/readyz")
            except OSError:
                time.sleep(0.5)
                continue
            assert status == 503, body
            checks = json.loads(body)["checks"]
            if any(state.startswith(("failed", "error")) for state in checks.values()):
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"the {what} failure was never reported")
        # And it stays not ready: a failed load is sticky.
        time.sleep(1.0)
        assert _get(f"{base}/readyz")[0] == 503
        assert _get(f"{base}/healthz")[0] == 200
    finally:
        _stop(proc)
