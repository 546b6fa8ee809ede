"""One HTTP app for everything inbound: Slack events, CI webhooks, health, readiness, metrics.

A Starlette app served by uvicorn. Slack events go through Bolt's Starlette adapter, /metrics is
prometheus_client's ASGI app, and the webhooks are routes. Bolt's dispatch and the webhook work
(signature checks, a database claim, a queue put) run in the thread pool, so the event loop keeps
accepting while they do; each returns fast (Bolt acks before listeners run; webhooks only verify,
claim and enqueue), so a slow answer never holds up an ack.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import socket
import threading
import time

import uvicorn
from prometheus_client import make_asgi_app
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.server.observability import REGISTRY, new_request_id
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
READ_TIMEOUT_S = 10.0  # for a request's headers, and again for its body
BACKLOG = 256  # the kernel's accept queue: a burst of webhooks or probes waits here, not reset


class _Reject(Exception):
    def __init__(self, status: int, error: str):
        super().__init__(error)
        self.status, self.error = status, error


def build_asgi(deps: SlackDeps, app) -> Starlette:
    """The ASGI app: routes for Slack, the webhooks and the probes, JSON errors everywhere."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ready, detail = deps.readiness.status() if deps.readiness is not None else (True, {})
        return JSONResponse({"ready": ready, "checks": detail}, status_code=200 if ready else 503)

    async def slack_events(request: Request) -> Response:
        new_request_id()
        body = await _body(request)
        if not _object_or_form(body, request.headers.get("content-type")):
            return _error(400, "malformed request body: expected a JSON object or a form")
        try:
            bolt_request = to_bolt_request(request, body)
        except ValueError:  # not UTF-8, or JSON that Bolt cannot parse
            return _error(400, "malformed request body")
        return to_starlette_response(await run_in_threadpool(app.dispatch, bolt_request))

    async def webhook(request: Request) -> Response:
        new_request_id()
        provider = request.path_params["provider"]
        if provider not in PROVIDERS:
            return _error(404, "unknown webhook")
        body = await _body(request)
        status, payload = await run_in_threadpool(handle_webhook, deps, app.client, provider,
                                                  dict(request.headers.items()), body)
        return JSONResponse(payload, status_code=status)

    return Starlette(routes=[
        Route("/healthz", _guarded(healthz), methods=["GET"]),
        Route("/readyz", _guarded(readyz), methods=["GET"]),
        Route("/metrics", _AsgiEndpoint(make_asgi_app(registry=REGISTRY)), methods=["GET"]),
        Route("/slack/events", _guarded(slack_events), methods=["POST"]),
        Route("/webhooks/{provider}", _guarded(webhook), methods=["POST"]),
    ], exception_handlers={HTTPException: _http_error})


def _guarded(endpoint):
    """Every failure of one request becomes its response: one bad request never takes the server
    down, and a client that hung up is not an error."""

    @functools.wraps(endpoint)
    async def run(request: Request) -> Response:
        try:
            return await endpoint(request)
        except _Reject as exc:
            return _error(exc.status, exc.error)
        except ClientDisconnect:
            log.debug("client went away mid-request")
            return Response(status_code=499)  # nobody is listening
        except Exception:
            log.exception("request failed", extra={"path": request.url.path})
            return _error(500, "internal error")
    return run


def _http_error(request: Request, exc: HTTPException) -> Response:
    return _error(exc.status_code, "not found" if exc.status_code == 404 else str(exc.detail).lower())


class _AsgiEndpoint:
    """Mounts an ASGI app at one exact path (Starlette calls a plain function as a request handler)."""

    def __init__(self, asgi):
        self.asgi = asgi

    async def __call__(self, scope, receive, send) -> None:
        await self.asgi(scope, receive, send)


