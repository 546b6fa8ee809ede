"""HTTP/1.1 by hand over a socket, for what a client library would not send: stalled bodies, lying
lengths, bursts. Shared by tests/test_http_hardening.py and bench/http_hardening_bench.py."""
from __future__ import annotations

import json
import socket

from bot.server.webhooks import hmac_sha256


def request(path: str, body: bytes = b"", headers: dict | None = None, method: str = "POST") -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    length = f"Content-Length: {len(body)}\r\n" if method == "POST" else ""
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{length}{head}\r\n".encode() + body


def exchange(port: int, data: bytes, timeout: float = 10.0, whole: bool = False) -> int | None | bytes:
    """Send `data` and read the reply: its status (None when no HTTP reply came), or with `whole`
    the raw reply up to the server closing the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        reply = b""
        while whole or b"\r\n\r\n" not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    if whole:
        return reply
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else None


def github(body: dict, delivery: str | None, secret: str = "gh-secret") -> tuple[bytes, dict]:
    """A signed GitHub `workflow_run` delivery: (body, headers)."""
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "workflow_run",
               "X-Hub-Signature-256": hmac_sha256(secret, raw)}
    if delivery:
        headers["X-GitHub-Delivery"] = delivery
    return raw, headers
