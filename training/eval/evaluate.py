"""Answer quality on fixed examples: format compliance, valid JSON, and root-cause identifier recall.

Suites:
  heldout  the corpus's held-out split as written (text and JSON requests, with their context)
  json     the held-out split, every request asking for JSON
  real     LogChunks logs in ../shared/datasets: does the answer name what the labelled chunk names
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from retrieval.logs.excerpt import extract
from retrieval.logs.identifiers import COMMON, TOKEN, identifiers
from training.finetune.data import Example, clean_example, read_jsonl
from training.inference.prompt import ANSWER_SCHEMA, build_messages, parse_answer

REPO = Path(__file__).resolve().parents[2]
SUITES = ("heldout", "json", "real")


def default_heldout() -> Path:
    return REPO / "training" / "data" / "heldout.jsonl"


def load_examples(path: Path, limit: int | None = None, spread: bool = False) -> list[Example]:
    """The file's examples, the first `limit` of them; with spread, every failure type's first
    example before any type's second (a file sorted by type would give a head cut of only a few
    types, and one type's phrasing would swing the whole score)."""
    examples, _ = read_jsonl(Path(path))
    if spread:
        rank: dict[str, int] = {}
        order = []
        for i, ex in enumerate(examples):
            kind = str(ex.meta.get("type") or ex.meta.get("category") or "")
            rank[kind] = rank.get(kind, -1) + 1
            order.append((rank[kind], i))
        examples = [examples[i] for _, i in sorted(order)]
    examples = examples[:limit] if limit else examples
    for ex in examples:
        clean_example(ex)
    return examples


def key_ids(ex: Example) -> list[str]:
    """The identifiers a right answer must name: the row's key_ids, else identifiers of the
    reference answer that also occur in the log."""
    given = ex.meta.get("key_ids")
    if isinstance(given, list) and given:
        return [str(k) for k in given if str(k).strip()]
    return derive_ids(ex.output, ex.input)


def derive_ids(reference: str, log: str, at_most: int = 3) -> list[str]:
    found: list[str] = []
    for tok in TOKEN.findall(reference):
        tok = tok.strip(".:/-")
        specific = any(c in tok for c in "._/-:") or any(c.isdigit() for c in tok) or (tok[:1].isupper() and len(tok) > 3)
        if len(tok) >= 4 and tok.lower() not in COMMON and specific and tok in log and tok not in found:
            found.append(tok)
    return found[:at_most]


def recall(answer: str, ids: list[str]) -> float | None:
    if not ids:
        return None
    low = answer.lower()
    return sum(1 for k in ids if k.lower() in low) / len(ids)


def evaluate(generator, examples: Iterable[Example] | Path | str, retriever=None, *,
             limit: int | None = 100, context: str = "own", fmt: str | None = None,
             budget_chars: int | None = None, post=None) -> dict:
    """Answer each example and score it. context: "none" (no reference notes), "own" (the
    example's own notes), "retrieve" (retriever.search on the log). fmt forces text/json.
    post(answer_text, example, notes, generation_meta) -> text, when given, is the serving layer's finishing of an
    answer (the engine's checks and names); its recall is reported as served_id_recall."""
    if isinstance(examples, (str, Path)):
        examples = load_examples(Path(examples), limit)
    examples = list(examples)[:limit] if limit else list(examples)
    scores = {"n": 0, "format_ok": 0, "json_asked": 0, "json_ok": 0, "recall_sum": 0.0, "recall_n": 0, "answered_sum": 0.0,
              "served_sum": 0.0, "served_n": 0, "tokens": 0, "seconds": 0.0}
    samples = []
    for ex in examples:
        ex = replace(ex, fmt=fmt or ex.fmt)
        notes = _notes(ex, retriever, context)
        messages = build_messages(excerpt=ex.input, question=ex.question, context=notes, fmt=ex.fmt,
                                  budget_chars=budget_chars)
        started = time.time()
        gen = generator.generate(messages, json_schema=_schema() if ex.fmt == "json" else None)
        scores["seconds"] += time.time() - started
        scores["tokens"] += gen.new_tokens
        # A JSON answer the generator had to repair counts against the model, not for it.
        _score(scores, ex, gen.text, samples, repaired=bool(gen.meta.get("json_repaired")))
        if post is not None:
            r = recall(post(gen.text, ex, notes, gen.meta), key_ids(ex))
            if r is not None:
                scores["served_sum"] += r
                scores["served_n"] += 1
    return _summary(scores, samples)