async def _body(request: Request) -> bytes:
    """The whole body, within MAX_BODY and READ_TIMEOUT_S (a stalled or endless body is refused)."""
    declared = request.headers.get("content-length")
    if declared is not None and int(declared) > MAX_BODY:  # h11 has checked that it is digits
        raise _Reject(413, "payload too large")
    chunks: list[bytes] = []
    size = 0

    async def read() -> None:
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise _Reject(413, "payload too large")
            chunks.append(chunk)

    try:
        await asyncio.wait_for(read(), READ_TIMEOUT_S)
    except asyncio.TimeoutError:
        raise _Reject(408, "request body not received in time") from None
    return b"".join(chunks)


def _error(status: int, error: str) -> JSONResponse:
    headers = {"connection": "close"} if status in (400, 408, 413) else None
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _object_or_form(body: bytes, content_type: str | None) -> bool:
    """Slack sends a JSON object (events) or a form (commands, interactivity); nothing else is one."""
    if "json" not in (content_type or "").lower():
        return True
    try:
        return isinstance(json.loads(body.decode("utf-8")), dict)
    except (UnicodeDecodeError, ValueError):
        return True  # Bolt answers malformed JSON with its own 400


# --- webhooks ------------------------------------------------------------------------------------

PROVIDERS = {"github": parse_github, "gitlab": parse_gitlab, "generic": parse_generic}


def handle_webhook(deps: SlackDeps, client, provider: str, headers: dict, body: bytes) -> tuple[int, dict]:
    """(status, JSON reply) for one delivery: verified, parsed, and queued unless it is a replay."""
    hooks = deps.settings.webhooks
    secret = {"github": hooks.github_secret, "gitlab": hooks.gitlab_token, "generic": hooks.generic_secret}[provider]
    try:
        failure = PROVIDERS[provider](headers, body, _secret(secret))
    except WebhookRejected as exc:
        return 401, {"error": str(exc)}
    except InputError as exc:
        return 400, {"error": str(exc)}
    except (AttributeError, TypeError, ValueError, KeyError) as exc:  # a signed payload of the wrong shape
        return 400, {"error": f"malformed {provider} payload ({type(exc).__name__})"}
    if failure is None:
        return 202, {"status": "ignored", "reason": "not a failure"}
    failure.body_digest = hashlib.sha256(body).hexdigest()
    return 202, {"status": post_failure(deps, client, failure)}


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


# --- the server ----------------------------------------------------------------------------------

class _H11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, plus a deadline for a request's headers: a client that opens a
    connection and trickles (or never sends) them is closed, as uvicorn itself only times out idle
    keep-alive connections."""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._headers_due = self.loop.call_later(READ_TIMEOUT_S, self._headers_late)

    def _headers_late(self) -> None:
        if self.cycle is None and not self.transport.is_closing():  # no request has started
            self.transport.close()

    def connection_lost(self, exc) -> None:
        self._headers_due.cancel()
        super().connection_lost(exc)


class HttpServer:
    """uvicorn in a background thread, on a socket bound up front (so a taken port fails here,
    in the caller, and port 0 is known at once)."""

    def __init__(self, asgi, host: str, port: int):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.listen(BACKLOG)
        self.server_address = self.sock.getsockname()[:2]
        config = uvicorn.Config(asgi, log_config=None, access_log=False, lifespan="off", http=_H11,
                                ws="none", timeout_keep_alive=int(READ_TIMEOUT_S), backlog=BACKLOG,
                                server_header=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="cibot-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"http://{host}:{port}"

    def start(self, timeout_s: float = 10.0) -> HttpServer:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start (see the log above)")
            time.sleep(0.01)
        return self

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Stop accepting, let requests in flight finish (up to timeout_s), then return."""
        self.server.should_exit = True
        self.thread.join(timeout_s)

    def server_close(self) -> None:
        self.sock.close()


def start_http(deps: SlackDeps, app, host: str, port: int) -> tuple[HttpServer, threading.Thread]:
    """Bind and serve in a background thread; returns the server (its .url has the real port)."""
    server = HttpServer(build_asgi(deps, app), host, port).start()
    return server, server.thread
