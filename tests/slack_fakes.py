"""Test doubles for the Slack tests: a recording fake Web API on 127.0.0.1:0, a fake answer
engine, and helpers to sign requests the way Slack does."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from local_server import LocalServer

from bot.engine.answer import Answer, SourceRef
from retrieval.types import LogLine

BOT_USER = "UBOT"
BOT_ID = "BBOT"
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"


@dataclass
class Call:
    method: str
    params: dict
    headers: dict = field(default_factory=dict)
    response: dict = field(default_factory=dict)


class FakeSlackAPI(LocalServer):
    """Answers Web API methods under /api/, serves files under /files/, records every call."""

    def __init__(self):
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.failures: dict[str, list[tuple[int, dict, dict]]] = {}
        self.responses: dict[str, dict] = {}
        self.ws_url = "ws://127.0.0.1:1/"
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._handle()

            def do_POST(self):
                self._handle()

            def _handle(self):
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if url.path.startswith("/files/"):
                    return api._serve_file(self, url.path.removeprefix("/files/"))
                status, body, headers = api._answer(url.path.rsplit("/", 1)[-1], url.query, raw, dict(self.headers))
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._serve(Handler)

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def fail(self, method: str, times: int = 1, status: int = 429, body: dict | None = None,
             headers: dict | None = None) -> None:
        """The next `times` calls of `method` answer `status` (429 with Retry-After: 0 by default)."""
        headers = headers if headers is not None else ({"Retry-After": "0"} if status == 429 else {})
        self.failures.setdefault(method, []).extend([(status, body or {"ok": False, "error": "ratelimited"}, headers)] * times)

    def _serve_file(self, handler, name: str) -> None:
        data = self.files.get(name)
        with self._lock:
            self.calls.append(Call("files." + name, {}, dict(handler.headers)))
        handler.send_response(200 if data is not None else 404)
        handler.send_header("Content-Length", str(len(data or b"")))
        handler.end_headers()
        handler.wfile.write(data or b"")

    def _answer(self, method: str, query: str, raw: bytes, headers: dict) -> tuple[int, dict, dict]:
        params = dict(parse_qsl(query))
        if raw:
            ctype = headers.get("Content-Type", "")
            params.update(json.loads(raw) if "json" in ctype else dict(parse_qsl(raw.decode())))
        with self._lock:
            call = Call(method, params, headers)
            self.calls.append(call)
            pending = self.failures.get(method)
            if pending:
                call.response = pending[0][1]
                return pending.pop(0)
            call.response = self._ok(method, params)
        return 200, call.response, {}

    def _ok(self, method: str, params: dict) -> dict:
        if method in self.responses:
            return self.responses[method]
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": "T1", "user": "cibot"}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.ws_url}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": f"{2000000000 + next(self._ts)}.000100"}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": "1.2"}
        return {"ok": True, "ts": params.get("ts")}

    # ---- assertions ----
    def called(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0, where=None) -> list[Call]:
        """Poll until `count` calls of `method` (matching `where`) were recorded."""
        deadline = time.monotonic() + timeout
        while True:
            calls = [c for c in self.called(method) if where is None or where(c)]
            if len(calls) >= count or time.monotonic() > deadline:
                return calls
            time.sleep(0.01)

    def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> None:
        """Wait until no new call arrived for `quiet` seconds (to check something did NOT happen)."""
        deadline = time.monotonic() + timeout
        seen = -1
        while time.monotonic() < deadline:
            n = len(self.calls)
            if n == seen:
                return
            seen = n
            time.sleep(quiet)


ANSWER = Answer(
    route="rag",
    root_cause="The lockfile pins node-gyp 9, which cannot build on Node 22.",
    fix="Upgrade node-gyp to 10 and regenerate package-lock.json.",
    evidence=[LogLine(41, "npm ERR! gyp ERR! build error"), LogLine(42, "npm ERR! code 1")],
    sources=[SourceRef("Node native builds", "https://runbooks.example/node-gyp", 0.91)],
    confidence=0.8,
    model={"base": "cibot-tiny", "adapter": "v3"},
    timings={"total": 1.2},
    category="dependency",
)


class FakeEngine:
    """Returns a fixed Answer after `delay` seconds; records every request; can raise instead."""

    def __init__(self, answer: Answer = ANSWER, delay: float = 0.0, error: Exception | None = None):
        self.fixed, self.delay, self.error = answer, delay, error
        self.requests = []
        self._lock = threading.Lock()

    def answer(self, request):
        with self._lock:
            self.requests.append(request)
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return replace(self.fixed)


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict:
    """Slack's v0 request signature headers for `body`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": ts, "x-slack-signature": f"v0={digest}"}


_event_ids = itertools.count(1)


def event_body(event: dict, event_id: str | None = None) -> dict:
    return {
        "token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):06d}", "event_time": int(time.time()),
        "authorizations": [{"team_id": "T1", "user_id": BOT_USER, "is_bot": True}],
        "event": event,
    }


class Harness:
    """A Bolt app wired like production (real Store on SQLite, real pool) against FakeSlackAPI."""

    def __init__(self, engine: FakeEngine | None = None, **slack_settings):
        from pydantic import SecretStr

        from bot.settings import load_settings
        from bot.slack.app import build_app
        from bot.slack.deps import SlackDeps
        from bot.store import Store

        self.api = FakeSlackAPI()
        settings = load_settings()
        settings.slack.bot_token = SecretStr(BOT_TOKEN)
        settings.slack.signing_secret = SecretStr(SIGNING_SECRET)
        settings.slack.api_url = self.api.api_url
        for key, value in slack_settings.items():
            setattr(settings.slack, key, value)
        self.settings = settings
        self.store = Store.open(settings.store_url)
        self.engine = engine or FakeEngine()
        self.deps = SlackDeps(settings=settings, store=self.store, engine=lambda: self.engine)
        self.app = build_app(self.deps)
        self._ts = itertools.count(1)

    def close(self) -> None:
        self.deps.pool.shutdown(wait=True)
        self.api.close()
        self.store.close()

    def next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def dispatch(self, body: str, content_type: str = "application/json", headers: dict | None = None,
                 signed: bool = True):
        from slack_bolt.request import BoltRequest

        all_headers = {"content-type": [content_type]}
        if signed:
            all_headers.update({k: [v] for k, v in sign(body).items()})
        all_headers.update({k: [v] for k, v in (headers or {}).items()})
        return self.app.dispatch(BoltRequest(body=body, headers=all_headers))

    def event(self, event: dict, event_id: str | None = None, headers: dict | None = None):
        return self.dispatch(json.dumps(event_body(event, event_id)), headers=headers)

    def interact(self, payload: dict):
        from urllib.parse import urlencode

        body = urlencode({"payload": json.dumps(payload)})
        return self.dispatch(body, content_type="application/x-www-form-urlencoded")

    def mention(self, text: str, channel: str = "C1", user: str = "U1", ts: str | None = None, **extra):
        ts = ts or self.next_ts()
        event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts,
                 "channel": channel, "event_ts": ts, **extra}
        return ts, self.event(event)

    def answered(self, count: int = 1, timeout: float = 5.0):
        """chat.update calls that carry an answer (the feedback buttons), waited for."""
        return self.api.wait_for("chat.update", count, timeout, where=lambda c: "feedback_up" in json.dumps(c.params))
