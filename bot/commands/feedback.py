"""`cibot feedback list [--since DATE] [--json]` and `cibot feedback export [--out FILE]`."""
from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from bot.commands.context import state
from bot.commands.output import emit_json
from retrieval.errors import UsageError


def parse_since(text: str | None) -> datetime | None:
    """An ISO date or date-time; a date means its midnight UTC."""
    if not text:
        return None
    try:
        ts = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {text!r} is not a date", hint="use YYYY-MM-DD or an ISO date-time") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def vote_json(vote) -> dict:
    """The `cibot feedback list --json` contract: one object per vote."""
    return {"answer_id": vote.answer_id, "user": vote.user, "value": vote.value, "channel": vote.channel,
            "ts": vote.ts.isoformat(), "adapter": vote.adapter, "reason": vote.reason}


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Votes on the bot's answers: list them, export thumbs-up examples.",
                        no_args_is_help=True)
    app.add_typer(group, name="feedback")

    @group.command("list", help="One line per standing vote (one JSON object per vote with --json).")
    def list_votes(
        ctx: typer.Context,
        since: Optional[str] = typer.Option(None, "--since", help="Only votes cast or changed since DATE."),
        as_json: bool = typer.Option(False, "--json", help="JSON lines."),
    ) -> None:

        store = _store(ctx)
        try:
            votes = store.votes(since=parse_since(since))
        finally:
            store.close()
        for vote in votes:
            if as_json:
                emit_json(vote_json(vote))
            else:
                why = f"  reason={vote.reason}" + (f" ({vote.detail})" if vote.detail else "") if vote.reason else ""
                print(f"{vote.ts:%Y-%m-%d %H:%M} {'+1' if vote.value > 0 else '-1'} {vote.answer_id} "
                      f"by {vote.user} in {vote.channel or '-'} adapter={vote.adapter or '-'}{why}")

    @group.command("export", help="Write thumbs-up answers as training JSONL (thumbs-down ones excluded).")
    def export(
        ctx: typer.Context,
        out: Optional[Path] = typer.Option(None, "--out", help="File to write (default: stdout)."),
    ) -> None:
        from bot.learning.trainset import split_feedback, write_jsonl

        store = _store(ctx)
        try:
            split = split_feedback(store, holdout_fraction=0.0)
        finally:
            store.close()
        rows = split.train + split.heldout
        if out is None:
            from bot.commands.output import emit_json

            for row in rows:
                emit_json(row)
        else:
            write_jsonl(out, rows)
        print(f"exported {len(rows)} thumbs-up example(s); {len(split.review)} thumbs-down answer(s) "
              f"left out for review", file=sys.stderr)


def _store(ctx: typer.Context):
    from bot.store import Store

    return Store.from_settings(state(ctx).settings)
