"""One HTTP server for everything inbound: Slack events, CI webhooks, health, readiness, metrics.

stdlib ThreadingHTTPServer: each request gets a thread, and every handler returns fast (Bolt acks
before listeners run; webhooks only verify, claim and enqueue), so a slow answer never blocks an ack.
"""
from __future__ import annotations

import hashlib
import json
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from bot.server.observability import new_request_id, render_metrics
from bot.server.webhooks import (
    CiFailure,
    WebhookRejected,
    alert_text,
    parse_generic,
    parse_github,
    parse_gitlab,
)
from bot.slack.answering import Ask, submit
from bot.slack.deps import SlackDeps
from retrieval.errors import InputError

log = logging.getLogger(__name__)
MAX_BODY = 32 * 1024 * 1024  # a webhook may carry a whole log; beyond this it is not one we want
READ_TIMEOUT_S = 10


def content_length(value: str | None) -> tuple[int, str | None]:
    """The declared body size, or a one-line reason it is not acceptable."""
    if value is None or not value.strip():
        return 0, None
    if not value.strip().isdigit():
        return 0, "invalid Content-Length"
    length = int(value)
    if length > MAX_BODY:
        return length, "payload too large"
    return length, None


class CibotHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # The kernel's accept queue: a burst of webhooks or probes waits here instead of being reset.
    request_queue_size = 256

    def __init__(self, address, deps: SlackDeps, app):
        super().__init__(address, Handler)
        self.deps, self.app = deps, app

    def handle_error(self, request, client_address) -> None:
        """One JSON log line, never socketserver's raw traceback: a client that hangs up or stalls
        is routine, anything else is logged as an error."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):
            log.debug("client connection ended: %s", type(exc).__name__)
        else:
            log.error("connection failed", exc_info=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class Handler(BaseHTTPRequestHandler):
    server: CibotHTTPServer
    protocol_version = "HTTP/1.1"
    # Seconds a connection may sit idle or trickle its headers or body; then it is closed.
    timeout = READ_TIMEOUT_S

    def log_message(self, fmt: str, *args) -> None:  # access logs at debug: Slack is chatty
        log.debug("http %s", fmt % args)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/healthz":
            self._send(200, {"status": "ok"})
        elif path == "/readyz":
            ready, detail = self._readiness()
            self._send(200 if ready else 503, {"ready": ready, "checks": detail})
        elif path == "/metrics":
            body, content_type = render_metrics()
            self._send_raw(200, body, content_type)
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        new_request_id()
        path = urlsplit(self.path).path
        length, problem = content_length(self.headers.get("Content-Length"))
        if problem:
            self._send(413 if length > MAX_BODY else 400, {"error": problem})
            self.close_connection = True
            return
        if path != "/slack/events" and not path.startswith("/webhooks/"):
            self._send(404, {"error": "not found"})
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client hung up mid-body
            self.close_connection = True
            return
        try:
            if path == "/slack/events":
                self._slack(body)
            elif path.startswith("/webhooks/"):
                self._webhook(path.removeprefix("/webhooks/"), body)
            else:
                self._send(404, {"error": "not found"})
        except Exception:  # one bad request never takes the server down
            log.exception("request failed", extra={"path": path})
            self._send(500, {"error": "internal error"})

    def _slack(self, body: bytes) -> None:
        from slack_bolt.request import BoltRequest

        headers = {k.lower(): [v] for k, v in self.headers.items()}
        if not _object_or_form(body, self.headers.get("Content-Type")):
            self._send(400, {"error": "malformed request body: expected a JSON object or a form"})
            return
        try:
            request = BoltRequest(body=body.decode("utf-8", errors="replace"), query=urlsplit(self.path).query,
                                  headers=headers)
        except ValueError:  # Bolt parses the body up front; malformed JSON lands here
            self._send(400, {"error": "malformed request body"})
            return
        response = self.server.app.dispatch(request)
        out = response.body.encode("utf-8") if isinstance(response.body, str) else (response.body or b"")
        content_type = (response.headers.get("content-type") or ["text/plain;charset=utf-8"])[0]
        self._send_raw(response.status, out, content_type)

    def _webhook(self, provider: str, body: bytes) -> None:
        hooks = self.server.deps.settings.webhooks
        parsers = {
            "github": lambda h: parse_github(h, body, _secret(hooks.github_secret)),
            "gitlab": lambda h: parse_gitlab(h, body, _secret(hooks.gitlab_token)),
            "generic": lambda h: parse_generic(h, body, _secret(hooks.generic_secret)),
        }
        if provider not in parsers:
            self._send(404, {"error": "unknown webhook"})
            return
        try:
            failure = parsers[provider](dict(self.headers.items()))
        except WebhookRejected as exc:
            self._send(401, {"error": str(exc)})
            return
        except InputError as exc:
            self._send(400, {"error": str(exc)})
            return
        except (AttributeError, TypeError, ValueError, KeyError) as exc:  # a signed payload of the wrong shape
            self._send(400, {"error": f"malformed {provider} payload ({type(exc).__name__})"})
            return
        if failure is None:
            self._send(202, {"status": "ignored", "reason": "not a failure"})
            return
        failure.body_digest = hashlib.sha256(body).hexdigest()
        self._send(202, {"status": post_failure(self.server.deps, self.server.app.client, failure)})

    def _readiness(self):
        readiness = self.server.deps.readiness
        return readiness.status() if readiness is not None else (True, {})

    def _send(self, status: int, payload: dict) -> None:
        self._send_raw(status, json.dumps(payload).encode(), "application/json")

    def _send_raw(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _object_or_form(body: bytes, content_type: str | None) -> bool:
    """Slack sends a JSON object (events) or a form (commands, interactivity); nothing else is one."""
    if "json" not in (content_type or "").lower():
        return True
    try:
        return isinstance(json.loads(body.decode("utf-8")), dict)
    except (UnicodeDecodeError, ValueError):
        return True  # Bolt answers malformed JSON with its own 400 below


def _secret(value) -> str | None:
    return value.get_secret_value() if value is not None else None


def post_failure(deps: SlackDeps, client, failure: CiFailure) -> str:
    """Queue alert + analysis for the repository's channel; a replayed delivery is a duplicate."""
    hooks = deps.settings.webhooks
    channel = hooks.repo_channels.get(failure.repo) or hooks.default_channel
    if not channel:
        log.warning("no channel for repository", extra={"repo": failure.repo})
        return "ignored: no channel configured for this repository"
    if failure.body_digest and not _claim_body(deps, failure):
        return "duplicate"
    ask = Ask(
        surface="webhook", channel=channel, request_key=failure.claim_key,
        question=f"Why did {failure.job} fail?", thread_ts=None,
        log=failure.log or f"CI job {failure.job} in {failure.repo} failed (the webhook carried no log).",
        root_text=alert_text(failure), ci_config=failure.ci_config, ci_config_name=failure.ci_config_name,
        explicit=False, target=failure.target,
    )
    return submit(deps, client, ask)


def _claim_body(deps: SlackDeps, failure: CiFailure) -> bool:
    """The same signed body under a new (or no) delivery id is a replay, within the window."""
    window = deps.settings.webhooks.dedupe_window_s
    try:
        return deps.store.claim_within(f"{failure.provider}:body:{failure.body_digest}", window)
    except Exception:  # a store outage must not silence the bot
        log.exception("body claim failed; answering anyway")
        return True


def start_http(deps: SlackDeps, app, host: str, port: int) -> tuple[CibotHTTPServer, threading.Thread]:
    """Bind and serve in a background thread; returns the server (its .url has the real port)."""
    server = CibotHTTPServer((host, port), deps, app)
    thread = threading.Thread(target=server.serve_forever, name="cibot-http", daemon=True)
    thread.start()
    return server, thread
