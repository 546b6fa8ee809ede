"""/ci-why <log or question>: post the question in the channel, answer in its thread."""
from __future__ import annotations

from bot.slack.answering import Ask, submit
from bot.slack.deps import SlackDeps
from bot.slack.inputs import parse_message
from bot.slack.sanitize import escape

USAGE = ("Paste the failing part of a CI log after the command, e.g. `/ci-why npm ERR! code ERESOLVE ...`, "
         "or use the message shortcut *Explain this failure* on an alert.")


def register(app, deps: SlackDeps) -> None:
    @app.command("/ci-why")
    def on_ci_why(ack, command: dict, client) -> None:
        text = (command.get("text") or "").strip()
        if not text:
            ack(text=USAGE)
            return
        ack()
        parsed = parse_message({"text": text})
        first = parsed.question or next(iter((parsed.log or "").strip().splitlines()), "")
        user = command.get("user_id")
        ask = Ask(
            surface="slash", channel=command["channel_id"], user=user, team=command.get("team_id"),
            request_key=f"slack:command:{command.get('trigger_id') or command.get('channel_id') + text}",
            question=parsed.question, log=parsed.log or parsed.question, thread_ts=None,
            root_text=f"<@{user}> asked `/ci-why`: {escape(first[:200])}", asker_text=text, route=parsed.route,
        )
        submit(deps, client, ask)
