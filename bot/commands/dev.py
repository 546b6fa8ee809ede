"""`cibot dev ...`: developer tools that work on the project's own data, not on a team's CI.

    cibot dev reallogs worksheet --out sheet.jsonl   what an answer writer reads, one log a line
    cibot dev reallogs build [--json]                answers + ../shared/datasets -> training/data/real.jsonl
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bot.commands.output import emit_json
from training.reallogs import datasets_dir


def register(app: typer.Typer) -> None:
    dev = typer.Typer(help="Developer tools: rebuild the real-log training rows.", no_args_is_help=True)
    reallogs = typer.Typer(help="Training rows made from real failing CI logs (training/reallogs.py).",
                           no_args_is_help=True)
    dev.add_typer(reallogs, name="reallogs")
    app.add_typer(dev, name="dev")

    @reallogs.command("worksheet", help="Write one JSON line per dataset log: the prompt's log lines and its labels.")
    def worksheet_cmd(out: Path = typer.Option(..., "--out"),
                      datasets: Optional[Path] = typer.Option(None, "--datasets")) -> None:
        from training.reallogs import worksheet

        count = worksheet(datasets_dir(datasets), out)
        typer.echo(f"{count} logs written to {out}")

    @reallogs.command("build", help="Rebuild training/data/real.jsonl from the shipped answers and the datasets.")
    def build_cmd(datasets: Optional[Path] = typer.Option(None, "--datasets"),
                  as_json: bool = typer.Option(False, "--json")) -> None:
        from training.reallogs import build

        result = build(datasets_dir(datasets))
        if as_json:
            emit_json(result)
            return
        typer.echo(f"{result['rows']} rows from {result['answers']} answers written to {result['out']}; "
                   f"{len(result['dropped'])} dropped for naming what their log does not show")
        for row in result["dropped"]:
            typer.echo(f"  {row['key']}: {', '.join(row['ungrounded'])}")
