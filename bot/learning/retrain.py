"""The retrain job: build the training set from the starter corpus and thumbs-up answers, train a
candidate adapter in a separate process, score it against the current one, promote it only if the
gate passes, and record the decision.

Training and evaluation are injected callables (bot/learning/trainer.py has the real ones), so the job's
logic is tested with small fakes and the bot never imports torch to decide whether to retrain.
A killed run leaves everything consistent: the candidate is only a staged registry version until
`promote`, which is atomic; the database lease expires; the next run marks the stale run failed.
"""
from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from bot.learning.gate import GateDecision, decide
from bot.learning.trainset import STARTER_CORPUS, split_feedback, write_jsonl
from bot.store import Store
from bot.store.models import utcnow

log = logging.getLogger(__name__)
LOCK = "retrain"


@dataclass
class TrainJob:
    run_id: int
    run_dir: Path
    train_file: Path  # starter corpus + thumbs-up examples, seed-format JSONL
    heldout_file: Path  # recent thumbs-up examples, never trained on
    current: str | None  # the adapter serving now


class Trainer(Protocol):
    def __call__(self, job: TrainJob, heartbeat: Callable[[], None]) -> str: ...  # -> candidate version


class Evaluator(Protocol):
    # -> {"current": {suite: {metric: value}}, "candidate": {...}}; both scored in one run.
    def __call__(self, current: str | None, candidate: str, heldout: list[dict]) -> dict[str, dict]: ...


@dataclass
class RetrainResult:
    ran: bool
    reason: str
    candidate: str | None = None
    metrics: dict = field(default_factory=lambda: {"current": {}, "candidate": {}})
    promoted: bool = False
    current: str | None = None
    run_id: int | None = None
    data: dict = field(default_factory=dict)
    gate: dict | None = None
    review: list[dict] = field(default_factory=list)
    report: str | None = None

    def to_json(self) -> dict:
        """The `cibot retrain --json` contract, plus the run's details."""
        return {
            "ran": self.ran, "reason": self.reason, "candidate": self.candidate, "metrics": self.metrics,
            "promoted": self.promoted, "current": self.current, "run_id": self.run_id, "data": self.data,
            "gate": self.gate, "review": self.review, "report": self.report,
        }


class Retrainer:
    def __init__(self, settings: Any, store: Store, registry: Any, trainer: Trainer, evaluator: Evaluator,
                 post: Callable[[str], None] | None = None, starter: Path | Sequence[Path] = STARTER_CORPUS,
                 starter_limit: int | None = None):
        self.settings = settings
        self.sched = settings.scheduler
        self.store, self.registry = store, registry
        self.trainer, self.evaluator, self.post = trainer, evaluator, post
        self.starter, self.starter_limit = starter, starter_limit
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def run(self, *, force: bool = False, dry_run: bool = False) -> RetrainResult:
        """One retrain attempt. `force` skips the new-examples threshold; `dry_run` only reports
        what would be trained on."""
        current = self.registry.current()
        if not self.store.acquire_lock(LOCK, self.owner, self.sched.lock_ttl_s):
            holder = self.store.lock_holder(LOCK)
            who = f" ({holder[0]}, lease until {holder[1]:%H:%M:%S} UTC)" if holder else ""
            return self._skipped(f"another retrain is running{who}", current)
        try:
            with _Lease(self.store, self.owner, self.sched.lock_ttl_s) as lease:
                return self._run_locked(current, force, dry_run, lease)
        finally:
            self.store.release_lock(LOCK, self.owner)

    def _run_locked(self, current: str | None, force: bool, dry_run: bool, lease: "_Lease") -> RetrainResult:
        until = utcnow()
        last = self.store.last_run()
        since = last.examples_until if last else None
        new = self.store.count_new_thumbs_up(since, until)
        need = self.sched.min_new_examples
        if new < need and not force:
            return self._skipped(f"{new} new thumbs-up example(s) since the last run; {need} needed", current)
        split = split_feedback(self.store, until, self.sched.holdout_fraction)
        data = {"new_thumbs_up": new, **split.summary()}
        if dry_run:
            return RetrainResult(False, f"dry run: would train on the starter corpus plus "
                                        f"{len(split.train)} thumbs-up example(s)", current=current,
                                 data=data, review=split.review)
        self._reconcile(current)
        run_id = self.store.start_run(current, until)
        run_dir = self.settings.paths.reports / "runs" / f"run-{run_id:04d}"
        job = TrainJob(run_id, run_dir, run_dir / "train.jsonl", run_dir / "heldout.jsonl", current)
        data["train_examples"] = self._write_data(job, split)
        write_jsonl(run_dir / "review.jsonl", split.review)
        result = RetrainResult(True, "", current=current, run_id=run_id, data=data, review=split.review)
        try:
            result.candidate = self.trainer(job, lease.beat)
            self.store.set_run_candidate(run_id, result.candidate)
            result.metrics = self.evaluator(current, result.candidate, split.heldout)
            gate = decide(result.metrics["current"], result.metrics["candidate"], self.sched.gate_margin,
                          self.sched.gate_metrics)
            if gate.promote and lease.lost:
                gate = GateDecision(False, "not promoted: the retrain lease was lost mid-run", [], gate.compared)
            if gate.promote:
                self.registry.promote(result.candidate)
            result.promoted, result.reason, result.gate = gate.promote, gate.reason, gate.to_json()
            status = "promoted" if gate.promote else "rejected"
        except Exception as exc:  # recorded as a failed run; current is untouched
            log.exception("retrain run %s failed", run_id)
            result.reason, status = f"failed: {type(exc).__name__}: {exc}", "failed"
        result.report = str(self._write_report(result))
        self.store.finish_run(run_id, status, reason=result.reason, candidate=result.candidate,
                              report=result.to_json())
        self._announce(result, status)
        return result

    def _reconcile(self, current: str | None) -> None:
        """A run killed after promoting its candidate did promote it: record that, not a failure.
        start_run marks every other unfinished run as failed."""
        for run in self.store.runs(limit=5):
            if run.status == "running" and run.candidate and run.candidate == current:
                self.store.finish_run(run.run_id, "promoted", candidate=run.candidate, report=run.report,
                                      reason="promoted; the process ended before recording it")

    def _write_data(self, job: TrainJob, split) -> int:
        limit = self.starter_limit if self.starter_limit is not None else self.settings.scheduler.replay_rows
        starter = _read_lines(self.starter, limit)
        job.train_file.parent.mkdir(parents=True, exist_ok=True)
        with job.train_file.open("w", encoding="utf-8") as fh:
            fh.writelines(starter)
        with job.train_file.open("a", encoding="utf-8") as fh:
            for row in split.train:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        write_jsonl(job.heldout_file, split.heldout)
        return len(starter) + len(split.train)

    def _write_report(self, result: RetrainResult) -> Path:
        reports = self.settings.paths.reports
        reports.mkdir(parents=True, exist_ok=True)
        path = reports / f"retrain-{result.run_id:04d}-{utcnow():%Y%m%dT%H%M%SZ}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result.to_json(), indent=2, default=str), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def _skipped(self, reason: str, current: str | None) -> RetrainResult:
        _count("skipped")
        return RetrainResult(False, reason, current=current)

    def _announce(self, result: RetrainResult, status: str) -> None:
        _count(status)
        if self.post is None:
            return
        try:
            self.post(format_report(result))
        except Exception:  # a report that cannot be posted is still on disk and in the database
            log.exception("could not post the retrain report")


