"""A failed GitHub `workflow_job` webhook on a 20k-line job log: delivery to posted answer, by stage.

The real HTTP server, Bolt app, store and answer engine; a fake Slack Web API and a fake GitHub API
(tests/ci_fakes.py) on loopback, so the fetch stages include real HTTP, PyGithub, the 302 and the
streamed download. Side by side in one run:
  baseline  the webhook as it was answered before the provider layer: from the payload's step names
  fetched   the provider layer fetches the job log, the last passing log and the workflow file
For each: p50/p95 of the stages and whether the answer's evidence holds the failing line.

    python bench/webhook_fetch_bench.py [--runs 7] [--lines 20000] [--model none|embedded|smollm2]
"""
from __future__ import annotations

import argparse
import json
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

from ci_fakes import FakeCiApi  # noqa: E402
from slack_fakes import Harness  # noqa: E402

from bot.server.http import start_http  # noqa: E402
from bot.server.webhooks import hmac_sha256  # noqa: E402

REPO, WORKFLOW_ID = "octo-org/octo-repo", 2823525
KEY_LINE = "src/server/routes.ts(88,14): error TS2339: Property 'userId' does not exist on type 'Session'."


def job_log(lines: int, failing: bool) -> bytes:
    out = ["##[group]Run actions/checkout@v4", "Syncing repository: octo-org/octo-repo", "##[endgroup]",
           "##[group]Run npm ci"]
    for i in range(lines - 12):
        out.append(f"2026-12-01T10:{(i // 600) % 60:02d}:{(i // 10) % 60:02d}.{i % 1000:03d}Z "
                   f"npm http fetch GET 200 https://registry.npmjs.org/pkg-{i % 977}/-/pkg-{i % 977}-1.{i % 13}.0.tgz {i % 90}ms")
    out += ["added 1432 packages in 41s", "##[endgroup]", "##[group]Run npm run build", "> tsc -p tsconfig.json"]
    out += [KEY_LINE, "Found 1 error in src/server/routes.ts:88", "##[error]Process completed with exit code 2."] \
        if failing else ["Build finished.", "##[endgroup]", "Post job cleanup."]
    return ("\n".join(out) + "\n").encode()


def webhook(job_id: int, run_id: int, delivery: str) -> tuple[bytes, dict]:
    data = json.loads((ROOT / "tests/data/ci/github_workflow_job_completed_failure.json").read_text())
    data["workflow_job"].update(id=job_id, run_id=run_id)
    body = json.dumps(data).encode()
    return body, {"Content-Type": "application/json", "X-GitHub-Event": "workflow_job", "X-GitHub-Delivery": delivery,
                  "X-Hub-Signature-256": hmac_sha256("gh-secret", body)}


class Timed:
    """Wraps the engine and the providers to record each answer's stage timings."""

    def __init__(self, engine, providers):
        self.engine, self.providers, self.last = engine, providers, {}

    def answer(self, request):
        answer = self.engine.answer(request)
        self.last.update(answer.timings)
        return answer

    def fetch(self, target):
        started = time.perf_counter()
        fetched = self.providers.fetch(target)
        self.last["fetch"] = time.perf_counter() - started
        return fetched

    def __getattr__(self, name):
        return getattr(self.providers, name)


def build(model: str):
    from bot.engine.pipeline import AnswerEngine
    from bot.runtime import build_engine
    from bot.settings import load_settings

    if model == "none":
        from engine_fakes import FakeRetriever

        return AnswerEngine(retriever=FakeRetriever([]), generator=None)
    os.environ["CIBOT_MODEL__BASE"] = model
    return build_engine(load_settings())


def run_mode(mode: str, engine, api: FakeCiApi, runs: int, first_id: int) -> list[dict]:
    env = {**api.env(), "CIBOT_GITHUB__WEB_URL": "https://github.com", "CIBOT_WEBHOOKS__GITHUB_SECRET": "gh-secret",
           "CIBOT_WEBHOOKS__DEFAULT_CHANNEL": "CCI"}
    if mode == "baseline":
        env["CIBOT_GITHUB__TOKEN"] = ""  # not configured: the answer comes from the payload alone
    os.environ.update(env)
    harness = Harness()
    timed = Timed(engine, harness.deps.ci)
    harness.engine, harness.deps.ci = timed, timed
    server, _ = start_http(harness.deps, harness.app, "127.0.0.1", 0)
    rows = []
    try:
        for i in range(runs):
            job, run = first_id + i, first_id + 10_000 + i
            timed.last = {}
            body, headers = webhook(job, run, f"{mode}-{i}")
            request = urllib.request.Request(server.url + "/webhooks/github", data=body, headers=headers, method="POST")
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as resp:
                resp.read()
            acked = time.perf_counter() - started
            (call,) = harness.api.wait_for("chat.update", i + 1, timeout=600,
                                           where=lambda c: "feedback_up" in json.dumps(c.params))[i:i + 1]
            total = time.perf_counter() - started
            rows.append({"ack": acked, **timed.last, "total": total,
                         "key_line": "routes.ts(88,14)" in json.dumps(call.params)})
    finally:
        server.shutdown()
        server.server_close()
        harness.close()
    return rows


def seed(api: FakeCiApi, runs: int, first_id: int, lines: int) -> None:
    failing, passing = job_log(lines, True), job_log(lines, False)
    api.add_github_run(REPO, first_id + 50_000, jobs=[(first_id + 60_000, "linters", "success", passing)],
                       branch="master", workflow_id=WORKFLOW_ID, path=".github/workflows/test.yml", conclusion="success")
    for i in range(runs):
        api.add_github_run(REPO, first_id + 10_000 + i, jobs=[(first_id + i, "linters", "failure", failing)],
                           branch="master", sha="3" * 40, workflow_id=WORKFLOW_ID, path=".github/workflows/test.yml",
                           workflow_text="name: test\non: push\njobs:\n  linters:\n    runs-on: ubuntu-latest\n"
                                         "    steps:\n      - run: npm ci\n      - run: npm run build\n")


def summarise(name: str, rows: list[dict]) -> None:
    keys = [k for k in ("ack", "fetch", "excerpt", "route", "retrieve", "prompt", "generate", "post", "total")
            if any(k in r for r in rows)]
    print(f"\n{name}: {len(rows)} webhooks, evidence holds the failing line in "
          f"{sum(r['key_line'] for r in rows)}/{len(rows)}")
    print(f"  {'stage':<9} {'p50 s':>8} {'p95 s':>8}")
    for key in keys:
        values = sorted(r.get(key, 0.0) for r in rows)
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        print(f"  {key:<9} {statistics.median(values):>8.3f} {p95:>8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--model", default="embedded", choices=["none", "embedded", "smollm2"])
    args = parser.parse_args()
    api = FakeCiApi()
    seed(api, args.runs + 1, 1_000_000, args.lines)
    print(f"log: {args.lines} lines, {len(job_log(args.lines, True)) / 1e6:.1f} MB; model: {args.model}; "
          f"{os.cpu_count()} CPUs")
    engine = build(args.model)
    # One extra webhook per mode warms the model and caches up; it is not counted.
    results = {mode: run_mode(mode, engine, api, args.runs + 1, 1_000_000)[1:] for mode in ("baseline", "fetched")}
    for mode, rows in results.items():
        summarise(mode, rows)
    api.close()


if __name__ == "__main__":
    main()
