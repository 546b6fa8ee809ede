"""The durable store: answers the bot gave, votes on them, and idempotency claims.

SQLite under CIBOT_HOME by default, Postgres by URL when several replicas share it. Every write is
idempotent: a replayed Slack event or webhook delivery records nothing new.
"""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from bot.store import migrate
from bot.store.ledger import Ledger
from bot.store.models import AnswerRow, ClaimRow, VoteRow, utcnow
from bot.store.records import AnswerRecord, VoteRecord, VoteResult
from retrieval.errors import ConfigError, InputError, UsageError
from retrieval.logs.redact import redact


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, safe to print and log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


class Store(Ledger):
    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> "Store":
        """Connect and migrate to the latest schema. An unusable database is a ConfigError."""
        masked = mask_url(url)
        try:
            engine = create_store_engine(url)
            migrate.upgrade(engine)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise ConfigError(f"invalid database URL {masked}: {exc}") from None
        except ImportError as exc:
            raise ConfigError(f"no driver for the database URL {masked}: {exc}",
                              hint="pip install 'cibot[serve]' for PostgreSQL (psycopg 3)") from None
        except (DBAPIError, OSError) as exc:
            detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(
                f"cannot reach the database at {masked}: {detail}",
                hint="check store.url / CIBOT_STORE__URL and that the server is running",
            ) from None
        return cls(engine)

    @classmethod
    def from_settings(cls, settings: Any) -> "Store":
        return cls.open(settings.store_url)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # Idempotency -----------------------------------------------------------------------------

    def claim(self, key: str) -> bool:
        """True only for the first caller with this key, across every replica sharing the DB."""
        try:
            with self._tx() as s:
                s.add(ClaimRow(key=key, created_at=utcnow()))
            return True
        except IntegrityError:
            return False

    def claim_within(self, key: str, window_s: float) -> bool:
        """Like `claim`, but a claim older than `window_s` seconds may be taken again (atomically:
        of two replicas racing for an expired claim, one wins)."""
        if self.claim(key):
            return True
        from datetime import timedelta

        from sqlalchemy import update

        now = utcnow()
        with self._tx() as s:
            taken = s.execute(update(ClaimRow).where(ClaimRow.key == key,
                                                     ClaimRow.created_at < now - timedelta(seconds=window_s))
                              .values(created_at=now)).rowcount
        return bool(taken)

    def prune_claims(self, older_than: datetime) -> int:
        from sqlalchemy import delete

        with self._tx() as s:
            return s.execute(delete(ClaimRow).where(ClaimRow.created_at < older_than)).rowcount or 0

    # Answers ---------------------------------------------------------------------------------

    def save_answer(
        self, *, request_key: str, answer: Any, question: str, excerpt: str, channel: str | None,
        thread_ts: str | None, user: str | None = None, team: str | None = None,
    ) -> str:
        """Record an answer; the same request_key returns the existing id and writes nothing."""
        existing = self._answer_id_for(request_key)
        if existing is not None:
            return existing
        data = answer.to_json() if hasattr(answer, "to_json") else dict(answer)
        model = data.get("model") or {}
        row = AnswerRow(
            id=uuid.uuid4().hex, request_key=request_key, question=question or "",
            excerpt=_redact(excerpt or ""), root_cause=data.get("root_cause") or "",
            fix=data.get("fix") or "", route=data.get("route") or "", category=data.get("category") or "unknown",
            sources=[_plain(s) for s in data.get("sources") or []], answer_json=data,
            model_base=model.get("base") or "", adapter=model.get("adapter"), channel=channel,
            thread_ts=thread_ts, message_ts=None, team=team, user=user, created_at=utcnow(),
        )
        try:
            with self._tx() as s:
                s.add(row)
            return row.id
        except IntegrityError:  # another replica saved the same request first
            existing = self._answer_id_for(request_key)
            if existing is None:
                raise
            return existing

    def _answer_id_for(self, request_key: str) -> str | None:
        with self._sessions() as s:
            return s.scalar(select(AnswerRow.id).where(AnswerRow.request_key == request_key))

    def set_answer_message(self, answer_id: str, channel: str, message_ts: str) -> None:
        with self._tx() as s:
            row = s.get(AnswerRow, answer_id)
            if row is None:
                raise InputError(f"no answer with id {answer_id}")
            row.channel, row.message_ts = channel, message_ts

    def get_answer(self, answer_id: str) -> AnswerRecord | None:
        with self._sessions() as s:
            row = s.get(AnswerRow, answer_id)
            return row.record() if row else None

    def answer_by_message(self, channel: str, message_ts: str) -> AnswerRecord | None:
        with self._sessions() as s:
            row = s.scalar(
                select(AnswerRow).where(AnswerRow.channel == channel, AnswerRow.message_ts == message_ts)
            )
            return row.record() if row else None

    def thread_answers(self, channel: str, thread_ts: str) -> list[AnswerRecord]:
        with self._sessions() as s:
            rows = s.scalars(
                select(AnswerRow)
                .where(AnswerRow.channel == channel, AnswerRow.thread_ts == thread_ts)
                .order_by(AnswerRow.created_at)
            )
            return [r.record() for r in rows]

    # Votes -----------------------------------------------------------------------------------

    def vote(self, answer_id: str, user: str, value: int, source: str = "reaction") -> VoteResult:
        """One vote per user per answer; the last one wins. A replayed vote changes nothing."""
        if value not in (1, -1):
            raise UsageError(f"a vote is +1 or -1, not {value!r}")
        for attempt in range(2):
            try:
                with self._tx() as s:
                    return _apply_vote(s, answer_id, user, value, source)
            except IntegrityError:  # a concurrent first vote by the same user: apply on top of it
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def retract(self, answer_id: str, user: str) -> bool:
        """Withdraw a user's vote (reaction removed). False when there was nothing to withdraw."""
        with self._tx() as s:
            row = _vote_row(s, answer_id, user)
            if row is None or row.value == 0:
                return False
            row.value, row.updated_at = 0, utcnow()
            return True

    def set_vote_reason(self, answer_id: str, user: str, reason: str, detail: str | None = None) -> bool:
        """Attach why a user found an answer unhelpful. A reason alone counts as a thumbs-down."""
        with self._tx() as s:
            if s.get(AnswerRow, answer_id) is None:
                return False
            row = _vote_row(s, answer_id, user)
            now = utcnow()
            if row is None:
                row = VoteRow(answer_id=answer_id, user=user, value=-1, source="reason", created_at=now)
                s.add(row)
            elif row.value != -1:
                row.value = -1
            row.reason, row.detail, row.updated_at = reason, _redact(detail) if detail else None, now
            return True

    def votes(
        self, since: datetime | None = None, value: int | None = None, answer_id: str | None = None
    ) -> list[VoteRecord]:
        """Standing votes (retracted ones left out), oldest change first."""
        query = (
            select(VoteRow, AnswerRow.channel, AnswerRow.adapter)
            .join(AnswerRow, AnswerRow.id == VoteRow.answer_id)
            .where(VoteRow.value != 0)
            .order_by(VoteRow.updated_at, VoteRow.id)
        )
        if since is not None:
            query = query.where(VoteRow.updated_at >= _aware(since))
        if value is not None:
            query = query.where(VoteRow.value == value)
        if answer_id is not None:
            query = query.where(VoteRow.answer_id == answer_id)
        with self._sessions() as s:
            return [_vote_record(v, channel, adapter) for v, channel, adapter in s.execute(query)]

    def votes_for(self, answer_id: str) -> list[VoteRecord]:
        """The standing votes on one answer."""
        return self.votes(answer_id=answer_id)

    def answer_scores(self) -> dict[str, int]:
        """answer_id -> net score of standing votes, for answers with any."""
        from sqlalchemy import func

        query = select(VoteRow.answer_id, func.sum(VoteRow.value)).group_by(VoteRow.answer_id)
        with self._sessions() as s:
            return {a: int(n or 0) for a, n in s.execute(query)}


