"""Blind A/B packets for judges, and their scores unblinded.

    python bench/judge/pack.py make OLD.json NEW.json --out DIR [--judges 4] [--seed 7]
        writes DIR/batch{0..}.json (each item: the log, its labelled failure, answers X and Y in a
        random order) and DIR/mapping.json (kept from the judges)
    # each judge (a person, or an agent given only rubric.md, its batch and the logs) writes
    # DIR/scores{k}.json: [{"id", "answer": "X"|"Y", "own", "served", "fix", "readable", "why"}]
    python bench/judge/pack.py score DIR
        prints the means of both systems as fractions of the maximum (own, served, fix: 0-2;
        readable: 0-1), side by side
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

FIELDS = ("own_root_cause", "served_root_cause", "served_fix", "note")
POINTS = (("own", 2), ("served", 2), ("fix", 2), ("readable", 1))


def make(old: Path, new: Path, out: Path, judges: int, seed: int) -> None:
    a = {x["id"]: x for x in json.loads(old.read_text())}
    b = {x["id"]: x for x in json.loads(new.read_text())}
    rng, mapping = random.Random(seed), {}
    batches: list[list[dict]] = [[] for _ in range(judges)]
    for k, i in enumerate(sorted(a.keys() & b.keys())):
        assert a[i]["log"] == b[i]["log"], f"item {i}: the two runs answered different logs"
        pair = [("old", a[i]), ("new", b[i])]
        rng.shuffle(pair)
        mapping[i] = {"X": pair[0][0], "Y": pair[1][0]}
        batches[k % judges].append({"id": i, "log": a[i]["log"], "labelled_failure": a[i].get("labelled_failure") or b[i]["labelled_failure"],
                                    "answers": {key: {f: ans[f] for f in FIELDS}
                                                for key, (_, ans) in zip("XY", pair)}})
    out.mkdir(parents=True, exist_ok=True)
    for k, batch in enumerate(batches):
        (out / f"batch{k}.json").write_text(json.dumps(batch, indent=1))
    (out / "mapping.json").write_text(json.dumps(mapping))
    print(f"{sum(map(len, batches))} items in {judges} batches under {out}")


def score(folder: Path) -> None:
    mapping = json.loads((folder / "mapping.json").read_text())
    totals: dict[str, dict[str, list[float]]] = {"old": {}, "new": {}}
    for path in sorted(folder.glob("scores*.json")):
        for s in json.loads(path.read_text()):
            system = mapping[str(s["id"])][s["answer"]]
            for point, top in POINTS:
                totals[system].setdefault(point, []).append(s[point] / top)
    print(f"{'system':<8}{'n':>4}" + "".join(f"{p:>10}" for p, _ in POINTS))
    for system, points in totals.items():
        n = len(points.get("own", []))
        print(f"{system:<8}{n:>4}" + "".join(f"{sum(points[p]) / max(n, 1):>10.3f}" for p, _ in POINTS))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("old", type=Path)
    m.add_argument("new", type=Path)
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--judges", type=int, default=4)
    m.add_argument("--seed", type=int, default=7)
    s = sub.add_parser("score")
    s.add_argument("folder", type=Path)
    args = ap.parse_args()
    if args.cmd == "make":
        make(args.old, args.new, args.out, args.judges, args.seed)
    else:
        score(args.folder)


if __name__ == "__main__":
    main()
