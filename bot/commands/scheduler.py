"""`cibot scheduler`: only the nightly retrain schedule, in the foreground (a separate worker)."""
from __future__ import annotations

import signal
import sys
import threading

import typer

from bot.commands.context import state
from bot.commands.output import emit_json


def register(app: typer.Typer) -> None:
    @app.command("scheduler", help="Run only the retrain scheduler, in the foreground, until stopped.")
    def scheduler(
        ctx: typer.Context,
        status: bool = typer.Option(False, "--status", help="Print the next and last runs, then exit."),
    ) -> None:
        from bot.learning.scheduler import (
            next_run_time,
            start_scheduler,
            stored_next_run,
        )

        settings = state(ctx).settings
        if status:
            emit_json({"next_run": _iso(stored_next_run(settings)), "cron": settings.scheduler.cron,
                       "last_run": _last(settings)})
            return
        sched = start_scheduler(settings)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        print(f"cibot scheduler: cron {settings.scheduler.cron!r} ({settings.scheduler.timezone}); "
              f"next run {_iso(next_run_time(sched))}", file=sys.stderr, flush=True)
        stop.wait()
        print("cibot scheduler: stopping (waiting for a run in progress)", file=sys.stderr, flush=True)
        sched.shutdown(wait=True)


def _iso(ts) -> str | None:
    return ts.isoformat() if ts else None


def _last(settings) -> dict | None:
    from bot.learning.retrain import last_run_summary
    from bot.store import Store

    store = Store.from_settings(settings)
    try:
        return last_run_summary(store)
    finally:
        store.close()
