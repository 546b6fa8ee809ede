"""The feedback loop end to end, on the default base (SmolLM2) or the embedded fixture.

 1. "current": on SmolLM2, the shipped default adapter (v0001); on the fixture, an adapter trained
    on a slice of the starter corpus (what last night's run made).
 2. 50 thumbs-up answers for Flyway checksum mismatches, a failure type the corpus lacks, go into
    the store as if users had voted on them in Slack.
 3. `cibot retrain --now` (the real job: subprocess training, gate, promotion) and the held-out
    Flyway score before and after.
 4. A deliberately broken candidate (trained on shuffled outputs) goes through the same gate and is
    rejected; current stays as it was.

    nice -n 10 .venv/bin/python bench/retrain_demo.py [--base smollm2] [--starter 120 --feedback 50 ...]

Each retrain continues from the current adapter, on the thumbs-up rows plus a replay sample of
--starter rows of the starter data (scheduler.replay_rows), as the scheduled job does.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import flyway_cases  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    home = Path(args.home or tempfile.mkdtemp(prefix="cibot-retrain-demo-"))
    from bot.settings import load_settings

    # The retrain's rate and steps are the scheduled job's ([scheduler] retrain_*) unless given.
    pace = {k: v for k, v in (("retrain_learning_rate", args.lr), ("retrain_max_steps", args.steps)) if v}
    settings = load_settings(home=home, scheduler={
        "min_new_examples": args.feedback, "eval_limit": args.eval_limit, "gate_margin": args.margin,
        "eval_suites": ["heldout", "json"], "holdout_fraction": 0.2, **pace},
        train={"batch_size": args.batch_size, "max_seq_len": args.max_seq_len},
        model={"max_new_tokens": args.max_new_tokens, "device": "cpu", "base": args.base})
    overrides = {"epochs": args.epochs}
    if args.base == "embedded":  # the fixture's bootstrap adapter trains from zero: its steps are --steps too
        overrides["max_steps"] = args.steps or 40
    print(f"CIBOT_HOME={home}", file=sys.stderr)
    timings, figures = {}, {}

    started = time.time()
    current = bootstrap_current(settings, args, overrides)
    timings["bootstrap_s"] = round(time.time() - started, 1)
    heldout = flyway_cases.cases(args.heldout, seed=args.seed + 1)
    figures["before"] = score(settings, current, heldout)
    print(f"current {current}: flyway held-out {figures['before']}", file=sys.stderr)

    seed_thumbs_up(settings, flyway_cases.cases(args.feedback, seed=args.seed))
    started = time.time()
    good = retrain(settings, overrides, args.starter)
    timings["retrain_s"] = round(time.time() - started, 1)
    after_version = good["current_after"]
    figures["after"] = score(settings, after_version, heldout)
    print(f"retrain: promoted={good['promoted']} {good['reason']}", file=sys.stderr)

    started = time.time()
    broken = retrain(settings, overrides, args.starter, shuffled=True)
    timings["broken_s"] = round(time.time() - started, 1)
    report = {
        "sizes": {"starter": args.starter, "feedback": args.feedback, "heldout_flyway": args.heldout,
                  "steps": settings.scheduler.retrain_max_steps, "lr": settings.scheduler.retrain_learning_rate, "eval_limit": args.eval_limit, "margin": args.margin},
        "flyway_heldout": {"before": figures["before"], "after": figures["after"],
                           "current_before": current, "current_after": after_version},
        "good_candidate": good, "broken_candidate": broken, "timings": timings,
    }
    print_table(report)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2, default=str))
    return 0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--home", help="CIBOT_HOME to use (default: a new temp dir)")
    p.add_argument("--base", default="smollm2", help="smollm2 (the default base) or embedded (the fixture)")
    p.add_argument("--starter", type=int, default=160, help="starter rows replayed beside the feedback")
    p.add_argument("--feedback", type=int, default=50, help="thumbs-up Flyway answers seeded")
    p.add_argument("--heldout", type=int, default=20, help="held-out Flyway examples scored")
    p.add_argument("--steps", type=int, default=None, help="optimizer steps per retrain (default: scheduler.retrain_max_steps)")
    p.add_argument("--epochs", type=float, default=2.0, help="upper bound; --steps usually stops first")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-seq-len", type=int, default=768)
    p.add_argument("--lr", type=float, default=None, help="retrain learning rate (default: scheduler.retrain_learning_rate)")
    p.add_argument("--max-new-tokens", type=int, default=96, help="answer length cap when scoring")
    p.add_argument("--eval-limit", type=int, default=40, help="examples per gate suite (held-out: spread over failure types)")
    p.add_argument("--margin", type=float, default=0.05, help="gate margin")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", help="write the figures as JSON here")
    return p.parse_args(argv)


def bootstrap_current(settings, args, overrides) -> str:
    """The adapter that serves before any feedback: the shipped default where the base has one,
    else one trained with the same recipe on a starter slice."""
    from bot.learning.trainer import SubprocessTrainer
    from training.base.model import ensure_base_model
    from training.registry import AdapterRegistry

    if settings.model.base == "embedded":
        ensure_base_model(settings.paths.models)
    registry = AdapterRegistry(settings.paths.adapters)
    if settings.model.base != "embedded":
        shipped = registry.ensure_default(base=settings.model.base)
        if shipped:
            return shipped
    run_dir = settings.paths.reports / "bootstrap"
    run_dir.mkdir(parents=True, exist_ok=True)
    train = run_dir / "train.jsonl"
    lines = (REPO / "training" / "data" / "train.jsonl").read_text().splitlines(keepends=True)
    train.write_text("".join(lines[: args.starter]))

    class Job:
        run_id, current, heldout_file = 0, None, run_dir / "heldout.jsonl"

    Job.run_dir, Job.train_file = run_dir, train
    version = SubprocessTrainer(settings, overrides)(Job, lambda: None)
    registry.promote(version)
    return version


def seed_thumbs_up(settings, rows: list[dict]) -> None:
    """What 50 Slack users clicking thumbs-up on good Flyway answers leaves in the store."""
    from bot.engine.answer import Answer
    from bot.learning.feedback import FeedbackService
    from bot.store import Store
    from training.inference.prompt import parse_answer

    store = Store.from_settings(settings)
    feedback = FeedbackService(store, None, settings, bot_user_id="UBOT")
    for i, row in enumerate(rows):
        cause, fix = parse_answer(row["output"])
        answer = Answer(route="finetune", root_cause=cause, fix=fix, category=row["category"],
                        model={"base": settings.model.base, "adapter": "demo"})
        aid = store.save_answer(request_key=f"demo:{i}", answer=answer, question="why did the migration fail?",
                                excerpt=row["input"], channel="CDEMO", thread_ts=f"{1000 + i}.0")
        feedback.on_vote(aid, f"U{i % 7}", 1)
    store.close()


def retrain(settings, overrides, starter: int, shuffled: bool = False) -> dict:
    from bot.learning.trainer import SubprocessTrainer, build_retrainer
    from training.registry import AdapterRegistry

    retrainer = build_retrainer(settings, train_overrides=overrides, starter_limit=starter)
    if shuffled:
        retrainer.trainer = ShuffledTrainer(SubprocessTrainer(settings, overrides))
    before = AdapterRegistry(settings.paths.adapters).current()
    result = retrainer.run(force=True)
    retrainer.store.close()
    after = AdapterRegistry(settings.paths.adapters).current()
    out = result.to_json()
    out.pop("review")
    out.update(current_before=before, current_after=after, unchanged=before == after)
    return out


class ShuffledTrainer:
    """Trains on the job's data with every output moved to another example: a broken candidate."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, job, heartbeat):
        rows = [json.loads(line) for line in job.train_file.read_text().splitlines() if line.strip()]
        outputs = [r["output"] for r in rows]
        random.Random(0).shuffle(outputs)
        job.train_file.write_text("".join(json.dumps({**r, "output": o}) + "\n" for r, o in zip(rows, outputs)))
        return self.inner(job, heartbeat)