def _schema() -> dict:
    return ANSWER_SCHEMA


def _notes(ex: Example, retriever, context: str) -> list:
    if context == "none":
        return []
    if context == "retrieve" and retriever is not None:
        notes_for = getattr(retriever, "notes_for", None)  # the serving layer's own retrieval
        return notes_for(ex) if notes_for else retriever.search(ex.input[-2000:], k=3)
    return ex.context


def _score(scores: dict, ex: Example, text: str, samples: list, repaired: bool = False) -> None:
    scores["n"] += 1
    parsed = parse_answer(text)
    ok = parsed is not None
    if ex.fmt == "json":
        scores["json_asked"] += 1
        valid = _valid_json(text) and not repaired
        scores["json_ok"] += valid
        ok = ok and valid
    scores["format_ok"] += ok
    r = recall(text, key_ids(ex))
    if r is not None:
        scores["recall_sum"] += r
        scores["recall_n"] += 1
        # The same, counting only well-formed answers: a model that rambles through the log
        # without answering names many identifiers but has not answered.
        scores["answered_sum"] += r if ok else 0.0
    if len(samples) < 5:
        samples.append({"input": ex.input[-300:], "answer": text, "ids": key_ids(ex), "recall": r})


def _valid_json(text: str) -> bool:
    try:
        obj = json.loads(text)
    except ValueError:
        return False
    return isinstance(obj, dict) and all(isinstance(obj.get(k), str) and obj[k].strip() for k in ("root_cause", "fix"))


def _summary(s: dict, samples: list) -> dict:
    n = max(s["n"], 1)
    return {
        "n": s["n"],
        "format_compliance": round(s["format_ok"] / n, 4),
        "json_valid": round(s["json_ok"] / s["json_asked"], 4) if s["json_asked"] else None,
        "id_recall": round(s["recall_sum"] / s["recall_n"], 4) if s["recall_n"] else None,
        "answer_id_recall": round(s.get("answered_sum", 0.0) / s["recall_n"], 4) if s["recall_n"] else None,
        "served_id_recall": round(s["served_sum"] / s["served_n"], 4) if s["served_n"] else None,
        "tokens_per_s": round(s["tokens"] / s["seconds"], 1) if s["seconds"] else None,
        "samples": samples,
    }


# --- real logs ---------------------------------------------------------------------------------

def real_examples(datasets: Path, limit: int | None = 100, excerpt_lines: int = 30) -> list[Example]:
    """LogChunks rows as examples: the whole log is reduced to an excerpt (as the engine does),
    and the key identifiers come from the hand-labelled chunk."""
    import gzip


    rows = [json.loads(l) for l in (Path(datasets) / "logchunks.jsonl").read_text().splitlines() if l.strip()]
    out = []
    for row in rows[:limit] if limit else rows:
        raw = gzip.open(Path(datasets) / row["log"], "rb").read().decode("utf-8", "replace")
        excerpt = extract(raw, max_lines=excerpt_lines).text()
        chunk = row.get("chunk") or ""
        ids = chunk_ids(chunk)
        if ids:
            out.append(Example(input=excerpt, output="", meta={"key_ids": ids, "source": row.get("log"),
                                                               "log_path": str(Path(datasets) / row["log"])}))
    return out


def chunk_ids(chunk: str, at_most: int = 3) -> list[str]:
    """Identifiers a labelled chunk names: files, dotted names, test names, error codes."""
    return identifiers(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", chunk.replace("\r", "\n")))[:at_most]
