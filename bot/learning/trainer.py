"""The real trainer and evaluator behind the retrain job, each in its own process: the bot keeps
answering while a candidate trains, and a crash or kill there cannot touch the serving process.

  train:    cibot dev train-job --config <run>/lora.json   (prints a TrainResult JSON line)
  evaluate: cibot dev eval-job --config <run>/eval.json    (writes metrics JSON)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from retrieval.errors import CibotError
from training.eval.evaluate import evaluate, load_examples
from training.eval.report import suite_examples
from training.finetune.features import prompt_budget_chars
from training.finetune.reallogs import datasets_dir
from training.inference.generate import LocalGenerator
from training.registry import AdapterRegistry

REPO = Path(__file__).resolve().parents[2]
HEARTBEAT_S = 20.0


class TrainingFailed(CibotError):
    """The training or evaluation process exited with an error or ran past its time limit."""


def build_retrainer(settings: Any, post: Callable[[str], None] | None = None, *,
                    train_overrides: dict | None = None, starter_limit: int | None = None):
    """The Retrainer wired to the configured store, the adapter registry and real subprocesses."""
    from bot.learning.retrain import Retrainer
    from bot.store import Store

    registry = AdapterRegistry(settings.paths.adapters)
    registry.ensure_default(base=settings.model.base)  # a fresh home serves the shipped adapter; compare against it
    return Retrainer(settings, Store.from_settings(settings), registry,
                     SubprocessTrainer(settings, train_overrides), SubprocessEvaluator(settings, registry),
                     post=post, starter_limit=starter_limit)


class SubprocessTrainer:
    def __init__(self, settings: Any, overrides: dict | None = None, command: list[str] | None = None):
        self.settings, self.overrides = settings, overrides or {}
        self.command = command or [sys.executable, "-m", "bot", "dev", "train-job"]

    def __call__(self, job, heartbeat: Callable[[], None]) -> str:
        t = self.settings.train
        cfg = {
            "data": [str(job.train_file)], "home": str(self.settings.home), "base": self.settings.model.base,
            "promote": False, "eval_limit": 0,  # the gate scores it, against current, in one run
            **t.model_dump(),  # every [train] setting is a LoraConfig field
            "device": self.settings.model.device,
            "extra_meta": {"source": "retrain", "retrain_run": job.run_id, "parent": job.current},
            "init_adapter": self._parent(job.current),
        }
        if cfg["init_adapter"]:  # continuing: small steps (a first adapter trains with [train] as it is)
            cfg.update(learning_rate=self.settings.scheduler.retrain_learning_rate,
                       max_steps=self.settings.scheduler.retrain_max_steps,
                       mix_with_parent=self.settings.scheduler.retrain_parent_mix)
        cfg.update(self.overrides)
        path = job.run_dir / "lora.json"
        path.write_text(json.dumps(cfg, indent=2))
        out = run_child([*self.command, "--config", str(path)], job.run_dir / "train.log", heartbeat,
                        self.settings.scheduler.train_timeout_s)
        version = _last_json(out).get("version")
        if not version:
            raise TrainingFailed(f"training finished without reporting a version (see {job.run_dir / 'train.log'})")
        return version


    def _parent(self, current: str | None) -> str | None:
        """The current adapter's folder, to continue from, when it was trained on this base."""
        from training.registry import AdapterRegistry

        if current is None:
            return None
        registry = AdapterRegistry(self.settings.paths.adapters)
        try:
            meta = registry.verify(current)
        except Exception:  # a corrupt current: train from zero rather than not at all
            return None
        return str(registry.path(current)) if meta.get("base", "embedded") == self.settings.model.base else None


class SubprocessEvaluator:
    def __init__(self, settings: Any, registry: Any):
        self.settings, self.registry = settings, registry

    def __call__(self, current: str | None, candidate: str, heldout: list[dict],
                 heartbeat: Callable[[], None] = lambda: None) -> dict:
        run_dir = self.settings.paths.reports / "runs" / f"eval-{candidate}"
        run_dir.mkdir(parents=True, exist_ok=True)
        heldout_file = run_dir / "feedback_heldout.jsonl"
        heldout_file.write_text("".join(json.dumps(r) + "\n" for r in heldout))
        # The child gets the parent's effective settings, not whatever config its cwd would find.
        sections = {k: self.settings.model_dump(mode="json")[k] for k in ("model", "train", "scheduler")}
        sections["model"].pop("openai_api_key", None)
        cfg = {"home": str(self.settings.home), "settings": sections, "current": current, "candidate": candidate,
               "feedback": str(heldout_file) if heldout else None, "out": str(run_dir / "metrics.json")}
        (run_dir / "eval.json").write_text(json.dumps(cfg))
        run_child([sys.executable, "-m", "bot", "dev", "eval-job", "--config", str(run_dir / "eval.json")],
                  run_dir / "eval.log", heartbeat, self.settings.scheduler.train_timeout_s, "evaluation")
        return json.loads((run_dir / "metrics.json").read_text())


