"""Which identifiers of an excerpt name the failure: the files, tests and symbols a root cause
should quote.

The key line says *that* something failed ("make: *** [libs] Error 2", "rake aborted!"); the
line that says *what* failed is often beside it ("beam_ssa.erl:127: import lists:umerge/1 is
unused", "No Rakefile found"). A small listwise ranker (softmax over the excerpt's lines, a few
dozen readable features: failure weight, the best block's anchors, how many specific identifiers
a line names, frames, CI scaffolding) picks the lines, and the first identifier of each of the
best lines is quoted.

Weights ship in retrieval/logs/naming_weights.json. `cibot dev naming [--datasets DIR]` (bot/engine/naming_fit.py)
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

from retrieval.logs import signals
from retrieval.logs.evidence import BRACKET_TS, ERRORISH, failure_weight, key_line, terms
from retrieval.logs.identifiers import identifiers
from retrieval.types import Excerpt, LogLine

WEIGHTS_FILE = Path(__file__).resolve().parent / "naming_weights.json"
FEATURE_VERSION = "1"
_FILE_LINE = re.compile(r"[\w/.\-]+\.\w{1,6}[:(]\d+|line \d+ of \S+")
_FRAME = re.compile(r"^\s*(?:at |File \"|from |#\d+ )")
_TRAVIS_HOME = re.compile(r"/(?:home|Users)/travis/")
# Tokens that look specific but name nothing to open: clock times, transfer rates, separators
# ("_______________ test_x ____").
_NOT_A_NAME = re.compile(r"^T?\d{1,2}:\d\d|^\w{1,4}/s(?:ec)?$|^[\W_]+$")
# An escape printed inside a string (left: "\n21:37:31.096 [warn]"): its letter is no part of the
# name after it. Not in a Windows path (D:\a\repo\tests\test_x.py), where "\t" starts a folder.
_ESCAPE = re.compile(r"\\[ntr](?=[\dA-Z\[ ])")
_WINDOWS_PATH = re.compile(r"\b[A-Za-z]:\\")

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


def features(lines: Sequence[LogLine], focus: Sequence[int] = (), span: tuple[int, int] | None = None,
             before: int | None = None) -> np.ndarray:
    """One row of FEATURES per excerpt line."""
    key = key_line(lines, before)
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
    scores = features(excerpt.lines, excerpt.focus, excerpt.focus_span, excerpt.post_build) @ w
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
        if not _WINDOWS_PATH.search(text):
            text = _ESCAPE.sub(" ", text)
        first = next((x for x in identifiers(text) if x.lower() not in said and not _NOT_A_NAME.match(x)
                      and all(x.lower() != n.text.lower() for n in out)), None)
        if first is not None:
            out.append(Named(first, ln.at))
        if len(out) >= at_most:
            break
    return out
