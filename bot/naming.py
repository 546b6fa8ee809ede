"""Which identifiers of an excerpt name the failure: the files, tests and symbols a root cause
should quote.

The key line says *that* something failed ("make: *** [libs] Error 2", "rake aborted!"); the
line that says *what* failed is often beside it ("beam_ssa.erl:127: import lists:umerge/1 is
unused", "No Rakefile found"). A small listwise ranker (softmax over the excerpt's lines, a few
dozen readable features: failure weight, the best block's anchors, how many specific identifiers
a line names, frames, CI scaffolding) picks the lines, and the first identifier of each of the
best lines is quoted.

Weights ship in bot/data/naming_weights.json. `cibot dev naming [--datasets DIR]`
trains them on the LogChunks labels (does a line name one of the labelled chunk's identifiers?),
prints a cross-validation grouped by repository (the honest estimate for repositories never
seen) next to the key-line baseline, and `--write` saves them.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from bot.evidence import BRACKET_TS, ERRORISH, failure_weight, key_line, terms
from retrieval.logs import signals
from retrieval.logs.identifiers import identifiers
from retrieval.types import Excerpt, LogLine
from training.reallogs import datasets_dir

WEIGHTS_FILE = Path(__file__).resolve().parent / "data" / "naming_weights.json"
FEATURE_VERSION = "1"
_FILE_LINE = re.compile(r"[\w/.\-]+\.\w{1,6}[:(]\d+|line \d+ of \S+")
_FRAME = re.compile(r"^\s*(?:at |File \"|from |#\d+ )")
_TRAVIS_HOME = re.compile(r"/(?:home|Users)/travis/")
# Tokens that look specific but name nothing to open: clock times, transfer rates, separators
# ("_______________ test_x ____").
_NOT_A_NAME = re.compile(r"^T?\d{1,2}:\d\d|^\w{1,4}/s(?:ec)?$|^[\W_]+$")

FEATURES = (
    "bias", "weight", "weight_prev", "weight_next", "summary", "exit", "scaffold",
    "identifiers", "file_line", "in_best_block", "at_anchor", "anchor+1", "anchor+2..3", "anchor-1",
    "anchor+4..", "key_line", "beside_key_line", "position", "last_3", "indented", "long",
    "errorish", "url", "blank", "heaviest", "frame", "shares_key_terms", "repeated_identifier",
    "first_named_after_heavy", "first_named", "quoted", "ci_home_path", "only_deep_paths",
)


@dataclass(frozen=True)
class Named:
    """An identifier the failure names, and the line it was quoted from."""

    text: str
    line: int


def features(lines: Sequence[LogLine], focus: Sequence[int] = (), span: tuple[int, int] | None = None) -> np.ndarray:
    """One row of FEATURES per excerpt line."""
    key = key_line(lines)
    ki = lines.index(key) if key is not None else -1
    key_terms = terms(key.text) if key is not None else set()
    first_anchor = focus[0] if focus else None
    weights = [max(0.0, min(10.0, failure_weight(ln.text))) / 10 for ln in lines]
    heaviest = max(weights, default=0.0)
    named = [identifiers(ln.text) for ln in lines]
    counts = Counter(x.lower() for ids in named for x in set(ids))
    after_heavy = next((i for i in range(len(lines))
                        if named[i] and any(weights[j] >= 0.7 for j in range(max(0, i - 3), i + 1))), -1)
    first_named = next((i for i in range(len(lines)) if named[i]), -1)
    rows = []
    for i, ln in enumerate(lines):
        text, ids = ln.text, named[i]
        in_best = span is not None and span[0] <= ln.n <= span[1]
        d = ln.n - first_anchor if (first_anchor is not None and in_best) else None
        rows.append([
            1.0, weights[i], weights[i - 1] if i > 0 else 0.0, weights[i + 1] if i + 1 < len(lines) else 0.0,
            bool(signals.SUMMARY.search(text)), bool(signals.EXIT.search(text)),
            bool(signals.SCAFFOLD.search(text)) or text.startswith("The command"),
            min(len(ids), 3) / 3, bool(_FILE_LINE.search(text)), in_best,
            d == 0, d == 1, d is not None and 2 <= d <= 3, d == -1, d is not None and d > 3,
            i == ki, abs(i - ki) == 1, i / max(1, len(lines)), i >= len(lines) - 3,
            text[:1].isspace(), len(text) > 200, bool(ERRORISH.search(text)), "://" in text, not text.strip(),
            heaviest > 0 and weights[i] == heaviest, bool(_FRAME.search(text)),
            i != ki and bool(terms(text) & key_terms),
            min(max((counts[x.lower()] for x in ids), default=0), 5) / 5,
            i == after_heavy, i == first_named, any(q in text for q in "'\"`"),
            bool(_TRAVIS_HOME.search(text)), bool(ids) and all(x.count("/") >= 3 for x in ids),
        ])
    return np.asarray(rows, dtype=np.float64).reshape(len(lines), len(FEATURES))


@lru_cache(maxsize=1)
def shipped_weights() -> np.ndarray:
    data = json.loads(WEIGHTS_FILE.read_text())
    if data.get("version") != FEATURE_VERSION or data.get("features") != list(FEATURES):
        raise RuntimeError(f"{WEIGHTS_FILE} is stale: retrain with `cibot dev naming --write`")
    return np.asarray(data["weights"], dtype=np.float64)


def rank_lines(excerpt: Excerpt, weights: np.ndarray | None = None) -> list[int]:
    """Indexes of excerpt.lines, the line most likely to name the failure first."""
    if not excerpt.lines:
        return []
    w = shipped_weights() if weights is None else weights
    scores = features(excerpt.lines, excerpt.focus, excerpt.focus_span) @ w
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def named(excerpt: Excerpt, skip: str = "", at_most: int = 4, lines: int = 4,
          weights: np.ndarray | None = None) -> list[Named]:
    """The first new identifier of each of the `lines` best-ranked lines (up to `at_most`);
    identifiers that `skip` (the text already said) contains are not new."""
    out: list[Named] = []
    said = skip.lower()
    for i in rank_lines(excerpt, weights)[:lines]:
        ln = excerpt.lines[i]
        text = BRACKET_TS.sub("", signals.strip_timestamp(ln.text))
        first = next((x for x in identifiers(text) if x.lower() not in said and not _NOT_A_NAME.match(x)
                      and all(x.lower() != n.text.lower() for n in out)), None)
        if first is not None:
            out.append(Named(first, ln.n))
        if len(out) >= at_most:
            break
    return out


# ---- training on labelled logs (development data; run by hand, not at serving time) ------------

def _samples(datasets: Path) -> list[tuple[str, np.ndarray, np.ndarray, Excerpt, list[str]]]:
    """(repository, features, labels, excerpt, key ids) per LogChunks log with key identifiers."""
    from retrieval.logs.excerpt import extract
    from training.evaluate import chunk_ids

    rows = [json.loads(l) for l in (datasets / "logchunks.jsonl").read_text().splitlines() if l.strip()]
    out = []
    for row in rows:
        ids = chunk_ids(row.get("chunk") or "")
        excerpt = extract(datasets / row["log"], max_lines=30)
        if not ids or not excerpt.lines:
            continue
        wanted = [x.lower() for x in ids]
        labels = np.array([any(x in ln.text.lower() for x in wanted) for ln in excerpt.lines], dtype=np.float64)
        out.append((row["repository"], features(excerpt.lines, excerpt.focus, excerpt.focus_span), labels, excerpt, ids))
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
    from bot.fallback import from_excerpt

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
