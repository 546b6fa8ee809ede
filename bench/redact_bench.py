"""Redaction: recall on the planted secret corpus, and precision on real CI logs, side by side.

  baseline  detect-secrets' maintained plugin regexes alone
  ours      retrieval.logs.redact (those plugins + command-line secrets + service tokens + assignments)

Recall: share of planted secrets (tests/test_redact.py CORPUS, 40+ kinds) gone from the output.
Precision: lines altered per 1,000 ordinary lines of ../shared/datasets (a seeded sample of each
log set; a real log may hold a real secret, so this is an upper bound on false redactions).
Speed: MB/s over the same sample.

    python bench/redact_bench.py [--logs 120] [--lines 500]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_redact import CORPUS  # noqa: E402

from retrieval.logs import redact as ours  # noqa: E402


def baseline(line: str) -> str:
    for _, rx in ours._detect_secrets_patterns():
        line = rx.sub("[REDACTED]", line)
    return line


def sample(datasets: Path, logs: int, per_log: int) -> list[str]:
    from training.finetune.reallogs import sample_lines

    return sample_lines(datasets, logs, per_log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path, default=None)
    parser.add_argument("--logs", type=int, default=120)
    parser.add_argument("--lines", type=int, default=500)
    args = parser.parse_args()
    from training.finetune.reallogs import datasets_dir

    args.datasets = datasets_dir(args.datasets)
    kinds = {ours.redact(line).kinds[0] for line, _, _ in CORPUS if ours.redact(line).kinds}
    lines = sample(args.datasets, args.logs, args.lines)
    size = sum(len(x) + 1 for x in lines) / 1e6
    print(f"planted: {len(CORPUS)} secrets of {len(kinds)} kinds; real lines: {len(lines)} ({size:.1f} MB) "
          f"from {args.logs} logs")
    print(f"{'':10} {'recall':>8} {'altered/1000':>13} {'MB/s':>7}")
    for name, fn in (("baseline", baseline), ("ours", lambda x: ours.redact(x).text)):
        caught = sum(secret not in fn(line) for line, secret, _ in CORPUS)
        started = time.perf_counter()
        altered = [x for x in lines if fn(x) != x]
        speed = size / (time.perf_counter() - started)
        print(f"{name:10} {caught / len(CORPUS):>8.3f} {1000 * len(altered) / len(lines):>13.2f} {speed:>7.1f}")
        if name == "ours" and altered:
            print("  altered lines (first 10):")
            for x in altered[:10]:
                print("   ", x[:160])


if __name__ == "__main__":
    main()