def _apply_vote(s: Session, answer_id: str, user: str, value: int, source: str) -> VoteResult:
    if s.get(AnswerRow, answer_id) is None:
        raise InputError(f"no answer with id {answer_id}")
    row = _vote_row(s, answer_id, user)
    now = utcnow()
    if row is None:
        s.add(VoteRow(answer_id=answer_id, user=user, value=value, source=source, created_at=now, updated_at=now))
        s.flush()
        return VoteResult(changed=True, previous=None, value=value)
    if row.value == value:
        return VoteResult(changed=False, previous=value, value=value)
    previous = row.value or None
    row.value, row.source, row.updated_at = value, source, now
    if value == 1:  # a reason explains a thumbs-down; it no longer applies
        row.reason = row.detail = None
    return VoteResult(changed=True, previous=previous, value=value)


def _vote_record(v: VoteRow, channel: str | None, adapter: str | None) -> VoteRecord:
    return VoteRecord(
        answer_id=v.answer_id, user=v.user, value=v.value, channel=channel, ts=v.updated_at,
        adapter=adapter, reason=v.reason, detail=v.detail, source=v.source,
    )


def _vote_row(s: Session, answer_id: str, user: str) -> VoteRow | None:
    return s.scalar(select(VoteRow).where(VoteRow.answer_id == answer_id, VoteRow.user == user))


def create_store_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":  # SQLAlchemy's default is psycopg2; we ship psycopg 3
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, connect_args=_connect_timeout(parsed))
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # A generous busy timeout: replicas (and the scheduler) share one file and take turns writing.
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _connect_timeout(parsed) -> dict:
    return {"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cur.close()


def _aware(ts: datetime) -> datetime:
    return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts


def _plain(obj: Any) -> dict:
    return asdict(obj) if is_dataclass(obj) else dict(obj)


def _redact(text: str) -> str:
    """Stored text never holds secrets, even when a caller forgot to redact it."""
    return redact(text).text
