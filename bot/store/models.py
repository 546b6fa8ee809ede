"""The schema, as typed SQLAlchemy 2 models. Alembic's versions/ mirror it; change both together."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bot.store.records import AnswerRecord


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) and Postgres."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class AnswerRow(Base):
    __tablename__ = "answers"
    __table_args__ = (
        Index("ix_answers_message", "channel", "message_ts"),
        Index("ix_answers_thread", "channel", "thread_ts"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_key: Mapped[str] = mapped_column(String(255), unique=True)
    question: Mapped[str] = mapped_column(Text, default="")
    excerpt: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    fix: Mapped[str] = mapped_column(Text, default="")
    route: Mapped[str] = mapped_column(String(16), default="")
    category: Mapped[str] = mapped_column(String(64), default="unknown")
    sources: Mapped[list] = mapped_column(JSON, default=list)
    answer_json: Mapped[dict] = mapped_column(JSON, default=dict)
    model_base: Mapped[str] = mapped_column(String(255), default="")
    adapter: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(64))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    team: Mapped[str | None] = mapped_column(String(64))
    user: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def record(self) -> AnswerRecord:
        """The row as the plain record the rest of the bot handles (no session attached)."""
        return AnswerRecord(
            answer_id=self.id, question=self.question, excerpt=self.excerpt, root_cause=self.root_cause,
            fix=self.fix, route=self.route, sources=list(self.sources or []), channel=self.channel,
            thread_ts=self.thread_ts, message_ts=self.message_ts, team=self.team, user=self.user,
            model_base=self.model_base, adapter=self.adapter, created_at=self.created_at,
            answer_json=dict(self.answer_json or {}), category=self.category,
        )


class VoteRow(Base):
    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("answer_id", "user", name="uq_votes_answer_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[str] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    user: Mapped[str] = mapped_column(String(64))
    # +1, -1, or 0 once retracted (the row stays so a reason given earlier is not lost).
    value: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(32), default="reaction")
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ClaimRow(Base):
    """One row per handled event; the primary key makes the first insert win across replicas."""

    __tablename__ = "claims"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class LockRow(Base):
    """A named lease with an expiry, so a killed holder never blocks the next run for long."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RetrainRunRow(Base):
    __tablename__ = "retrain_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")
    reason: Mapped[str | None] = mapped_column(Text)
    candidate: Mapped[str | None] = mapped_column(String(64))
    current: Mapped[str | None] = mapped_column(String(64))
    examples_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report: Mapped[dict] = mapped_column(JSON, default=dict)
