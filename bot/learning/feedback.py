"""What a vote does beyond being recorded: a thumbs-up answer to a CI failure becomes a resolved
incident in the knowledge index at once (scoped to its channel), and leaves it again on a
thumbs-down or a retraction. Retraining, which takes hours, lives in bot/learning/retrain.py."""
from __future__ import annotations

import logging
from typing import Any

from bot.store import AnswerRecord, Store, VoteResult
from retrieval.types import Scope

log = logging.getLogger(__name__)

REASONS = ("wrong_cause", "wrong_fix", "incomplete", "other")


def incident_id(answer_id: str) -> str:
    return f"feedback-{answer_id}"


def incident_texts(answer: AnswerRecord) -> tuple[str, str]:
    """(what was asked, what resolved it), the shape the starter incidents have."""
    question = answer.question.strip()
    text_in = f"{question}\n\n{answer.excerpt}".strip() if question else answer.excerpt
    text_out = f"Root Cause: {answer.root_cause.strip()}\nFix: {answer.fix.strip()}"
    return text_in, text_out


class FeedbackService:
    def __init__(self, store: Store, index: Any | None, settings: Any | None = None,
                 bot_user_id: str | None = None):
        self.store = store
        self.index = index  # a retrieval.index.KnowledgeIndex, or None when retrieval is off
        self.settings = settings
        self.bot_user_id = bot_user_id

    def on_vote(self, answer_id: str | None, user: str, value: int, source: str = "reaction",
                bot_user_id: str | None = None) -> VoteResult | None:
        """Record a vote and update the index. None when the vote is ignored: not on one of the
        bot's answers, or cast by the bot itself."""
        answer = self._votable(answer_id, user, bot_user_id)
        if answer is None:
            return None
        result = self.store.vote(answer.answer_id, user, value, source)
        if result.changed:
            _count("up" if value > 0 else "down")
            self._sync_index(answer)
        return result

    def on_retract(self, answer_id: str | None, user: str, bot_user_id: str | None = None) -> bool:
        answer = self._votable(answer_id, user, bot_user_id)
        if answer is None or not self.store.retract(answer.answer_id, user):
            return False
        _count("retract")
        self._sync_index(answer)
        return True

    def on_reason(self, answer_id: str | None, user: str, reason: str, detail: str | None = None,
                  bot_user_id: str | None = None) -> bool:
        """Store why an answer was unhelpful. Unknown reasons are kept as "other" with the text."""
        answer = self._votable(answer_id, user, bot_user_id)
        if answer is None:
            return False
        if reason not in REASONS:
            detail, reason = (f"{reason}: {detail}" if detail else reason), "other"
        stored = self.store.set_vote_reason(answer.answer_id, user, reason, detail)
        if stored:
            self._sync_index(answer)  # a reason implies a thumbs-down
        return stored

    def _votable(self, answer_id: str | None, user: str, bot_user_id: str | None) -> AnswerRecord | None:
        if not answer_id or not user or user in {bot_user_id, self.bot_user_id} - {None}:
            return None
        return self.store.get_answer(answer_id)

    def _wanted(self, answer: AnswerRecord) -> bool:
        values = {v.value for v in self.store.votes_for(answer.answer_id)}
        return answer.is_failure_answer and 1 in values and -1 not in values

    def reconcile(self) -> tuple[int, int]:
        """Make the indexed incidents match the standing votes, after a crash between a vote and
        its index update: drop what is no longer thumbs-up, add what is and is missing.
        Returns (removed, added)."""
        if self.index is None:
            return 0, 0
        indexed = set(self.index.feedback_incidents())
        removed = added = 0
        for inc in sorted(indexed):
            answer = self.store.get_answer(inc.removeprefix(incident_id("")))
            if answer is None or not self._wanted(answer):
                self.index.remove(inc)
                removed += 1
        for answer_id, score in self.store.answer_scores().items():
            if score > 0 and incident_id(answer_id) not in indexed:
                answer = self.store.get_answer(answer_id)
                if answer is not None and self._wanted(answer):
                    self._sync_index(answer)
                    added += 1
        if removed or added:
            log.info("feedback index reconciled", extra={"removed": removed, "added": added})
        return removed, added

    def _scope(self, answer: AnswerRecord) -> Scope:
        """Where a resolved thread may be found: its own channel, unless the team shares them all
        (slack.incident_visibility = "team"). An answer from a channel stays in that channel."""
        slack = getattr(self.settings, "slack", None)
        if getattr(slack, "incident_visibility", "channel") == "team" or not answer.channel:
            return Scope(channel=answer.channel, team=answer.team)
        return Scope(channel=answer.channel)

    def _sync_index(self, answer: AnswerRecord) -> None:
        """Index the answer while it stands thumbs-up with no thumbs-down; otherwise take it out.
        An index failure is logged, never raised: the vote is already safe in the store."""
        if self.index is None:
            return
        try:
            if self._wanted(answer):
                text_in, text_out = incident_texts(answer)
                self.index.add_incident(
                    incident_id(answer.answer_id), text_in, text_out,
                    scope=self._scope(answer),
                    title=_title(answer), uri=_uri(answer),
                    meta={"answer_id": answer.answer_id, "adapter": answer.adapter or "",
                          "category": answer.category, "origin": "feedback"},
                )
            else:
                self.index.remove(incident_id(answer.answer_id))
        except Exception:  # the index is a cache of the store; the next vote or a re-ingest heals it
            log.exception("could not update the knowledge index for answer %s", answer.answer_id)


def _title(answer: AnswerRecord) -> str:
    first = answer.root_cause.strip().splitlines()[0] if answer.root_cause.strip() else "Resolved CI failure"
    return first[:120]


def _uri(answer: AnswerRecord) -> str:
    if answer.channel and answer.message_ts:
        return f"slack://channel/{answer.channel}/{answer.message_ts}"
    return f"cibot://answer/{answer.answer_id}"


def _count(value: str) -> None:
    try:
        from bot.server.observability import FEEDBACK
    except ImportError:  # metrics are optional
        return
    FEEDBACK.labels(value=value).inc()
