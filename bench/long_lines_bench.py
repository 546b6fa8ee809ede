"""Lines of 60k characters with no '/' in them (minified JS, base64 blobs, progress bars): the cost
of classifying them, with the old path pattern (baseline) and the per-token pass (ours), side by side,
and the whole excerpt of a log with 20 such lines.

    python bench/long_lines_bench.py
"""
from __future__ import annotations

import re
import time

from retrieval.logs import classify
from retrieval.logs.excerpt import extract

OLD_PATH = re.compile(r"[\w.@~-]*/[\w.@~/-]*|\b\w+(?:\.\w+){2,}")
SHAPES = {"letters": "a" * 60_000, "snake_case": "a_" * 30_000, "digits": "1" * 60_000,
          "base64": "QUJD" * 15_000, "words": ("x" * 50 + " ") * 1_200}


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    print(f"{'60k-char line':<12} {'baseline s':>11} {'ours s':>8}")
    for name, line in SHAPES.items():
        base = timed(lambda: OLD_PATH.sub(" ", line))
        ours = timed(lambda: classify.strip_paths(line))
        print(f"{name:<12} {base:>11.3f} {ours:>8.3f}")
    log = ("\n".join(["a_" * 30_000] * 20) + "\nerror: boom\n").encode()
    print(f"excerpt of a log with 20 such lines: {timed(lambda: extract(log)):.2f} s")


if __name__ == "__main__":
    main()
