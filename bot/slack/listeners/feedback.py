"""Votes on answers: the buttons, thumbs reactions (and aliases), and the thumbs-down reason modal.

A vote is recorded first and acknowledged privately; the modal comes after, so a dismissed modal or
an expired trigger_id costs only the reason, never the vote.
"""
from __future__ import annotations

import logging

from bot.slack.deps import SlackDeps
from bot.slack.modal import CALLBACK_ID, REASON_BUTTON, read_submission, reason_prompt, reason_view

log = logging.getLogger(__name__)
THANKS_UP = "Thanks for the feedback! Answers rated helpful teach the next ones."
THANKS_DOWN = "Thanks for the feedback. Your vote is recorded."


def register(app, deps: SlackDeps) -> None:
    @app.action("feedback_up")
    @app.action("feedback_down")
    def on_button(ack, body: dict, action: dict, client) -> None:
        ack()
        user, answer_id = body["user"]["id"], action.get("value") or ""
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        thread_ts = (body.get("container") or {}).get("thread_ts") or (body.get("message") or {}).get("thread_ts")
        record = deps.store.get_answer(answer_id)
        if record is None:
            return
        value = 1 if action["action_id"] == "feedback_up" else -1
        record_vote(deps, answer_id, user, value, "button")
        if value < 0:
            open_reason_modal(client, body.get("trigger_id"), answer_id, channel, thread_ts)
        thank(client, channel, user, thread_ts, THANKS_UP if value > 0 else THANKS_DOWN)

    @app.action(REASON_BUTTON)
    def on_reason_button(ack, body: dict, action: dict, client) -> None:
        ack()
        channel = (body.get("channel") or {}).get("id")
        open_reason_modal(client, body.get("trigger_id"), action.get("value") or "", channel, None)

    @app.view(CALLBACK_ID)
    def on_reason(ack, body: dict, view: dict) -> None:
        meta, reason, detail, errors = read_submission(view)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        answer_id, user = meta.get("answer_id") or "", body["user"]["id"]
        deps.feedback.on_reason(answer_id, user, reason, detail)

    @app.event("reaction_added")
    def on_reaction_added(event: dict, context, client) -> None:
        hit = reaction_target(deps, event, context)
        if hit is None:
            return
        record, value = hit
        record_vote(deps, record.answer_id, event["user"], value, "reaction", context.get("bot_user_id"))
        channel = event["item"]["channel"]
        if value > 0:
            thank(client, channel, event["user"], record.thread_ts, THANKS_UP)
        else:  # reactions carry no trigger_id, so the modal needs a click first
            thank(client, channel, event["user"], record.thread_ts, THANKS_DOWN, reason_prompt(record.answer_id))

    @app.event("reaction_removed")
    def on_reaction_removed(event: dict, context) -> None:
        hit = reaction_target(deps, event, context)
        if hit is None:
            return
        record, value = hit
        user = event["user"]
        standing = [v for v in deps.store.votes_for(record.answer_id) if v.user == user]
        # Removing 👍 after switching to 👎 leaves the 👎 standing: only the current vote retracts.
        if standing and standing[0].value == value:
            retract_vote(deps, record.answer_id, user, context.get("bot_user_id"))


def vote_value(deps: SlackDeps, reaction: str) -> int | None:
    name = reaction.split("::", 1)[0]  # "+1::skin-tone-3" is still a thumbs up
    if name in deps.settings.slack.thumbs_up:
        return 1
    if name in deps.settings.slack.thumbs_down:
        return -1
    return None


def reaction_target(deps: SlackDeps, event: dict, context):
    """(answer record, vote value) when a person reacted with a vote emoji on one of our answers."""
    item = event.get("item") or {}
    value = vote_value(deps, event.get("reaction") or "")
    bot_user = context.get("bot_user_id")
    if value is None or item.get("type") != "message" or not event.get("user") or event["user"] == bot_user:
        return None
    if event.get("item_user") and bot_user and event["item_user"] != bot_user:
        return None  # not a message the bot wrote: no lookup needed
    record = deps.store.answer_by_message(item.get("channel"), item.get("ts"))
    return (record, value) if record is not None else None


def record_vote(deps: SlackDeps, answer_id: str, user: str, value: int, source: str, bot_user_id=None) -> None:
    deps.feedback.on_vote(answer_id, user, value, source, bot_user_id=bot_user_id)


def retract_vote(deps: SlackDeps, answer_id: str, user: str, bot_user_id=None) -> None:
    deps.feedback.on_retract(answer_id, user, bot_user_id=bot_user_id)


def open_reason_modal(client, trigger_id: str | None, answer_id: str, channel: str | None, thread_ts: str | None) -> bool:
    if not trigger_id:
        return False
    try:
        client.views_open(trigger_id=trigger_id, view=reason_view(answer_id, channel, thread_ts))
        return True
    except Exception as exc:  # expired_trigger_id (>3 s) and the like: the vote already stands
        log.info("could not open the reason modal: %s", exc)
        return False


def thank(client, channel: str | None, user: str, thread_ts: str | None, text: str, blocks: list | None = None) -> None:
    if not channel:
        return
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts, blocks=blocks)
    except Exception as exc:
        log.info("could not send the thank-you: %s", exc)
