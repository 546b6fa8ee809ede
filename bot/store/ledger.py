"""What the retrain job keeps in the store: expiring locks, the record of runs, and the votes it
learns from. A base class of Store, kept apart so store.py stays about answers and votes."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.store.models import AnswerRow, LockRow, RetrainRunRow, VoteRow, utcnow
from bot.store.records import AnswerRecord, RetrainRun

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlalchemy.orm import Session

FINISHED = ("promoted", "rejected")


class Ledger:
    _sessions: "object"

    def _tx(self) -> "AbstractContextManager[Session]": ...  # provided by Store

    # Locks -----------------------------------------------------------------------------------

    def acquire_lock(self, name: str, owner: str, ttl_s: float) -> bool:
        """Take the named lease if it is free or expired. Works across processes and replicas:
        the insert races on the primary key, the takeover is one conditional UPDATE."""
        now = utcnow()
        expires = now + timedelta(seconds=ttl_s)
        try:
            with self._tx() as s:
                s.add(LockRow(name=name, owner=owner, expires_at=expires))
            return True
        except IntegrityError:
            pass
        with self._tx() as s:
            taken = s.execute(
                update(LockRow)
                .where(LockRow.name == name, (LockRow.expires_at < now) | (LockRow.owner == owner))
                .values(owner=owner, expires_at=expires)
            )
            return (taken.rowcount or 0) == 1

    def refresh_lock(self, name: str, owner: str, ttl_s: float) -> bool:
        """Extend a lease still held; False if it expired and someone else took it."""
        with self._tx() as s:
            done = s.execute(
                update(LockRow)
                .where(LockRow.name == name, LockRow.owner == owner)
                .values(expires_at=utcnow() + timedelta(seconds=ttl_s))
            )
            return (done.rowcount or 0) == 1

    def release_lock(self, name: str, owner: str) -> None:
        with self._tx() as s:
            row = s.get(LockRow, name)
            if row is not None and row.owner == owner:
                s.delete(row)

    def lock_holder(self, name: str) -> tuple[str, datetime] | None:
        with self._sessions() as s:  # type: ignore[operator]
            row = s.get(LockRow, name)
            return (row.owner, row.expires_at) if row else None

    # Retrain runs ----------------------------------------------------------------------------

    def start_run(self, current: str | None, examples_until: datetime) -> int:
        with self._tx() as s:
            # Only the lock holder gets here, so any run still "running" was killed mid-way.
            s.execute(
                update(RetrainRunRow)
                .where(RetrainRunRow.status == "running")
                .values(status="failed", reason="interrupted (process ended before finishing)",
                        finished_at=utcnow())
            )
            row = RetrainRunRow(started_at=utcnow(), status="running", current=current,
                                examples_until=examples_until, report={})
            s.add(row)
            s.flush()
            return row.id

    def set_run_candidate(self, run_id: int, candidate: str) -> None:
        """Recorded before promotion, so a run killed right after promoting can be recognised."""
        with self._tx() as s:
            s.get(RetrainRunRow, run_id).candidate = candidate

    def finish_run(self, run_id: int, status: str, *, reason: str | None = None,
                   candidate: str | None = None, report: dict | None = None) -> None:
        with self._tx() as s:
            row = s.get(RetrainRunRow, run_id)
            row.status, row.reason, row.candidate = status, reason, candidate
            row.report, row.finished_at = report or {}, utcnow()

    def last_run(self, statuses: tuple[str, ...] = FINISHED) -> RetrainRun | None:
        with self._sessions() as s:  # type: ignore[operator]
            row = s.scalar(
                select(RetrainRunRow).where(RetrainRunRow.status.in_(statuses))
                .order_by(RetrainRunRow.id.desc()).limit(1)
            )
            return _run_record(row) if row else None

    def runs(self, limit: int = 20) -> list[RetrainRun]:
        with self._sessions() as s:  # type: ignore[operator]
            rows = s.scalars(select(RetrainRunRow).order_by(RetrainRunRow.id.desc()).limit(limit))
            return [_run_record(r) for r in rows]

    # Examples --------------------------------------------------------------------------------

    def rated_answers(self, until: datetime | None = None) -> tuple[
        list[tuple[AnswerRecord, datetime]], list[tuple[AnswerRecord, list[dict]]]
    ]:
        """(thumbs-up answers with the time of their latest up-vote, thumbs-down answers with the
        reasons given). An answer with any standing down-vote counts as thumbs-down only."""
        query = select(VoteRow, AnswerRow).join(AnswerRow, AnswerRow.id == VoteRow.answer_id).where(
            VoteRow.value != 0
        )
        if until is not None:
            query = query.where(VoteRow.updated_at <= until)
        ups: dict[str, tuple[AnswerRecord, datetime]] = {}
        downs: dict[str, tuple[AnswerRecord, list[dict]]] = {}
        with self._sessions() as s:  # type: ignore[operator]
            for vote, answer in s.execute(query.order_by(VoteRow.updated_at)):
                if vote.value < 0:
                    downs.setdefault(answer.id, (answer.record(), []))[1].append(
                        {"user": vote.user, "reason": vote.reason, "detail": vote.detail}
                    )
                else:
                    ups[answer.id] = (answer.record(), vote.updated_at)
        good = [item for aid, item in ups.items() if aid not in downs]
        good.sort(key=lambda item: item[1])
        return good, list(downs.values())

    def count_new_thumbs_up(self, since: datetime | None, until: datetime | None = None) -> int:
        good, _ = self.rated_answers(until)
        return sum(1 for _, ts in good if since is None or ts > since)


def _run_record(row: RetrainRunRow) -> RetrainRun:
    return RetrainRun(
        run_id=row.id, started_at=row.started_at, finished_at=row.finished_at, status=row.status,
        reason=row.reason, candidate=row.candidate, current=row.current,
        examples_until=row.examples_until, report=dict(row.report or {}),
    )
