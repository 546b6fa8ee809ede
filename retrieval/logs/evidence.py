"""Ground an answer in what was actually seen: evidence lines, cited sources, confidence.

Everything here is pure. Evidence is always a subset of the redacted excerpt's lines, copied as they
are (never text the model wrote); sources are always passages that were retrieved, scored above the
threshold and placed in the prompt.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from retrieval.logs.signals import line_weight, strip_timestamp
from retrieval.types import LogLine, Passage

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/:@]*[A-Za-z0-9_]")
_STOP = frozenset(
    "the and for with from that this was were are not but into when then than have has had its "
    "your you our their there here which while build failed failure error errors fix root cause "
    "because check make sure run use using step job log line lines code exit".split()
)
BRACKET_TS = re.compile(r"^\s*\[[^\]]*\d\d:\d\d[^\]]*\]\s*")  # Jenkins "[2024-12-09T16:11:53Z] "
_SPECIFIC_TERM = re.compile(r"[./:_]|\d")
ERRORISH = re.compile(
    r"(?i)(error|exception|fail|fatal|denied|refused|not found|cannot|can't|unable|missing|"
    r"traceback|panic|killed|timed? ?out|no such|undefined|unresolved|mismatch|invalid)"
)


def terms(text: str) -> set[str]:
    """Identifier-like words, lowercased, that can tie an answer to log lines."""
    found = set()
    for word in _WORD.findall(text or ""):
        word = word.lower().strip(".:/-")
        if len(word) >= 3 and word not in _STOP:
            found.add(word)
            # "com.acme.OrderServiceTest" should also match "OrderServiceTest" and vice versa.
            found.update(p for p in re.split(r"[./:]", word) if len(p) >= 4 and p not in _STOP)
    return found


def line_score(line: str, answer_terms: set[str]) -> float:
    """How much a log line supports the answer: shared identifiers first, failure signal second."""
    overlap = len(terms(line) & answer_terms)
    return 2.0 * min(overlap, 4) + min(max(failure_weight(line), 0.0), 10.0) / 5


def failure_weight(line: str) -> float:
    """The log-intelligence layer's weight for a line (rough log-odds that it explains a failure)."""
    return line_weight(strip_timestamp(line))


def pick_evidence(lines: Sequence[LogLine], answer_text: str, limit: int = 30) -> list[LogLine]:
    """The excerpt lines that support the answer, in log order, with their line numbers.

    Blank lines and scaffolding that supports nothing (negative failure weight, no shared
    identifier) are dropped; past `limit`, the best-supported lines are kept together with their
    neighbours, so a trace or a compiler message keeps its context.
    """
    answer_terms = terms(answer_text)
    scores = [line_score(ln.text, answer_terms) for ln in lines]
    useful = [i for i, ln in enumerate(lines)
              if ln.text.strip() and not (failure_weight(ln.text) < 0 and not terms(ln.text) & answer_terms)]
    if len(useful) <= limit:
        return [lines[i] for i in useful]
    order = sorted(useful, key=lambda i: (-scores[i], i))
    keep: set[int] = set()
    allowed = set(useful)
    for i in order:
        if len(keep) >= limit:
            break
        for j in (i, i + 1, i - 1):  # a supporting line and its immediate neighbours
            if j in allowed and len(keep) < limit:
                keep.add(j)
    return [lines[i] for i in sorted(keep)]


def key_line(lines: Sequence[LogLine], before: int | None = None) -> LogLine | None:
    """The single line that best states the failure (for fallbacks and baselines). With `before`
    (Excerpt.post_build: where Travis's after_script began), a line above it when
    one reads like a failure: an error in those steps did not fail the job."""
    lines = _above(lines, before)
    best, best_score = None, -1.0
    for ln in lines:
        text = ln.text.strip()
        if not text:
            continue
        words = len(terms(BRACKET_TS.sub("", strip_timestamp(text))))
        # A bare "[ERROR]" separator says nothing; the line that names what failed does.
        score = failure_weight(text) + (1.0 if ERRORISH.search(text) else 0.0) + min(words, 6) / 6 - (3.0 if words < 2 else 0.0)
        if score > best_score:  # first of equals wins: the first real failure beats fallout
            best, best_score = ln, score
    return best