def run_child(cmd: list[str], log_path: Path, heartbeat: Callable[[], None], timeout_s: float,
              what: str = "training") -> str:
    """Run cmd at lower CPU priority, stderr to log_path, renewing the lease while it runs; returns
    stdout. The child dies with its parent, so a killed retrain leaves no orphan writing files."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    with log_path.open("w") as log, open(log_path.with_suffix(".out"), "w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=log, preexec_fn=_child_setup,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    raise TrainingFailed(f"{what} ran past {timeout_s:.0f} s and was stopped")
                try:
                    proc.wait(timeout=HEARTBEAT_S)
                except subprocess.TimeoutExpired:
                    heartbeat()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out.seek(0)
        stdout = out.read()
    if proc.returncode != 0:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
        raise TrainingFailed(f"{what} exited with status {proc.returncode}: {' | '.join(tail)[-400:]}")
    return stdout


def _child_setup() -> None:
    os.nice(10)  # training yields the CPU to the bot's answers
    try:  # Linux: SIGTERM the child if the retrain process dies (PR_SET_PDEATHSIG = 1)
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def _last_json(stdout: str) -> dict:
    for line in reversed(stdout.strip().splitlines()):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return {}


# --- the evaluation child ----------------------------------------------------------------------

def evaluate_versions(settings: Any, current: str | None, candidate: str, feedback: Path | None) -> dict:
    """Score current and candidate on the same suites with one loaded base model, swapping only
    the adapter between them. -> {"current": {suite: metrics}, "candidate": {...}}."""
    return score_versions(settings, {"current": current, "candidate": candidate}, feedback)


def score_versions(settings: Any, versions: dict[str, str | None], feedback: Path | None) -> dict:
    """{label: {suite: metrics}} for each labelled adapter version (None: the base alone)."""
    registry = AdapterRegistry(settings.paths.adapters)
    suites = _suites(settings, feedback)
    # Scored in the form it would be served in (merged, half...), which is also the faster one.
    generator = LocalGenerator(settings.model.base, device=settings.model.device,
                               models_dir=settings.paths.models, max_new_tokens=settings.model.max_new_tokens,
                               quantize=settings.model.quantize, cause_tokens=settings.model.cause_tokens,
                               fix_tokens=settings.model.fix_tokens)
    budget = prompt_budget_chars(settings.train.max_seq_len)
    result = {}
    for label, version in versions.items():
        generator.swap_adapter(registry.path(version) if version else None, version)
        result[label] = {name: _scores(generator, examples, fmt, budget)
                         for name, (examples, fmt) in suites.items()}
    return result


def _suites(settings: Any, feedback: Path | None) -> dict:
    limit, datasets = settings.scheduler.eval_limit, datasets_dir()
    suites: dict[str, tuple[list, str | None]] = {}
    for name in settings.scheduler.eval_suites:
        if name not in ("heldout", "json", "real"):
            raise TrainingFailed(f"unknown eval suite {name!r} in scheduler.eval_suites")
        if name == "real" and not (datasets / "logchunks.jsonl").is_file():
            continue  # a deployment without the research datasets gates on the other suites
        suites[name] = suite_examples(name, limit, datasets)
    if feedback is not None and feedback.is_file() and feedback.stat().st_size:
        suites["feedback"] = (load_examples(feedback, limit), None)
    return suites


def _scores(generator, examples: list, fmt: str | None, budget: int) -> dict:
    metrics = evaluate(generator, examples, limit=None, fmt=fmt, budget_chars=budget)
    return {k: v for k, v in metrics.items() if k != "samples"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cibot dev eval-job")
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    cfg = json.loads(Path(args.config).read_text())
    from bot.settings import load_settings

    settings = load_settings(home=Path(cfg["home"]), **cfg.get("settings", {}))
    feedback = Path(cfg["feedback"]) if cfg.get("feedback") else None
    metrics = evaluate_versions(settings, cfg.get("current"), cfg["candidate"], feedback)
    tmp = Path(cfg["out"] + ".tmp")
    tmp.write_text(json.dumps(metrics, indent=2))
    os.replace(tmp, cfg["out"])
    return 0
