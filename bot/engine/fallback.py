"""Deterministic answers for when the model is missing or its output is unusable.

They are built only from what was seen: the excerpt's key line, a retrieved passage's key section,
a config check's finding. Also the baselines the answer bench compares against.
"""
from __future__ import annotations

import re
from typing import Sequence

from retrieval.logs import naming
from retrieval.logs.evidence import BRACKET_TS, key_line, terms
from retrieval.logs.signals import strip_timestamp
from retrieval.types import Excerpt, Passage

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
# A wrapped line (one not starting a bullet, heading or numbered item) continues the one above.
_WRAP = re.compile(r"\n(?![ \t]*(?:[-*#]|\d+\.|\n))[ \t]*")
_FIX_WORDS = re.compile(r"(?i)\b(fix|run|set|add|pin|use|upgrade|downgrade|rotate|retry|re-?run|remove|"
                        r"install|update|ask|contact|open|raise|restart|increase)\b")


_RESOLUTION = re.compile(r"(?is)root cause\s*:\s*(?P<cause>.*?)\s*fix\s*:\s*(?P<fix>.*)$")


def from_excerpt(excerpt: Excerpt, *, names: bool = True, weights=None) -> tuple[str, str]:
    """The excerpt's key line as the root cause, followed by the identifiers that the lines most
    likely to name the failure quote (retrieval.logs.naming): the key line often only says *that* a step
    failed, the file or test that failed is beside it."""
    line, said, named = _key_and_names(excerpt, "", 240, weights if names else None, 4 if names else 0)
    if line is None:
        return ("no failure line was found in the log",
                "Check that the whole log of the failing job was attached.")
    cause = f"the log fails at line {line.n}: {said}" + (f"; the failing lines name {named}" if named else "")
    return cause, "Fix the error on that line; the evidence below shows its context."


def with_names(cause: str, excerpt: Excerpt, at_most: int = 4) -> str:
    """A model's root cause followed by the log's key line and the identifiers the failing lines
    name that it leaves out: the reader sees the line that proves it and which file or test to
    open even when the model only paraphrased (or, being small, garbled a name)."""
    line, said, named = _key_and_names(excerpt, cause, 200, None, at_most)
    parts = [f"line {line.n}: {said}"] if line is not None and said and said.lower() not in cause.lower() else []
    parts += [f"the failing lines name {named}"] if named else []
    return f"{cause.rstrip('. ')} ({'; '.join(parts)})" if parts else cause


def _key_and_names(excerpt: Excerpt, said_already: str, limit: int, weights, at_most: int):
    """(key line, its text as quoted, "a (line n), b (line m)" for the names neither quote has)."""
    line = key_line(excerpt.lines)
    said = BRACKET_TS.sub("", strip_timestamp(line.text)).strip()[:limit] if line is not None else ""
    found = naming.named(excerpt, skip=f"{said_already}\n{said}", at_most=at_most, weights=weights) if at_most else []
    return line, said, ", ".join(f"{n.text} (line {n.line})" for n in found)


def body(passage: Passage) -> str:
    """A passage's text without the heading line the index puts first."""
    text = passage.text or ""
    first, _, rest = text.partition("\n")
    if rest and (first.strip() == passage.title.strip() or " > " in first or first.strip() in passage.heading_path):
        text = rest
    return _WRAP.sub(" ", text.strip())


def resolution(passage: Passage) -> tuple[str, str] | None:
    """(cause, fix) written in an incident's "Resolution: Root Cause: ... Fix: ..." section."""
    _, found, tail = (passage.text or "").rpartition("Resolution:")
    match = _RESOLUTION.search(tail if found else "")
    if not match:
        return None
    return " ".join(match.group("cause").split()), " ".join(match.group("fix").split())


def key_section(passage: Passage, question: str, max_chars: int = 320) -> str:
    """The sentences of a passage that share most words with the question, in their order."""
    sentences = [s.strip() for s in _SENTENCE.split(body(passage)) if s and s.strip()]
    sentences = [s.lstrip("#-* ").strip() for s in sentences]
    sentences = [s for s in sentences if len(s) > 2]
    if not sentences:
        return ""
    wanted = terms(question)
    scored = sorted(range(len(sentences)),
                    key=lambda i: (-len(terms(sentences[i]) & wanted), i))
    keep, used = [], 0
    for i in scored:
        if used + len(sentences[i]) > max_chars and keep:
            break
        keep.append(i)
        used += len(sentences[i]) + 1
    return " ".join(sentences[i] for i in sorted(keep))[:max_chars]


def fix_section(passage: Passage, max_chars: int = 240) -> str:
    """The first sentences of a passage that read like an instruction (for the fix field)."""
    known = resolution(passage)
    if known:
        return known[1][:max_chars]
    sentences = [s.strip().lstrip("#-* ").strip() for s in _SENTENCE.split(body(passage)) if s.strip()]
    steps = [s for s in sentences if _FIX_WORDS.search(s)]
    text = " ".join(steps or sentences[:2])
    return text[:max_chars]


def from_passage(passage: Passage, question: str) -> tuple[str, str]:
    """Quote a retrieved passage's key section, citing it (the rag route's fallback)."""
    known = resolution(passage)
    section = (known[0] if known else key_section(passage, question)) or passage.title
    return (f"{section} (from \"{passage.title}\")",
            f"See \"{passage.title}\" ({passage.uri}) for the full procedure.")


def retrieval_only(excerpt: Excerpt, passages: Sequence[Passage]) -> tuple[str, str]:
    """The excerpt's key line as the cause and the best passage's instructions as the fix."""
    cause, fix = from_excerpt(excerpt)
    if passages:
        fix = f"{fix_section(passages[0])} (from \"{passages[0].title}\")"
    return cause, fix
