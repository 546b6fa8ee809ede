"""Training data: load, validate, deduplicate, redact, reduce and turn into chat messages.

Two line formats are accepted in JSONL files:
  seed: {"input": "<log or question>", "output": "Root Cause: ... Fix: ...", "context"?, "format"?}
  chat: {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}
A bad line is reported with its number and reason and skipped; loading carries on.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from retrieval.errors import InputError
from retrieval.logs.excerpt import extract
from retrieval.logs.redact import redact
from training.inference.prompt import build_messages, format_answer, parse_answer

# Logs longer than this are cut to their failure excerpt, as the engine does at answer time.
EXCERPT_LINES = 30
NEAR_DUP_THRESHOLD = 0.9


@dataclass
class Example:
    input: str = ""
    output: str = ""
    fmt: str = "text"
    context: list = field(default_factory=list)
    question: str | None = None
    messages: list[dict] | None = None  # chat-format rows keep their own messages
    meta: dict = field(default_factory=dict)  # type, category, ecosystem, key_ids, source line


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass
class Dataset:
    examples: list[Example]
    problems: list[Problem] = field(default_factory=list)
    exact_duplicates: int = 0
    near_duplicates: int = 0
    redactions: int = 0

    def summary(self) -> dict:
        return {
            "examples": len(self.examples), "invalid_lines": len(self.problems),
            "exact_duplicates": self.exact_duplicates, "near_duplicates": self.near_duplicates,
            "redactions": self.redactions,
        }


def load(paths: Iterable[str | Path], *, dedupe: bool = True, clean: bool = True,
         excerpt_lines: int = EXCERPT_LINES) -> Dataset:
    """Read, validate, deduplicate and clean every file. No valid example at all -> InputError."""
    examples: list[Example] = []
    problems: list[Problem] = []
    for path in paths:
        found, bad = read_jsonl(Path(path))
        examples += found
        problems += bad
    if not examples:
        detail = "; ".join(str(p) for p in problems[:5]) or "the file is empty"
        raise InputError(f"no valid training examples ({detail})",
                         hint='each line must be {"input","output"} or {"messages": [...]}')
    data = Dataset(examples=examples, problems=problems)
    if clean:
        data.redactions = sum(clean_example(ex, excerpt_lines) for ex in data.examples)
    if dedupe:
        data.examples, data.exact_duplicates, data.near_duplicates = deduplicate(data.examples)
    return data


def read_jsonl(path: Path) -> tuple[list[Example], list[Problem]]:
    if not path.is_file():
        raise InputError(f"training data file not found: {path}")
    examples, problems = [], []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                ex = parse_row(json.loads(line))
            except json.JSONDecodeError as exc:
                problems.append(Problem(str(path), n, f"not valid JSON ({exc.msg})"))
                continue
            except ValueError as exc:
                problems.append(Problem(str(path), n, str(exc)))
                continue
            ex.meta["line"] = n
            ex.meta["file"] = path.name
            examples.append(ex)
    return examples, problems


def parse_row(row: Any) -> Example:
    """One decoded JSONL row -> Example; ValueError says what is wrong with it."""
    if not isinstance(row, dict):
        raise ValueError("a line must be a JSON object")
    if "messages" in row:
        return Example(messages=_check_messages(row["messages"]), meta={"format": "chat"})
    for key in ("input", "output"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise ValueError(f"missing or empty '{key}'")
    fmt = row.get("format") or "text"
    if fmt not in ("text", "json"):
        raise ValueError(f"'format' must be 'text' or 'json', not {fmt!r}")
    answer = parse_answer(row["output"])
    if answer is None:
        raise ValueError("'output' has no 'Root Cause: ...' and 'Fix: ...'")
    context = row.get("context") or []
    if isinstance(context, (str, dict)):
        context = [context]
    if not isinstance(context, list):
        raise ValueError("'context' must be a list of passages")
    meta = {k: row[k] for k in ("type", "category", "ecosystem", "key_ids", "id") if k in row}
    if isinstance(row.get("meta"), dict):  # real-log rows (training/finetune/reallogs.py): their source and fold
        meta.update({k: row["meta"][k] for k in ("source", "key", "repository", "fold") if k in row["meta"]})
    return Example(input=row["input"], output=format_answer(*answer, fmt=fmt), fmt=fmt,
                   context=context, question=row.get("question"), meta=meta)


def _check_messages(messages: Any) -> list[dict]:
    if not isinstance(messages, list) or not messages:
        raise ValueError("'messages' must be a non-empty list")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("system", "user", "assistant"):
            raise ValueError(f"messages[{i}] needs a role of system, user or assistant")
        if not isinstance(msg.get("content"), str) or not msg["content"].strip():
            raise ValueError(f"messages[{i}] has no text content")
    if messages[-1]["role"] != "assistant":
        raise ValueError("the last message must be the assistant's answer")
    if not any(m["role"] == "user" for m in messages):
        raise ValueError("'messages' has no user message")
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def clean_example(ex: Example, excerpt_lines: int = EXCERPT_LINES) -> int:
    """Redact every text of `ex` in place and cut a long log to its excerpt; returns redactions."""

    count = 0

    def scrub(text: str) -> str:
        nonlocal count
        result = redact(text)
        count += result.count
        return result.text

    if ex.messages is not None:
        ex.messages = [{**m, "content": scrub(m["content"])} for m in ex.messages]
        return count
    ex.input = reduce_log(scrub(ex.input), excerpt_lines)
    ex.output = scrub(ex.output)
    ex.context = [_scrub_passage(p, scrub) for p in ex.context]
    if ex.question:
        ex.question = scrub(ex.question)
    return count


def reduce_log(text: str, max_lines: int = EXCERPT_LINES) -> str:
    """A log longer than `max_lines` becomes its failure excerpt, exactly as the engine does."""
    if text.count("\n") < max_lines:
        return text

    return extract(text, max_lines=max_lines).text() or text


def _scrub_passage(passage: Any, scrub) -> Any:
    if isinstance(passage, str):
        return scrub(passage)
    if isinstance(passage, dict):
        return {**passage, "text": scrub(str(passage.get("text", "")))}
    return {"title": getattr(passage, "title", ""), "text": scrub(getattr(passage, "text", ""))}


def to_messages(ex: Example, budget_chars: int | None = None) -> list[dict]:
    """Prompt and target of one example, through the same build_messages the engine uses."""
    if ex.messages is not None:
        return ex.messages
    prompt = build_messages(excerpt=ex.input, question=ex.question, context=ex.context,
                            fmt=ex.fmt, budget_chars=budget_chars)
    return prompt + [{"role": "assistant", "content": ex.output}]


def data_hash(examples: Iterable[Example]) -> str:
    digest = hashlib.sha256()
    for ex in examples:
        digest.update(json.dumps(to_messages(ex), sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()


# --- duplicates -------------------------------------------------------------------------------

def _text_of(ex: Example) -> str:
    if ex.messages is not None:
        return "\n".join(m["content"] for m in ex.messages)
    return f"{ex.input}\n{ex.output}"


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def deduplicate(examples: list[Example], threshold: float = NEAR_DUP_THRESHOLD) -> tuple[list[Example], int, int]:
    """Drop exact duplicates (same normalised text) and near duplicates (MinHash Jaccard estimate
    of word 5-shingles >= threshold). The first occurrence is kept. Returns (kept, exact, near)."""
    seen: set[str] = set()
    unique = []
    for ex in examples:
        key = hashlib.sha1(_normalise(_text_of(ex)).encode()).hexdigest()
        if key not in seen:
            seen.add(key)
            unique.append(ex)
    exact = len(examples) - len(unique)
    kept = _drop_near(unique, threshold)
    return kept, exact, len(unique) - len(kept)


def _drop_near(examples: list[Example], threshold: float, perms: int = 64, bands: int = 16) -> list[Example]:
    import numpy as np

    rng = np.random.default_rng(0)
    prime = np.uint64((1 << 61) - 1)
    a = rng.integers(1, 1 << 31, perms, dtype=np.uint64)
    b = rng.integers(0, 1 << 31, perms, dtype=np.uint64)
    sigs = []
    for ex in examples:
        words = _normalise(_text_of(ex)).split()
        grams = {" ".join(words[i:i + 5]) for i in range(max(len(words) - 4, 1))}
        h = np.fromiter((zlib.crc32(g.encode()) for g in grams), dtype=np.uint64, count=len(grams))
        sigs.append(((h[:, None] * a[None, :] + b[None, :]) % prime).min(axis=0))
    rows = perms // bands
    buckets: dict[tuple, list[int]] = {}
    kept_idx: list[int] = []
    for i, sig in enumerate(sigs):
        keys = [(band, sig[band * rows:(band + 1) * rows].tobytes()) for band in range(bands)]
        candidates = {j for key in keys for j in buckets.get(key, ())}
        if any(float((sigs[j] == sig).mean()) >= threshold for j in candidates):
            continue
        kept_idx.append(i)
        for key in keys:
            buckets.setdefault(key, []).append(i)
    return [examples[i] for i in kept_idx]


SYNTHETIC_CORPUS = "train.jsonl"  # training/data/train.jsonl, written by training.corpusgen


def mix(examples: list[Example], synthetic_rows: int = 0, held_out_fold: int | None = None,
        seed: int = 1234) -> list[Example]:
    """The training mix: every row, less real-log rows (those with a `fold`) of the held-out fold,
    with the bundled synthetic corpus cut to `synthetic_rows` (0: all of it), a seeded sample
    spread over failure types. A team's own rows are never sampled away."""
    import random

    kept = [ex for ex in examples if ex.meta.get("fold", -1) != held_out_fold or held_out_fold is None]
    synthetic = [ex for ex in kept if ex.meta.get("file") == SYNTHETIC_CORPUS and "type" in ex.meta]
    rest = [ex for ex in kept if not (ex.meta.get("file") == SYNTHETIC_CORPUS and "type" in ex.meta)]
    other = synthetic
    if synthetic_rows and len(other) > synthetic_rows:
        rng = random.Random(seed)
        by_type: dict[str, list[Example]] = {}
        for ex in other:
            by_type.setdefault(str(ex.meta.get("type", "")), []).append(ex)
        for rows in by_type.values():
            rng.shuffle(rows)
        # round-robin over types, so every failure type keeps a share
        picked: list[Example] = []
        while len(picked) < synthetic_rows:
            for rows in by_type.values():
                if rows and len(picked) < synthetic_rows:
                    picked.append(rows.pop())
        other = picked
    return other + rest

