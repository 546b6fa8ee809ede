"""`cibot demo`: the main job on embedded defaults, with no tokens, GPU or network.

It builds (or loads, if cached) the embedded base model, the default LoRA adapter and the Chroma
index of the bundled runbooks and incidents, then answers the bundled failing logs through the full
excerpt -> route -> retrieve -> LoRA model pipeline.
"""
from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Optional

import typer

from bot.commands.ask import render_text
from bot.commands.context import state
from bot.commands.output import emit_json
from bot.engine.answer import AnswerRequest
from retrieval.errors import InputError

NEXT_STEPS = """\
Next steps:
  cibot ask --log path/to/failed.log          explain one of your own logs
  cibot ingest docs/runbooks/ incidents.jsonl   add your team's runbooks and past incidents
  export SLACK_BOT_TOKEN=xoxb-... SLACK_APP_TOKEN=xapp-...   (see deploy/slack-app-manifest.yaml)
  cibot serve                                  go live in Slack (Socket Mode)"""


def demo_logs() -> list[Path]:
    folder = resources.files("bot") / "data" / "demo_logs"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".log"))


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        ctx: typer.Context,
        logs: Optional[list[Path]] = typer.Argument(None, help="Logs to answer (default: the bundled ones)."),
        prepare: bool = typer.Option(False, "--prepare", help="Only build/cache the model, adapter and index."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON answer per log."),
    ) -> None:
        """Answer bundled failing logs end to end on embedded defaults (no tokens, GPU or network)."""
        from bot.runtime import build_engine

        settings = state(ctx).settings
        paths = list(logs or demo_logs())
        for path in paths:  # fail fast, before minutes of model and index set-up
            if not path.is_file():
                raise InputError(f"log not found: {path}")
        started = time.perf_counter()
        typer.echo(f"cibot demo: data home {settings.home}", err=True)
        engine = build_engine(settings, progress=lambda msg: typer.echo(f"  {msg}", err=True))
        typer.echo(f"  ready in {time.perf_counter() - started:.1f}s", err=True)
        if prepare:
            return
        for path in paths:
            t0 = time.perf_counter()
            answer = engine.answer(AnswerRequest(question="Why did this CI job fail?", log=path))
            if as_json:
                emit_json({"file": str(path), **answer.to_json()})
                continue
            typer.echo(f"\n=== {path.name}  ({time.perf_counter() - t0:.1f}s)")
            typer.echo(render_text(answer))
        if not as_json:
            typer.echo(f"\nAnswered in {time.perf_counter() - started:.1f}s in all.\n\n{NEXT_STEPS}")
