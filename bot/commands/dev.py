"""`cibot dev ...`: developer tools that work on the project's own data, not on a team's CI.

    cibot dev reallogs worksheet --out sheet.jsonl   what an answer writer reads, one log a line
    cibot dev reallogs build [--json]                answers + ../shared/datasets -> training/data/real.jsonl
    cibot dev corpus [--out training/data ...]       the synthetic corpus (training/corpusgen)
    cibot dev naming [--datasets DIR] [--write]      the naming ranker: grouped CV, shipped weights
    cibot dev router-weights                         retrain the router after editing routes.jsonl
    cibot dev slots --common                         rewrite training/data/common_ids.txt
    cibot dev train-job --config F                   one LoRA run from a JSON config (the retrainer's child)
    cibot dev eval-job --config F                    score current vs candidate (the retrainer's child)

The last six keep their own argparse options: everything after the subcommand goes to them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bot.commands.output import emit_json
from training.finetune.reallogs import build, datasets_dir, worksheet


def register(app: typer.Typer) -> None:
    dev = typer.Typer(help="Developer tools: training data, shipped weights, the retrainer's child jobs.",
                      no_args_is_help=True)
    reallogs = typer.Typer(help="Training rows made from real failing CI logs (training/finetune/reallogs.py).",
                           no_args_is_help=True)
    dev.add_typer(reallogs, name="reallogs")
    app.add_typer(dev, name="dev")
    _passthrough(dev, "corpus", "Write the synthetic corpus (train/heldout JSONL, incidents, demo logs).",
                 "training.corpusgen.cli", "main")
    _passthrough(dev, "naming", "The naming ranker: repository-grouped CV figure, --write ships the weights.",
                 "bot.engine.naming_fit", "main")
    _passthrough(dev, "slots", "Identifier slot tools (--common rewrites training/data/common_ids.txt).",
                 "training.inference.slots", "main")
    _passthrough(dev, "train-job", "One LoRA training run from a JSON LoraConfig (prints a TrainResult line).",
                 "training.finetune.lora", "cli")
    _passthrough(dev, "eval-job", "Score the current and candidate adapters for the retrain gate.",
                 "bot.learning.trainer", "main")

    @dev.command("router-weights", help="Retrain the router on routes.jsonl and ship its weights.")
    def router_weights_cmd() -> None:
        from bot.engine.router import SHIPPED_WEIGHTS, write_shipped_weights

        typer.echo(f"wrote {SHIPPED_WEIGHTS} (key {write_shipped_weights()})")

    @reallogs.command("worksheet", help="Write one JSON line per dataset log: the prompt's log lines and its labels.")
    def worksheet_cmd(out: Path = typer.Option(..., "--out"),
                      datasets: Optional[Path] = typer.Option(None, "--datasets")) -> None:

        count = worksheet(datasets_dir(datasets), out)
        typer.echo(f"{count} logs written to {out}")

    @reallogs.command("build", help="Rebuild training/data/real.jsonl from the shipped answers and the datasets.")
    def build_cmd(datasets: Optional[Path] = typer.Option(None, "--datasets"),
                  as_json: bool = typer.Option(False, "--json")) -> None:

        result = build(datasets_dir(datasets))
        if as_json:
            emit_json(result)
            return
        typer.echo(f"{result['rows']} rows from {result['answers']} answers written to {result['out']}; "
                   f"{len(result['dropped'])} dropped for naming what their log does not show")
        for row in result["dropped"]:
            typer.echo(f"  {row['key']}: {', '.join(row['ungrounded'])}")


def _passthrough(group: typer.Typer, name: str, help_text: str, module: str, function: str) -> None:
    """`cibot dev NAME ARGS...`: ARGS (--help too) go to module.function(argv), an argparse main."""

    @group.command(name, help=help_text, add_help_option=False,
                   context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def run(ctx: typer.Context) -> None:
        import importlib

        code = getattr(importlib.import_module(module), function)(list(ctx.args))
        if code:
            raise typer.Exit(code)
