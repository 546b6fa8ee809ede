"""The HTTP server under hostile-but-fair input: bursts, stalled bodies, bad lengths,
non-object and mistyped payloads, replays under new delivery ids, and a clean log stream."""
from __future__ import annotations

import concurrent.futures as cf
import socket
import time

import pytest
from raw_http import exchange, github, request
from slack_fakes import Harness, sign

from bot.server import http as server_mod
from bot.server.http import start_http


@pytest.fixture
def served(monkeypatch):
    monkeypatch.setenv("CIBOT_WEBHOOKS__GITHUB_SECRET", "gh-secret")
    monkeypatch.setenv("CIBOT_WEBHOOKS__DEFAULT_CHANNEL", "CCI")
    monkeypatch.setattr(server_mod, "READ_TIMEOUT_S", 1.0)
    harness = Harness()
    srv, _ = start_http(harness.deps, harness.app, "127.0.0.1", 0)
    yield harness, srv.server_address[1]
    srv.shutdown()
    srv.server_close()
    harness.close()


FAILED_RUN = {"workflow_run": {"name": "CI", "conclusion": "failure", "head_branch": "main"},
              "repository": {"full_name": "acme/api"}, "log": "Error: Cannot find module 'left-pad'"}


def test_a_burst_of_200_probes_is_queued_not_reset(served):
    _, port = served
    with cf.ThreadPoolExecutor(200) as pool:
        statuses = list(pool.map(lambda _: exchange(port, request("/healthz", method="GET")), range(200)))
    assert statuses.count(200) == 200


def test_a_body_that_never_arrives_is_a_408_and_the_connection_closed(served):
    _, port = served
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
    sock.settimeout(10)
    started = time.monotonic()
    reply = _read_all(sock)
    assert reply.split(b" ", 2)[1] == b"408"
    assert time.monotonic() - started < 5
    sock.close()


def test_headers_that_never_finish_are_dropped_after_the_read_timeout(served):
    _, port = served
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\n")  # and then nothing
    sock.settimeout(10)
    started = time.monotonic()
    assert sock.recv(1) == b""  # closed by the server
    assert time.monotonic() - started < 5
    sock.close()


def test_a_declared_body_over_the_limit_is_a_413_before_it_is_read(served, monkeypatch):
    _, port = served
    monkeypatch.setattr(server_mod, "MAX_BODY", 100)
    raw = b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n"  # no body sent
    assert exchange(port, raw) == 413
    chunked = (b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"40\r\n" + b"x" * 64 + b"\r\n40\r\n" + b"x" * 64 + b"\r\n0\r\n\r\n")
    assert exchange(port, chunked) == 413  # no length given: counted as it arrives


def _read_all(sock) -> bytes:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "+5"])
def test_a_bad_content_length_is_a_400(served, length):
    _, port = served
    raw = f"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
    assert exchange(port, raw) == 400


@pytest.mark.parametrize("body", [b"[1]", b'"x"', b"3"])
def test_non_object_json_to_slack_events_is_a_400_signed_or_not(served, body):
    _, port = served
    headers = {"Content-Type": "application/json"}
    assert exchange(port, request("/slack/events", body, headers)) == 400
    assert exchange(port, request("/slack/events", body, {**headers, **sign(body.decode())})) == 400


@pytest.mark.parametrize("change, field", [
    ({"repository": "acme/api"}, "repository"), ({"log": ["a", "b"]}, "log"),
    ({"repository": {"full_name": ["x"]}}, "repo"),
    ({"workflow_run": {"name": None, "conclusion": "failure", "head_branch": 5}}, "branch"),
])
def test_a_signed_payload_of_the_wrong_shape_is_a_400_with_a_reason(served, change, field):
    harness, port = served
    raw, headers = github({**FAILED_RUN, **change}, None)
    reply = exchange(port, request("/webhooks/github", raw, headers), whole=True)
    assert reply.startswith(b"HTTP/1.") and reply.split(b" ", 2)[1] == b"400"
    assert field in reply.split(b"\r\n\r\n", 1)[1].decode()  # the reason names what is wrong


def test_the_same_body_under_new_delivery_ids_is_answered_once(served):
    harness, port = served
    for delivery in ("d-1", "d-2", None):
        raw, headers = github(FAILED_RUN, delivery)
        assert exchange(port, request("/webhooks/github", raw, headers)) == 202
    harness.api.settle(quiet=0.5, timeout=10)
    roots = [c for c in harness.api.called("chat.postMessage") if not c.params.get("thread_ts")]
    assert len(roots) == 1


def test_the_body_claim_expires_after_its_window(tmp_path):
    from bot.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'claims.db'}")
    assert store.claim_within("k", 3600) and not store.claim_within("k", 3600)
    time.sleep(0.05)
    assert store.claim_within("k", 0.01)  # older than the window: taken again
    assert not store.claim_within("k", 3600)
    store.close()


def test_client_disconnects_leave_no_raw_traceback(served, capfd):
    _, port = served
    for _ in range(20):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # a reset mid-body
    time.sleep(1.5)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred during processing" not in err