def score(settings, version: str | None, rows: list[dict]) -> dict:
    """The held-out Flyway metric for one adapter version, in a child process like the gate."""
    path = settings.paths.reports / "flyway_heldout.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code = ("import json,sys\nfrom bot.settings import load_settings\nfrom bot.learning.trainer import score_versions\n"
            "s = load_settings(home=sys.argv[1], scheduler={'eval_suites': [], 'eval_limit': 1000},"
            " train={'max_seq_len': int(sys.argv[4])}, model={'max_new_tokens': int(sys.argv[5]), 'base': sys.argv[6]})\n"
            "m = score_versions(s, {'version': sys.argv[2]}, __import__('pathlib').Path(sys.argv[3]))\n"
            "print(json.dumps(m['version']['feedback']))\n")
    out = subprocess.run([sys.executable, "-c", code, str(settings.home), version, str(path),
                          str(settings.train.max_seq_len), str(settings.model.max_new_tokens), settings.model.base],
                         capture_output=True, text=True, check=True)
    metrics = json.loads(out.stdout.strip().splitlines()[-1])
    return {k: metrics.get(k) for k in ("n", "format_compliance", "id_recall")}


def print_table(report: dict) -> None:
    fly = report["flyway_heldout"]
    print(f"Flyway held-out ({fly['before']['n']} examples): metric   before ({fly['current_before']})"
          f"   after ({fly['current_after']})")
    for m in ("format_compliance", "id_recall"):
        print(f"  {m:<18} {fly['before'][m]!s:>10} {fly['after'][m]!s:>12}")
    for name in ("good_candidate", "broken_candidate"):
        r = report[name]
        print(f"{name}: candidate {r['candidate']} promoted={r['promoted']} current unchanged={r['unchanged']}")
        print(f"  {r['reason']}")
        for suite in sorted(r["metrics"].get("current", {})):
            cur, cand = r["metrics"]["current"][suite], r["metrics"]["candidate"][suite]
            print(f"  {suite:<9} " + "  ".join(f"{k} {cur.get(k)} -> {cand.get(k)}" for k in
                                              ("format_compliance", "json_valid", "id_recall")))
    print(f"timings: {report['timings']}")


if __name__ == "__main__":
    sys.exit(main())
