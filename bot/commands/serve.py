"""`cibot serve [--socket | --http] [--port N] [--no-scheduler]`: the Slack bot and webhook server."""
from __future__ import annotations

import sys
from typing import Optional

import typer

from bot.commands.context import state
from retrieval.errors import UsageError


def register(app: typer.Typer) -> None:
    @app.command("serve", help="Run the Slack bot (Socket Mode or HTTP) with CI webhooks, health and metrics.")
    def serve(
        ctx: typer.Context,
        socket: bool = typer.Option(False, "--socket", help="Socket Mode (needs SLACK_APP_TOKEN)."),
        http: bool = typer.Option(False, "--http", help="HTTP mode: Slack posts to /slack/events (needs SLACK_SIGNING_SECRET)."),
        port: Optional[int] = typer.Option(None, "--port", min=0, max=65535, help="Port (default server.port; 0 picks one)."),
        host: Optional[str] = typer.Option(None, "--host", help="Bind address (default server.host)."),
        no_scheduler: bool = typer.Option(False, "--no-scheduler", help="Do not start the nightly retrain scheduler."),
    ) -> None:
        from bot.server.observability import configure_logging
        from bot.server.service import serve as run

        if socket and http:
            raise UsageError("choose one of --socket and --http")
        settings = state(ctx).settings
        mode = "socket" if socket else "http" if http else settings.server.mode
        configure_logging(settings.server.log_format, "DEBUG" if state(ctx).debug else "INFO")
        run(settings, mode, host or settings.server.host, settings.server.port if port is None else port,
            scheduler=not no_scheduler, announce=lambda line: print(line, file=sys.stderr, flush=True))
