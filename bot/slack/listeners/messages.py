"""Plain messages: DMs to the bot, and CI failure alerts in watched channels."""
from __future__ import annotations

from bot.slack.alerts import is_ci_failure_alert
from bot.slack.answering import submit
from bot.slack.deps import SlackDeps
from bot.slack.listeners.asks import from_other_bot, message_ask

# Edits, deletions, joins: nothing new was asked.
SKIPPED_SUBTYPES = {"message_changed", "message_deleted", "message_replied", "channel_join", "channel_leave",
                    "group_join", "group_leave", "assistant_app_thread"}


def register(app, deps: SlackDeps) -> None:
    @app.event("message")
    def on_message(event: dict, body: dict, context, client) -> None:
        if event.get("subtype") in SKIPPED_SUBTYPES or "channel" not in event or "ts" not in event:
            return
        bot_user_id = context.get("bot_user_id")
        team = body.get("team_id")
        if event.get("channel_type") == "im":
            if not from_other_bot(event, context):
                submit(deps, client, message_ask(event, surface="dm", bot_user_id=bot_user_id, team=team,
                                                   hosts=deps.ci.hosts))
            return
        if event["channel"] not in deps.settings.slack.watch_channels:
            return  # mentions elsewhere arrive as app_mention
        own = {bot_user_id, context.get("bot_id")} - {None}
        if is_ci_failure_alert(event, alert_senders=deps.settings.slack.alert_senders, own_ids=own):
            ask = message_ask(event, surface="alert", bot_user_id=bot_user_id, team=team,
                              explicit=False, whole_message_is_log=True, hosts=deps.ci.hosts)
            submit(deps, client, ask)