def format_report(result: RetrainResult) -> str:
    """A short plain-text summary for Slack: decision, both sets of figures, review list."""
    head = "promoted" if result.promoted else ("rejected" if result.gate else "failed")
    lines = [f"Retrain run {result.run_id}: {head} candidate {result.candidate or '-'} "
             f"(current {result.current or 'none'})", result.reason]
    cur, cand = result.metrics.get("current", {}), result.metrics.get("candidate", {})
    for suite in sorted(set(cur) | set(cand)):
        names = sorted(set(cur.get(suite, {})) | set(cand.get(suite, {})))
        figures = ", ".join(f"{m} {_fmt(cur.get(suite, {}).get(m))} -> {_fmt(cand.get(suite, {}).get(m))}"
                            for m in names)
        lines.append(f"  {suite}: {figures}")
    if result.review:
        lines.append(f"{len(result.review)} thumbs-down answer(s) kept out of training, for review:")
        for row in result.review[:10]:
            why = "; ".join(r["reason"] or "no reason given" for r in row["reasons"])
            lines.append(f"  - {row['answer_id']} in {row['channel'] or '?'}: {why}")
    return "\n".join(lines)


class _Lease:
    """Renews the retrain lease in the background while training runs for hours."""

    def __init__(self, store: Store, owner: str, ttl_s: float):
        self.store, self.owner, self.ttl_s = store, owner, ttl_s
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="retrain-lease", daemon=True)

    def __enter__(self) -> "_Lease":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def beat(self) -> None:
        if not self.store.refresh_lock(LOCK, self.owner, self.ttl_s):
            self.lost = True

    def _loop(self) -> None:
        while not self._stop.wait(max(self.ttl_s / 3, 1)):
            self.beat()


def _read_lines(paths: Path | Sequence[Path], limit: int | None) -> list[str]:
    """The starter rows to replay: all of them, or a seeded sample of `limit` with an equal share
    from each file (the synthetic corpus is seven times the real-log rows; a sample in proportion
    would be nearly all synthetic, and the real-log rows are what keeps answers naming the log's
    own identifiers), within a file spread by chance (a corpus sorted by failure type would lose
    whole types to a head cut)."""
    files: list[list[str]] = []
    for path in [paths] if isinstance(paths, Path) else paths:
        if not path.is_file():
            log.warning("starter corpus %s not found; training on feedback examples only", path)
            continue
        with path.open(encoding="utf-8") as fh:
            files.append([line if line.endswith("\n") else line + "\n" for line in fh if line.strip()])
    if not limit or sum(map(len, files)) <= limit:
        return [line for lines in files for line in lines]
    rng, picked, left = random.Random(0), [], limit
    for i, lines in enumerate(sorted(files, key=len)):  # a short file's unused share goes to the longer ones
        share = min(len(lines), left // (len(files) - i))
        picked += rng.sample(lines, share)
        left -= share
    return picked


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _count(outcome: str) -> None:
    try:
        from bot.server.observability import RETRAIN_RUNS
    except ImportError:
        return
    RETRAIN_RUNS.labels(outcome=outcome).inc()


def last_run_summary(store: Store) -> dict | None:
    run = store.last_run(("promoted", "rejected", "failed", "running"))
    if run is None:
        return None
    return {"run_id": run.run_id, "status": run.status, "reason": run.reason, "candidate": run.candidate,
            "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at)}


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts else None
