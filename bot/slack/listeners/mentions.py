"""@cibot in a channel (or a thread): answer in the thread."""
from __future__ import annotations

from bot.slack.answering import submit
from bot.slack.deps import SlackDeps
from bot.slack.listeners.asks import from_other_bot, message_ask


def register(app, deps: SlackDeps) -> None:
    @app.event("app_mention")
    def on_mention(event: dict, body: dict, context, client) -> None:
        # Another bot mentioning us is not a person asking (and two bots can loop forever).
        if from_other_bot(event, context) and event.get("bot_id") not in deps.settings.slack.alert_senders:
            return
        ask = message_ask(event, surface="mention", bot_user_id=context.get("bot_user_id"), team=body.get("team_id"),
                          hosts=deps.ci.hosts)
        submit(deps, client, ask)
