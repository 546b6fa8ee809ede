"""Turn rated answers into training data: thumbs-up answers become examples (a recent slice held
out to test the candidate), thumbs-down answers are kept out and listed for review."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable

from bot.store import AnswerRecord, Store

_DATA = Path(__file__).resolve().parents[2] / "training" / "data"
# What a retrain replays beside the thumbs-up rows: the synthetic corpus and the real-log rows.
STARTER_CORPUS = (_DATA / "train.jsonl", _DATA / "real.jsonl")


@dataclass
class FeedbackSplit:
    train: list[dict] = field(default_factory=list)  # seed-format rows (input/output/question/...)
    heldout: list[dict] = field(default_factory=list)  # the most recent thumbs-up examples
    review: list[dict] = field(default_factory=list)  # thumbs-down answers with their reasons

    def summary(self) -> dict:
        return {"feedback_train": len(self.train), "feedback_heldout": len(self.heldout),
                "thumbs_down_for_review": len(self.review)}


def example_row(answer: AnswerRecord) -> dict:
    """One training row in the corpus's seed format. Text is redacted again on the way out."""
    return {
        "id": f"feedback-{answer.answer_id}",
        "type": "feedback",
        "input": _redact(answer.excerpt),
        "question": _redact(answer.question) or None,
        "output": f"Root Cause: {_redact(answer.root_cause).strip()}\nFix: {_redact(answer.fix).strip()}",
        "category": answer.category,
        "adapter": answer.adapter,
    }


def review_row(answer: AnswerRecord, votes: list[dict]) -> dict:
    return {
        "answer_id": answer.answer_id, "channel": answer.channel, "adapter": answer.adapter,
        "category": answer.category, "question": _redact(answer.question),
        "root_cause": _redact(answer.root_cause), "fix": _redact(answer.fix),
        "reasons": [{"reason": v["reason"], "detail": _redact(v["detail"]) if v["detail"] else None,
                     "user": v["user"]} for v in votes],
    }


def split_feedback(store: Store, until: datetime | None = None, holdout_fraction: float = 0.2,
                   holdout_min: int = 1) -> FeedbackSplit:
    """Thumbs-up answers up to `until`, oldest first; the newest `holdout_fraction` are held out."""
    good, bad = store.rated_answers(until)
    rows = [example_row(a) for a, _ in good if a.is_failure_answer and a.excerpt.strip()]
    n_hold = 0
    if len(rows) >= 2:
        n_hold = min(len(rows) - 1, max(holdout_min, round(len(rows) * holdout_fraction)))
    cut = len(rows) - n_hold
    return FeedbackSplit(train=rows[:cut], heldout=rows[cut:],
                         review=[review_row(a, votes) for a, votes in bad])


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _redact(text: str | None) -> str:
    if not text:
        return ""
    try:
        from retrieval.logs.redact import redact
    except ImportError:
        return text
    return redact(text).text
