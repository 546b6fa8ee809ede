"""Excerpt quality on the shared datasets: baselines and ours side by side, in one run.

usage: python bench/excerpt_bench.py [DATASETS_DIR] [--detail]

Recall is computed by `score` from ../shared/eval/score_excerpts.py (loaded, not re-implemented):
labelled lines found / min(labelled lines, budget). Prints, for LogChunks and CiDiff at 30 and 60
lines: tail baseline, keyword-grep baseline, ours; for CiDiff also ours with the passing log; and
category accuracy against BugSwarm's coarse `failure_category` labels (mapping in BUGSWARM_MAP).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from retrieval.logs.excerpt import extract  # noqa: E402

# BugSwarm's coarse labels -> our taxonomy ids. "Unknown" rows are skipped (no ground truth);
# "Execution"/"License" are too rare and vague to map and are skipped as well.
BUGSWARM_MAP = {
    "Test": "test",
    "Compilation": "compilation",
    "Checkstyle": "lint",
    "Documentation": "docs",
    "Missing library": "dependency",
    "Unable to clone": "infrastructure",
}


def load_scorer(datasets: Path):
    path = datasets.parent / "eval" / "score_excerpts.py"
    ns: dict = {"__name__": "score_excerpts"}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    return ns


def rows(datasets: Path, name: str) -> list[dict]:
    with open(datasets / f"{name}.jsonl") as fh:
        return [json.loads(line) for line in fh]


def run_quality(datasets: Path, detail: bool) -> None:
    sc = load_scorer(datasets)
    table: dict[str, dict] = {}
    per_log: dict[str, dict] = {}
    started = time.perf_counter()
    for budget in (30, 60):
        systems: dict[str, dict[str, list[str]]] = {"tail": {}, "grep": {}, "ours": {}, "ours+pass": {}}
        for name in ("logchunks", "cidiff"):
            for row in rows(datasets, name):
                path = datasets / row["log"]
                lines = sc["read_lines"](str(path))
                systems["tail"][row["log"]] = sc["baseline_tail"](lines, budget)
                systems["grep"][row["log"]] = sc["baseline_grep"](lines, budget)
                ex = extract(path, max_lines=budget)
                systems["ours"][row["log"]] = [ln.text for ln in ex.lines]
                if name == "cidiff" and row.get("pass_log"):
                    exp = extract(path, max_lines=budget, pass_log=datasets / row["pass_log"])
                    systems["ours+pass"][row["log"]] = [ln.text for ln in exp.lines]
                if detail and budget == 30:
                    one = sc["score"](str(datasets), {row["log"]: systems["ours"][row["log"]]}, budget)
                    per_log[row["log"]] = one.get(name, {}).get("recall")
        for system, ex in systems.items():
            table[(system, budget)] = sc["score"](str(datasets), ex, budget) if ex else {}
        if budget == 30:
            systems_at_30 = systems
    elapsed = time.perf_counter() - started
    print(f"{'system':<10} {'LogChunks@30':>13} {'LogChunks@60':>13} {'CiDiff@30':>10} {'CiDiff@60':>10}")
    for system in ("tail", "grep", "ours", "ours+pass"):
        cells = []
        for name in ("logchunks", "cidiff"):
            for budget in (30, 60):
                r = table[(system, budget)].get(name, {}).get("recall")
                cells.append("-" if r is None else f"{r:.3f}")
        print(f"{system:<10} {cells[0]:>13} {cells[1]:>13} {cells[2]:>10} {cells[3]:>10}")
    print(f"(quality pass took {elapsed:.1f}s)")
    by_repository(datasets, sc, systems_at_30)
    if detail:
        worst = sorted((v, k) for k, v in per_log.items() if v is not None)[:40]
        for v, k in worst:
            print(f"  {v:.2f} {k}")


def by_repository(datasets: Path, sc: dict, systems: dict) -> None:
    """The headline split by repository: LogChunks recall@30 in each of the five repository folds
    (training/reallogs.fold_of, the folds the adapter is trained and held out on), the spread
    between folds, and the share of logs where nothing labelled was found. The excerpter has no
    fitted weights, so these figures are what a repository outside the dev half should expect; its
    hand-set thresholds were chosen on all of the dev half, which this split cannot undo."""
    from training.finetune.reallogs import FOLDS, fold_of

    logs = rows(datasets, "logchunks")
    print(f"\nLogChunks recall@30 by repository fold ({len({r['repository'] for r in logs})} repositories):")
    print(f"{'fold':<6} {'logs':>5} {'tail':>7} {'ours':>7} {'zero-recall (ours)':>19}")
    per_fold = []
    zero_all = 0
    for f in range(FOLDS):
        part = [r for r in logs if fold_of(r["repository"]) == f]
        cells = {}
        for system in ("tail", "ours"):
            subset = {r["log"]: systems[system][r["log"]] for r in part}
            cells[system] = sc["score"](str(datasets), subset, 30).get("logchunks", {}).get("recall", 0.0)
        zero = sum(1 for r in part if not sc["score"](str(datasets), {r["log"]: systems["ours"][r["log"]]}, 30)
                   .get("logchunks", {}).get("recall"))
        zero_all += zero
        per_fold.append(cells["ours"])
        print(f"{f:<6} {len(part):>5} {cells['tail']:>7.3f} {cells['ours']:>7.3f} {zero / max(len(part), 1):>19.3f}")
    print(f"folds: mean {sum(per_fold) / len(per_fold):.3f}, worst {min(per_fold):.3f}, best {max(per_fold):.3f}; "
          f"zero-recall logs overall {zero_all / max(len(logs), 1):.3f}")


def run_category(datasets: Path, detail: bool) -> None:
    confusion: Counter = Counter()
    hits = total = 0
    for row in rows(datasets, "bugswarm"):
        want = BUGSWARM_MAP.get(row["failure_category"])
        if want is None:
            continue
        got = extract(datasets / row["log"]).category
        total += 1
        hits += got == want
        confusion[(want, got)] += 1
    print(f"category accuracy vs BugSwarm (mapped labels, n={total}): {hits / max(total, 1):.3f}")
    if detail:
        for (want, got), n in sorted(confusion.items(), key=lambda kv: -kv[1]):
            print(f"  {want:>12} -> {got:<14} {n}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("datasets", nargs="?", default=None)
    ap.add_argument("--detail", action="store_true", help="print the worst logs and the confusion table")
    ap.add_argument("--skip-category", action="store_true")
    args = ap.parse_args()
    from training.finetune.reallogs import datasets_dir

    datasets = datasets_dir(args.datasets and Path(args.datasets)).resolve()
    run_quality(datasets, args.detail)
    if not args.skip_category:
        run_category(datasets, args.detail)


if __name__ == "__main__":
    main()
