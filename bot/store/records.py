"""Plain records the Store hands out. No SQLAlchemy objects leave bot/store."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class AnswerRecord:
    answer_id: str
    question: str
    excerpt: str  # already redacted when it was saved
    root_cause: str
    fix: str
    route: str
    sources: list[dict] = field(default_factory=list, hash=False)
    channel: str | None = None
    thread_ts: str | None = None
    message_ts: str | None = None
    team: str | None = None
    user: str | None = None
    model_base: str = ""
    adapter: str | None = None
    created_at: datetime | None = None
    answer_json: dict = field(default_factory=dict, hash=False)
    category: str = "unknown"

    @property
    def is_failure_answer(self) -> bool:
        """An answer to an actual CI failure: not "no failure found", not an empty reply."""
        note = (self.answer_json.get("note") or "").lower()
        return bool(self.root_cause.strip()) and bool(self.fix.strip()) and "no failure" not in note


@dataclass(frozen=True)
class VoteRecord:
    answer_id: str
    user: str
    value: int  # +1 or -1
    channel: str | None
    ts: datetime  # when the vote was last changed
    adapter: str | None
    reason: str | None = None
    detail: str | None = None
    source: str = "reaction"


@dataclass(frozen=True)
class VoteResult:
    changed: bool  # False when the same vote was replayed
    previous: int | None  # the user's earlier value on this answer, None if none (or retracted)
    value: int


@dataclass(frozen=True)
class RetrainRun:
    run_id: int
    started_at: datetime
    finished_at: datetime | None
    status: str  # running | promoted | rejected | skipped | failed
    reason: str | None
    candidate: str | None
    current: str | None
    examples_until: datetime | None  # thumbs-up votes up to this time were considered
    report: dict = field(default_factory=dict, hash=False)
