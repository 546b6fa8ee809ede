"""`cibot retrain [--now] [--dry-run] [--json]`: one retrain attempt, as the nightly job runs it."""
from __future__ import annotations

from typing import Optional

import typer

from bot.commands.context import state
from bot.commands.output import emit_json
from bot.learning.scheduler import report_poster
from bot.learning.trainer import build_retrainer


def register(app: typer.Typer) -> None:
    @app.command("retrain", help="Retrain the adapter on thumbs-up feedback; promote it only if the "
                                 "evaluation gate passes.")
    def retrain(
        ctx: typer.Context,
        now: bool = typer.Option(False, "--now", help="Run even if too few new thumbs-up examples arrived."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would be trained on."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
        max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1, help="Cap optimizer steps (quick runs)."),
        starter_limit: Optional[int] = typer.Option(None, "--starter-limit", min=0,
                                                    help="Use only the first N starter-corpus examples."),
    ) -> None:

        settings = state(ctx).settings
        overrides = {"max_steps": max_steps} if max_steps else None
        retrainer = build_retrainer(settings, post=report_poster(settings), train_overrides=overrides,
                                    starter_limit=starter_limit)
        try:
            result = retrainer.run(force=now, dry_run=dry_run)
        finally:
            retrainer.store.close()
        if as_json:
            emit_json(result.to_json())
        else:
            print(_describe(result))
        if result.ran and result.gate is None:  # the run itself failed
            raise typer.Exit(1)


def _describe(result) -> str:
    from bot.learning.retrain import format_report

    if not result.ran:
        extra = f" ({', '.join(f'{k}={v}' for k, v in result.data.items())})" if result.data else ""
        return f"not retrained: {result.reason}{extra}"
    return format_report(result) + (f"\nreport: {result.report}" if result.report else "")
