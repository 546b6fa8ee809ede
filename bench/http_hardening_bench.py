"""The HTTP server under hostile-but-fair load, the probe of issue 20, as figures.

Starts the real server (bot/server/http.py) in-process with the real Bolt app, store and a fake
Slack Web API, and an answer engine that returns at once. Then, on loopback:
  1. 200 concurrent GET /healthz (x3 rounds): failures (resets, refused), 5xx, p50/p95 latency
  2. 50 parallel signed GitHub webhooks (x3 rounds): resets, 5xx, answers posted
  3. 100 connections that send headers and never the body: how long until the server lets go
  4. malformed requests (bad Content-Length, non-object JSON, mistyped signed payloads): statuses
  5. the same signed body with 3 new delivery ids: answers posted
  6. lines of the server's log stream that are not JSON (raw tracebacks)

    python bench/http_hardening_bench.py
"""
from __future__ import annotations

import concurrent.futures as cf
import io
import json
import logging
import os
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("CIBOT_HOME", tempfile.mkdtemp(prefix="cibot-bench-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from raw_http import exchange, github  # noqa: E402
from slack_fakes import Harness, sign  # noqa: E402

from bot.server.http import start_http  # noqa: E402


def raw_request(port: int, data: bytes, timeout: float = 20.0) -> tuple[int | None, float, str]:
    started = time.perf_counter()
    try:
        return exchange(port, data, timeout), time.perf_counter() - started, ""
    except OSError as exc:
        return None, time.perf_counter() - started, type(exc).__name__


def get(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()


def post(port: int, path: str, body: bytes, headers: dict) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(body)}\r\n{head}\r\n"
            .encode() + body)


def run_body(i: int) -> dict:
    return {"workflow_run": {"name": f"CI {i}", "conclusion": "failure", "head_branch": "main"},
            "repository": {"full_name": "acme/api"}, "log": f"Error: Cannot find module 'left-pad-{i}'"}


def concurrent(port: int, payloads: list[bytes], workers: int) -> list[tuple[int | None, float, str]]:
    with cf.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda p: raw_request(port, p), payloads))


def main() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    from bot.server.observability import JsonFormatter

    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    stderr, sys.stderr = sys.stderr, stream  # socketserver prints tracebacks straight to stderr
    os.environ.update({"CIBOT_WEBHOOKS__GITHUB_SECRET": "gh-secret", "CIBOT_WEBHOOKS__DEFAULT_CHANNEL": "CCI",
                       "CIBOT_WEBHOOKS__REPO_CHANNELS": json.dumps({"acme/dedupe": "CDEDUPE"})})
    harness = Harness()
    server, _ = start_http(harness.deps, harness.app, "127.0.0.1", 0)
    port = server.server_address[1]
    out = []
    try:
        for rnd in range(3):
            res = concurrent(port, [get(port, "/healthz")] * 200, 200)
            ok = [t for s, t, _ in res if s == 200]
            fails = [e or str(s) for s, _, e in res if s != 200]
            out.append(f"healthz x200 round {rnd + 1}: ok {len(ok)}, failed {len(fails)} {sorted(set(fails))}, "
                       f"p50 {statistics.median(ok) if ok else 0:.3f}s p95 {sorted(ok)[int(0.95 * (len(ok) - 1))] if ok else 0:.3f}s")
        posted_before = len(harness.api.called("chat.postMessage"))
        for rnd in range(3):
            payloads = [post(port, "/webhooks/github", *github(run_body(rnd * 100 + i), f"d-{rnd}-{i}")) for i in range(50)]
            res = concurrent(port, payloads, 50)
            out.append(f"webhooks x50 round {rnd + 1}: 202 {sum(s == 202 for s, _, _ in res)}, "
                       f"5xx {sum(bool(s and s >= 500) for s, _, _ in res)}, "
                       f"resets/refused {sum(s is None for s, _, _ in res)}")
        # stalled bodies
        socks, started = [], time.perf_counter()
        for _ in range(100):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
            socks.append(sock)
        import selectors

        sel = selectors.DefaultSelector()
        for sock in socks:
            sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ)
        released, deadline = 0, time.monotonic() + 30
        while released < len(socks) and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.5):
                sel.unregister(key.fileobj)
                released += 1
        took = time.perf_counter() - started
        for sock in socks:
            sock.close()
        out.append(f"stalled bodies x100: {released} released by the server within {took:.1f}s (waited up to 30s)")
        # malformed
        cases = {
            "Content-Length: -1": b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            "Content-Length: abc": b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            "unsigned [1] to /slack/events": post(port, "/slack/events", b"[1]", {"Content-Type": "application/json"}),
            'unsigned "x" to /webhooks/github': post(port, "/webhooks/github", b'"x"', {}),
            "signed [1] to /slack/events": post(port, "/slack/events", b"[1]", {"Content-Type": "application/json", **sign("[1]")}),
        }
        for name, bad in (("repository as a string", {"repository": "acme/api"}), ("name: null", {"name": None}),
                          ("log as a list", {"log": ["a", "b"]}), ("workflow_run as a list", {"workflow_run": [1]})):
            body = run_body(999)
            if "workflow_run" in bad:
                body.update(bad)
            elif "repository" in bad:
                body.update(bad)
            elif "name" in bad:
                body["workflow_run"].update(bad)
            else:
                body.update(bad)
            cases[f"signed webhook, {name}"] = post(port, "/webhooks/github", *github(body, f"bad-{name}"))
        unsigned20 = b"{" + b'"x": "' + b"a" * (20 * 1024 * 1024) + b'"}'
        t = time.process_time()
        cases_status = {name: raw_request(port, data)[0] for name, data in cases.items()}
        status20 = raw_request(port, post(port, "/webhooks/github", unsigned20, {"Content-Type": "application/json"}))[0]
        cpu20 = time.process_time() - t
        for name, status in cases_status.items():
            out.append(f"malformed: {name}: {status}")
        out.append(f"unsigned 20 MB webhook: {status20}, CPU for all malformed cases {cpu20:.2f}s")
        # same body, new delivery ids
        harness.api.settle(quiet=1.0, timeout=60)  # let the 150 webhooks above finish posting
        before = len(harness.api.called("chat.postMessage"))
        body = run_body(4242)
        body["repository"]["full_name"] = "acme/dedupe"  # its own channel, below the channel rate limit
        statuses = []
        for d in ("x-1", "x-2", None):
            raw, headers = github(body, d)
            request = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/github", data=raw, headers=headers)
            with urllib.request.urlopen(request, timeout=10) as resp:
                statuses.append(json.loads(resp.read())["status"])
        harness.api.settle(quiet=1.0, timeout=30)
        roots = [c for c in harness.api.called("chat.postMessage")[before:] if not c.params.get("thread_ts")]
        out.append(f"same signed body, 3 deliveries ({', '.join(statuses)}): {len(roots)} alert thread(s) posted")
        del posted_before
    finally:
        server.shutdown()
        server.server_close()
        harness.close()
        sys.stderr = stderr
    lines = [x for x in stream.getvalue().splitlines() if x.strip()]
    raw = [x for x in lines if not x.lstrip().startswith("{")]
    out.append(f"log stream: {len(lines)} lines, {len(raw)} not JSON")
    print("\n".join(out))
    if raw:
        print("first non-JSON lines:", *raw[:5], sep="\n  ")


if __name__ == "__main__":
    main()
