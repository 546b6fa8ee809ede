"""The message shortcut "Explain this failure": any message, including forwarded alerts."""
from __future__ import annotations

from bot.slack.answering import submit
from bot.slack.deps import SlackDeps
from bot.slack.listeners.asks import message_ask

CALLBACK_ID = "explain_failure"


def register(app, deps: SlackDeps) -> None:
    @app.shortcut(CALLBACK_ID)
    def on_explain(ack, shortcut: dict, client) -> None:
        ack()
        message = dict(shortcut.get("message") or {})
        message["channel"] = (shortcut.get("channel") or {}).get("id")
        if not message.get("ts") or not message["channel"]:
            return
        ask = message_ask(message, surface="shortcut", bot_user_id=None,
                          team=(shortcut.get("team") or {}).get("id"), whole_message_is_log=True, hosts=deps.ci.hosts)
        # Someone explicitly asked: key on this click, not on the message, which may be answered already.
        ask.request_key = f"slack:shortcut:{shortcut.get('trigger_id') or shortcut.get('action_ts')}"
        ask.user = (shortcut.get("user") or {}).get("id")
        ask.question = "Explain this failure"
        ask.asker_text = ""  # the clicker wrote nothing; the message's mentions are not theirs to echo
        submit(deps, client, ask)
