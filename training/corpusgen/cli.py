"""`cibot dev corpus --out training/data --seed 7`: write the synthetic corpus.

Writes train.jsonl and heldout.jsonl; with --incidents PATH the knowledge base's past incidents,
and with --demo-logs DIR the bundled demo logs.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from . import build, readme


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)  # readers polling the file never see half of it


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cibot dev corpus", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("training/data"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-type", type=int, default=25, help="instances generated per failure type")
    ap.add_argument("--incidents", type=Path, help="also write past incidents JSONL here")
    ap.add_argument("--incident-seed", type=int, default=1009)
    ap.add_argument("--incidents-per-type", type=int, default=5)
    ap.add_argument("--demo-logs", type=Path, help="also write the demo logs into this folder")
    args = ap.parse_args(argv)

    train, heldout = build.generate(seed=args.seed, per_type=args.per_type)
    write_jsonl(args.out / "train.jsonl", train)
    write_jsonl(args.out / "heldout.jsonl", heldout)
    (args.out / "README.md").write_text(readme.render(train, heldout), encoding="utf-8")
    cats = Counter(r["category"] for r in train + heldout)
    print(f"train={len(train)} heldout={len(heldout)} types={len({r['type'] for r in train})} categories={dict(cats)}")
    if args.incidents:
        from . import incidents

        rows = incidents.generate(seed=args.incident_seed, per_type=args.incidents_per_type)
        write_jsonl(args.incidents, rows)
        print(f"incidents={len(rows)} -> {args.incidents}")
    if args.demo_logs:
        from . import demo

        names = demo.write(args.demo_logs)
        print(f"demo logs: {', '.join(names)} -> {args.demo_logs}")
    return 0
