"""The most identifier slots could add to SmolLM2's own root cause: slots make a copied name exact,
so they only turn a miss into a hit where the model wrote a garbled copy of a key identifier.

    .venv/bin/python bench/reallog_bench.py --systems smollm2+adapter --out /tmp/rl.json
    .venv/bin/python bench/slot_bound.py /tmp/rl.json [--cutoff 0.75]

Prints, per system in the file: answers, own-cause misses, and the misses that hold a near copy
(difflib ratio >= cutoff) of a labelled key identifier, i.e. the upper bound on what slots win.
"""
from __future__ import annotations

import argparse
import difflib
import json
import re
from pathlib import Path


def bound(samples: list[dict], cutoff: float) -> tuple[int, int, list[tuple[str, str, str]]]:
    misses, near = 0, []
    for s in samples:
        own = s["answer"].split("\n")[0].lower()
        if any(i.lower() in own for i in s["ids"]):
            continue
        misses += 1
        words = set(re.findall(r"[\w./:@#-]{4,}", own))
        for ident in s["ids"]:
            close = difflib.get_close_matches(ident.lower(), words, n=1, cutoff=cutoff)
            if close:
                near.append((s["log"], ident, close[0]))
                break
    return misses, len(near), near


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", type=Path, help="a bench/reallog_bench.py --out file")
    ap.add_argument("--cutoff", type=float, default=0.75)
    args = ap.parse_args()
    for system, result in json.loads(args.results.read_text()).items():
        samples = result["samples"]
        misses, near, pairs = bound(samples, args.cutoff)
        print(f"{system}: {len(samples)} answers, own cause missed {misses}, of which a near copy of a key id "
              f"{near}: slots could add at most {near / max(len(samples), 1):.3f}")
        for log, ident, written in pairs:
            print(f"  {ident!r} written as {written!r}  ({log})")


if __name__ == "__main__":
    main()
