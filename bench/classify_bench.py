"""The failure-category classifier on BugSwarm's labelled logs, per repository fold.

    nice .venv/bin/python bench/classify_bench.py [--datasets ../shared/datasets]

BugSwarm labels each failing log with a failure category. Those with a counterpart in cibot's
taxonomy are scored (Test -> test, Compilation -> compilation, Checkstyle -> lint, Missing
library -> dependency, Unable to clone -> infrastructure); Unknown, Execution and License are left
out. The classifier (retrieval/logs/classify.py) is hand-written rules with no fitted weights,
so its figure on each repository fold (training/reallogs.fold_of, the folds every grouped figure
uses) is what a repository it never saw should expect; the spread between folds is the honest
range. Baseline: always the most common category ("test").
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TO_TAXONOMY = {"Test": "test", "Compilation": "compilation", "Checkstyle": "lint",
               "Missing library": "dependency", "Unable to clone": "infrastructure"}


def main(argv=None) -> int:
    from retrieval.logs.excerpt import extract
    from training.finetune.reallogs import FOLDS, datasets_dir, fold_of

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=None)
    args = ap.parse_args(argv)
    datasets = datasets_dir(args.datasets)
    rows = [json.loads(line) for line in (datasets / "bugswarm.jsonl").read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("failure_category") in TO_TAXONOMY]
    per_fold: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        got = extract(datasets / row["log"], max_lines=30).category
        per_fold[fold_of(row["repository"])].append((TO_TAXONOMY[row["failure_category"]], got))
    pairs = [p for fold in per_fold.values() for p in fold]
    majority = Counter(want for want, _ in pairs).most_common(1)[0][0]

    def accuracy(items, guess=None) -> float:
        return sum((guess or got) == want for want, got in items) / max(len(items), 1)

    print(f"BugSwarm logs with a taxonomy counterpart: {len(pairs)} from {len({r['repository'] for r in rows})} "
          f"repositories; classes {dict(Counter(w for w, _ in pairs))}")
    print(f"\n{'fold':<6}{'n':>5}{'majority (' + majority + ')':>20}{'classifier':>12}")
    for fold in range(FOLDS):
        items = per_fold.get(fold, [])
        print(f"{fold:<6}{len(items):>5}{accuracy(items, majority):>20.3f}{accuracy(items):>12.3f}")
    print(f"{'all':<6}{len(pairs):>5}{accuracy(pairs, majority):>20.3f}{accuracy(pairs):>12.3f}")
    folds = [accuracy(per_fold[f]) for f in range(FOLDS) if per_fold.get(f)]
    print(f"per-fold mean {sum(folds) / len(folds):.3f}, worst {min(folds):.3f}")
    print("\nper class (recall): " + ", ".join(
        f"{c} {accuracy([p for p in pairs if p[0] == c]):.2f} (n={sum(1 for p in pairs if p[0] == c)})"
        for c in sorted({w for w, _ in pairs})))
    confused = Counter((w, g) for w, g in pairs if w != g).most_common(6)
    print("most confused (label -> classifier): " + ", ".join(f"{w}->{g} x{n}" for (w, g), n in confused))
    return 0


if __name__ == "__main__":
    sys.exit(main())
