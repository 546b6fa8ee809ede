"""Slack acknowledgement latency under load, and mention-to-answer time with the embedded model.

1. ack p99: `cibot serve --http`'s server on loopback, 20 answers generating (FakeEngine that sleeps
   or burns CPU for --delay s, or the real engine with --real), while signed app_mention events are
   POSTed and the time to the HTTP 200 is measured. Baseline: the naive bot that answers inline
   before acknowledging (process_before_response=True, no pool). Target < 300 ms.
2. mention -> posted answer p50 with the embedded model (bot.runtime.build_engine). Target < 3 s.

    nice -n 10 .venv/bin/python bench/slack_ack_bench.py [--delay 2] [--cpu] [--probes 200] [--real] [--skip-model]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
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

from slack_fakes import BOT_USER, FakeEngine, Harness, event_body, sign  # noqa: E402


class BusyEngine(FakeEngine):
    """Burns CPU in Python for `delay` s: the GIL contention a real CPU-bound generator causes."""

    def answer(self, request):
        end = time.perf_counter() + self.delay
        while time.perf_counter() < end:
            sum(i * i for i in range(1000))
        return self.fixed


class InlinePool:
    """The naive baseline: answer on the request thread."""

    def submit(self, fn):
        fn()
        return True

    def shutdown(self, wait=True):
        pass


def post(url: str, event: dict, event_id: str) -> float:
    body = json.dumps(event_body(event, event_id))
    request = urllib.request.Request(url + "/slack/events", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json", **sign(body)})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as resp:
        resp.read()
    return time.perf_counter() - started


def mention(n: int, channel: str, text: str) -> dict:
    ts = f"1700001000.{n:06d}"
    return {"type": "app_mention", "user": f"U{n % 50}", "channel": channel, "ts": ts,
            "text": f"<@{BOT_USER}> {text}"}


def harness(engine, baseline: bool) -> tuple[Harness, object]:
    from bot.server.http import start_http
    from bot.slack.app import build_app

    os.environ["CIBOT_HOME"] = tempfile.mkdtemp(prefix="cibot-bench-")  # fresh store: no earlier claims
    h = Harness(engine=engine, user_rate_per_min=10_000, channel_rate_per_min=10_000, max_pending=10_000)
    if baseline:
        h.deps.pool = InlinePool()
        h.app = build_app(h.deps, process_before_response=True)
    server, _ = start_http(h.deps, h.app, "127.0.0.1", 0)
    return h, server


def ack_latencies(engine, probes: int, baseline: bool) -> list[float]:
    h, server = harness(engine, baseline)
    try:
        load = 20 if not baseline else 0  # inline answers would serialise the load itself
        for i in range(load):
            post(server.url, mention(i, "CLOAD", "```\nE: load\n```"), f"EvLoad{i}")
        out = [post(server.url, mention(10_000 + i, "CPROBE", "```\nE: probe\n```"), f"EvProbe{baseline}{i}")
               for i in range(probes)]
        return out
    finally:
        server.shutdown()
        # Answers still running post into a closed fake API; their logged errors are not the point here.
        logging.getLogger("bot.slack").setLevel(logging.CRITICAL)
        h.deps.pool.shutdown(wait=False)
        h.api.close()


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def model_latency(runs: int) -> list[float]:
    """Mention -> answer posted (chat.update with the feedback buttons), real engine."""
    from bot.runtime import build_engine
    from bot.settings import load_settings

    engine = build_engine(load_settings())
    logs = sorted((ROOT / "bot" / "data" / "demo_logs").glob("*.log"))
    h, server = harness(engine, baseline=False)
    out = []
    try:
        for i in range(runs + 1):
            log = logs[i % len(logs)].read_text(errors="replace")[-3000:] if logs else "npm ERR! code ERESOLVE"
            before = len(h.answered(count=0, timeout=0))
            started = time.perf_counter()
            post(server.url, mention(20_000 + i, "CMODEL", f"why?\n```\n{log}\n```"), f"EvModel{i}")
            h.answered(count=before + 1, timeout=120)
            if i:  # the first answer warms caches
                out.append(time.perf_counter() - started)
    finally:
        server.shutdown()
        h.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=2.0, help="seconds per fake answer")
    parser.add_argument("--cpu", action="store_true", help="fake answers burn CPU instead of sleeping")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--real", action="store_true", help="generate the 20 answers with the real engine")
    parser.add_argument("--skip-model", action="store_true", help="skip the embedded-model latency run")
    parser.add_argument("--model-runs", type=int, default=5)
    args = parser.parse_args()

    make = (lambda: BusyEngine(delay=args.delay)) if args.cpu else (lambda: FakeEngine(delay=args.delay))
    if args.real:
        from bot.runtime import build_engine
        from bot.settings import load_settings

        real = build_engine(load_settings())
        make = lambda: real  # noqa: E731
    kind = "real engine" if args.real else f"fake engine, {args.delay:.1f} s {'CPU' if args.cpu else 'sleep'} per answer"
    print(f"ack latency over HTTP on loopback ({kind}; 20 answers generating; {args.probes} probes)")
    ours = ack_latencies(make(), args.probes, baseline=False)
    naive = ack_latencies(make(), min(5, args.probes), baseline=True)
    print(f"{'':28}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, values in (("baseline (answer, then ack)", naive), ("cibot (ack, pool answers)", ours)):
        print(f"{name:28}{p(values, .5) * 1000:10.1f}{p(values, .99) * 1000:10.1f}{max(values) * 1000:10.1f}")
    print(f"target p99 < 300 ms: {'met' if p(ours, .99) < 0.3 else 'NOT met'}")
    if args.skip_model:
        return
    try:
        times = model_latency(args.model_runs)
    except Exception as exc:  # the embedded model is built by `cibot train base`
        print(f"mention -> answer with the embedded model: unavailable ({type(exc).__name__}: {exc})")
        return
    print(f"mention -> posted answer, embedded model, {len(times)} runs: p50 {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s (target p50 < 3 s: {'met' if statistics.median(times) < 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
