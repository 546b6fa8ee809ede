"""Reference notes for training rows that have none, shaped like what retrieval gives when serving.

When serving, an answer about a log usually comes with the notes that clear the relevance
threshold: resolved incidents of the same kind of failure from other projects (naming other files,
tests and packages) and now and then an unrelated one. The starter corpus gives notes to a third
of its rows, each written for that row. So a share of the rows without notes get what retrieval
would have given them: one to three incidents of the same failure type from the knowledge base
(retrieval/knowledge/incidents.jsonl), rendered as the index renders an incident, sometimes with
one of another type, and for one row in ten only incidents of neighbouring types (retrieval's
nearest notes are sometimes all about another failure). The reference answer stays the row's
own, so the model learns to name the log's identifiers and not the notes' (training/README.md,
"What moved identifier recall", has the figures).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from retrieval.sources import incident_chunk
from training.finetune.data import Example

INCIDENTS = Path(__file__).resolve().parents[2] / "retrieval" / "knowledge" / "incidents.jsonl"
OTHER_TYPE_RATE = 0.3  # notes that also carry an incident of another failure type
# Notes that are all of other failure types, as retrieval gives for about one log in ten: the
# nearest incidents are of a neighbouring type (same ecosystem or category) and the answer must
# come from the log alone.
UNRELATED_RATE = 0.1


def add_retrieved_notes(examples: list[Example], share: float, seed: int,
                        incidents: Path = INCIDENTS) -> int:
    """Give `share` of the rows that have no notes (and a known failure type) incident notes, in
    place. Returns how many rows got notes; 0 when `share` is 0 or no incidents can be read."""
    if share <= 0 or not examples:
        return 0
    by_type = _incidents(incidents)
    if not by_type:
        return 0
    rng = random.Random(seed)
    types = sorted(by_type)
    tags = {t: {x for n in notes for x in n["tags"]} for t, notes in by_type.items()}
    added = 0
    for ex in examples:
        kind = ex.meta.get("type")
        if ex.context or ex.messages is not None or kind not in by_type or rng.random() >= share:
            continue
        own = {k.lower() for k in ex.meta.get("key_ids") or [] if str(k).strip()}
        same = _not_naming(by_type[kind], own)  # never a note that names the answer
        if not same:
            continue
        count = rng.choice((1, 2, 3))
        if rng.random() < UNRELATED_RATE and len(types) > 1:
            near = _neighbours(kind, tags) or [t for t in types if t != kind]
            picked = [rng.choice(by_type[rng.choice(near)]) for _ in range(count)]
            notes = [n for i, n in enumerate(picked) if n not in picked[:i] and _not_naming([n], own)]
        else:
            notes = rng.sample(same, min(len(same), count))
        if notes and rng.random() < OTHER_TYPE_RATE and len(types) > 1:
            other = _not_naming(by_type[rng.choice([t for t in types if t != kind])], own)
            if other:
                notes.insert(rng.randrange(len(notes) + 1), rng.choice(other))
        if not notes:
            continue
        ex.context = [{"title": n["title"], "text": n["text"]} for n in notes[:3]]
        added += 1
    return added


def _neighbours(kind: str, tags: dict[str, set[str]]) -> list[str]:
    """The other failure types that share an ecosystem or category tag with `kind` (`tags`: each
    type's incidents' tags)."""
    mine = tags[kind] - {kind}
    return sorted(t for t, theirs in tags.items() if t != kind and mine & theirs)


def _not_naming(notes: list[dict], own: set[str]) -> list[dict]:
    """The notes that name none of `own` (lower-cased key identifiers), in their ids or text."""
    return [n for n in notes if not own & n["ids"] and not any(k in n["low"] for k in own)]


def _incidents(path: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if not isinstance(row, dict) or not row.get("type") or not row.get("input") or not row.get("output"):
            continue
        chunk = incident_chunk(row["input"], row["output"], row.get("title"), str(row.get("url") or ""))
        out.setdefault(str(row["type"]), []).append({
            "title": chunk.title, "text": chunk.text, "low": chunk.text.lower(),
            "ids": {str(k).lower() for k in row.get("key_ids") or []},
            "tags": {str(t) for t in row.get("tags") or []}})
    return out
