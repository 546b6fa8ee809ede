"""Fitting and scoring the naming ranker (retrieval/logs/naming.py) on labelled logs: development data, run
by hand (`cibot dev naming [--datasets DIR] [--write]`), never at serving time.

It prints the hit rate (the extractive root cause names one of the LogChunks chunk's key
identifiers) of the key line alone, of the ranker in a 5-fold cross-validation grouped by
repository (the honest estimate for repositories never seen), and in-sample; `--write` ships the
weights trained on every log.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from bot.engine.fallback import from_excerpt
from retrieval.logs.excerpt import extract
from retrieval.logs.naming import FEATURE_VERSION, FEATURES, WEIGHTS_FILE, features
from retrieval.types import Excerpt
from training.eval.evaluate import chunk_ids
from training.finetune.reallogs import datasets_dir


def _samples(datasets: Path) -> list[tuple[str, np.ndarray, np.ndarray, Excerpt, list[str]]]:
    """(repository, features, labels, excerpt, key ids) per LogChunks log with key identifiers."""
    rows = [json.loads(l) for l in (datasets / "logchunks.jsonl").read_text().splitlines() if l.strip()]
    out = []
    for row in rows:
        ids = chunk_ids(row.get("chunk") or "")
        excerpt = extract(datasets / row["log"], max_lines=30)
        if not ids or not excerpt.lines:
            continue
        wanted = [x.lower() for x in ids]
        labels = np.array([any(x in ln.text.lower() for x in wanted) for ln in excerpt.lines], dtype=np.float64)
        out.append((row["repository"], features(excerpt.lines, excerpt.focus, excerpt.focus_span, excerpt.post_build), labels, excerpt, ids))
    return out


def train(samples, l2: float = 0.01, steps: int = 600, lr: float = 0.5) -> np.ndarray:
    """Listwise softmax regression: each log's probability mass should sit on its naming lines."""
    usable = [(x, y) for _, x, y, _, _ in samples if y.sum() > 0]
    w = np.zeros(len(FEATURES))
    for _ in range(steps):
        grad = l2 * w
        for x, y in usable:
            s = x @ w
            p = np.exp(s - s.max())
            grad += x.T @ (p / p.sum() - y / y.sum()) / len(usable)
        w -= lr * grad
    return w


def hit_rate(samples, weights: np.ndarray | None) -> float:
    """Share of logs whose extractive root cause (key line + named identifiers) names a key id;
    with weights=None, the key line alone."""
    hits = 0
    for *_, excerpt, ids in samples:
        cause = from_excerpt(excerpt, weights=weights, names=weights is not None)[0].lower()
        hits += any(x.lower() in cause for x in ids)
    return hits / max(len(samples), 1)


def cross_validate(samples, folds: int = 5, seeds: Sequence[int] = (0, 1, 2)) -> list[float]:
    """Hit rate on repositories held out of training, one figure per shuffle of the folds."""
    import random

    repos = sorted({s[0] for s in samples})
    out = []
    for seed in seeds:
        order = repos[:]
        random.Random(seed).shuffle(order)
        hits = 0.0
        for f in range(folds):
            held = set(order[f::folds])
            w = train([s for s in samples if s[0] not in held])
            test = [s for s in samples if s[0] in held]
            hits += hit_rate(test, w) * len(test)
        out.append(hits / len(samples))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="cibot dev naming", description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", type=Path, default=datasets_dir())
    ap.add_argument("--write", action="store_true", help=f"save the weights to {WEIGHTS_FILE}")
    args = ap.parse_args(argv)
    samples = _samples(args.datasets)
    repos = len({s[0] for s in samples})
    print(f"{len(samples)} LogChunks logs with key identifiers, {repos} repositories")
    print(f"key line only (no ranker):              {hit_rate(samples, None):.3f}")
    cv = cross_validate(samples)
    print(f"ranker, 5-fold by repository (3 seeds): {' '.join(f'{v:.3f}' for v in cv)}  mean {np.mean(cv):.3f}")
    w = train(samples)
    print(f"ranker trained on all (in-sample):      {hit_rate(samples, w):.3f}")
    for name, value in sorted(zip(FEATURES, w), key=lambda fv: -abs(fv[1]))[:8]:
        print(f"  {name:<24}{value:+.2f}")
    if args.write:
        WEIGHTS_FILE.write_text(json.dumps({"version": FEATURE_VERSION, "features": list(FEATURES),
                                            "weights": [round(float(v), 5) for v in w]}, indent=1) + "\n")
        print(f"wrote {WEIGHTS_FILE}")
