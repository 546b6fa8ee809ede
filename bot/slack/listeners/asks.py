"""Turn message-shaped Slack payloads into Asks (shared by mentions, DMs, alerts, the shortcut)."""
from __future__ import annotations

from bot.ci.target import targets_in
from bot.slack.answering import Ask
from bot.slack.inputs import links_in, parse_message


def message_ask(event: dict, *, surface: str, bot_user_id: str | None, team: str | None,
                explicit: bool = True, whole_message_is_log: bool = False, hosts=None) -> Ask:
    """An Ask answered in the message's thread. Keyed on channel+ts, so the same message arriving
    as both `message` and `app_mention` (or via a shortcut on an alert) is answered once.
    A job or run link of a configured CI provider (`hosts`) makes it fetch that job's own log."""
    parsed = parse_message(event, bot_user_id)
    targets = targets_in(links_in(event), hosts) if hosts is not None else []
    question, log = parsed.question, parsed.log
    if whole_message_is_log:  # an alert: its words are the evidence, not a question
        log = "\n".join(part for part in (question, log) if part) or None
        question = ""
    channel, ts = event["channel"], event["ts"]
    return Ask(
        surface=surface, channel=channel, request_key=f"slack:msg:{channel}:{ts}",
        question=question, log=log, user=event.get("user"), team=team or event.get("team"),
        thread_ts=event.get("thread_ts") or ts, message_ts=ts, asker_text=event.get("text") or "",
        files=parsed.files, route=parsed.route, explicit=explicit, target=targets[0] if targets else None,
    )


def from_other_bot(event: dict, context) -> bool:
    own = {context.get("bot_user_id"), context.get("bot_id")} - {None}
    return bool(event.get("bot_id")) or event.get("user") in own