def _above(lines: Sequence[LogLine], before: int | None) -> Sequence[LogLine]:
    """The lines above `before` when one of them reads like a failure; else all of them."""
    if before is None:
        return lines
    earlier = [ln for ln in lines if ln.n < before]
    return earlier if any(failure_weight(ln.text) > 0 for ln in earlier) else lines


def retrieval_query(question: str, lines: Sequence[LogLine], before: int | None = None) -> str:
    """What the knowledge index is asked about a log: the question, the log's key line and its five
    best other evidence lines (the engine and `cibot eval` ask the same)."""
    if not lines:
        return question
    # The key line first: it names the tool and the error, which is what a runbook is filed under;
    # the lines most like the question ("... failed", "exited with 1") say little more.
    key = key_line(lines, before)
    picked = [ln for ln in pick_evidence(lines, question, limit=6) if ln != key][:5]
    return (question + "\n" + "\n".join(ln.text for ln in ([key] if key else []) + picked))[:1000]


def relevant_sources(passages: Iterable[Passage], min_score: float) -> list[Passage]:
    """Passages a citation may point at: retrieved, above the threshold, one per uri."""
    seen, kept = set(), []
    for p in passages:
        if p.score < min_score or p.uri in seen:
            continue
        seen.add(p.uri)
        kept.append(p)
    return kept


def grounding(answer_text: str, support: str) -> float:
    """Share of the answer's identifiers that appear in the log/context (0 when it names none)."""
    answer_terms = terms(answer_text)
    if not answer_terms:
        return 0.0
    support_terms = terms(support)
    return len(answer_terms & support_terms) / len(answer_terms)


def made_up(answer_text: str, support: str) -> bool:
    """True when an answer invents what it names or only repeats itself: most of its paths, dotted
    names and versions are in neither the log nor the context, or one word fills a quarter of it.
    A paraphrase ("the linker cannot find libssl") is not made up; "fix.test.test.py" is."""
    answer_terms = terms(answer_text)
    specific = {t for t in answer_terms if _SPECIFIC_TERM.search(t)}
    if specific:
        seen = (support or "").lower()
        if sum(1 for t in specific if t in seen) / len(specific) < 0.5:
            return True
    words = [w.lower() for w in re.findall(r"[A-Za-z]{3,}", answer_text or "")]
    if len(words) >= 8:
        top = max(words.count(w) for w in set(words) if w not in ("the", "and"))
        return top >= 5 and top / len(words) >= 0.3
    return False


def anchored(root_cause: str, lines: Sequence[LogLine], top: int = 3, before: int | None = None) -> bool:
    """True when a root cause names something from the lines that most look like the failure
    (the `top` heaviest lines and the key line). A small model shown an unfamiliar log can write a
    fluent, grounded-looking cause for a different failure ("the runner ran out of memory" with a
    package name taken from a download line); this catches that."""
    if not lines:
        return True
    heavy = sorted(_above(lines, before), key=lambda ln: -failure_weight(ln.text))[:top]
    key = key_line(lines, before)
    anchor = set()
    for ln in heavy + ([key] if key is not None else []):
        anchor |= terms(BRACKET_TS.sub("", strip_timestamp(ln.text)))
    return bool(terms(root_cause) & anchor)


def confidence(*, route_conf: float, parsed: bool, ground: float, top_source: float | None,
               has_failure: bool) -> float:
    """A 0..1 score from cheap signals. Not calibrated; it orders answers, so thresholds work."""
    score = 0.15 + 0.15 * route_conf
    score += 0.25 if parsed else 0.0
    score += 0.25 * ground
    if top_source is not None:
        score += 0.2 * top_source
    if not has_failure:
        score *= 0.6
    return max(0.0, min(1.0, score))
