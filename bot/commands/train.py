"""`cibot train`: fine-tune a LoRA adapter; `cibot train base`: build the embedded base model."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from bot.commands.context import state
from bot.commands.output import emit_json, progress
from retrieval.errors import InputError
from training.base.model import BASE_ASSET
from training.base.pretrain import BaseRecipe, pretrain
from training.eval.evaluate import REPO
from training.finetune.data import read_jsonl
from training.finetune.lora import LoraConfig, main
from training.registry import AdapterRegistry


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Train a LoRA adapter (default) or the embedded base model (`base`).",
                        invoke_without_command=True, no_args_is_help=False)

    @group.callback()
    def train(
        ctx: typer.Context,
        data: Optional[List[Path]] = typer.Option(None, "--data", help="JSONL file(s); default: the shipped corpus."),
        base: Optional[str] = typer.Option(None, "--base", help="Base model: embedded, a HF id or a local dir."),
        epochs: Optional[float] = typer.Option(None, "--epochs", help="Epochs (may be fractional)."),
        out: Optional[str] = typer.Option(None, "--out", help="Version name; default: the next vNNNN."),
        promote: bool = typer.Option(True, "--promote/--no-promote", help="Make the new adapter current."),
        max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Stop after N optimizer steps."),
        eval_limit: int = typer.Option(40, "--eval-limit", help="Held-out examples to evaluate on."),
        threads: int = typer.Option(0, "--threads", help="torch CPU threads (0: torch's default)."),
        continue_from: Optional[str] = typer.Option(None, "--continue-from",
                                                    help="Adapter version to continue from (its r and targets)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        if ctx.invoked_subcommand is not None:
            return

        settings = state(ctx).settings
        t = settings.train
        cfg = LoraConfig(
            data=[str(p) for p in (data or _default_data())], home=str(settings.home),
            base=base or settings.model.base, out_version=out, promote=promote,
            **{**t.model_dump(), "epochs": epochs or t.epochs},  # every [train] setting is a LoraConfig field
            device=settings.model.device, max_steps=max_steps, eval_limit=eval_limit, threads=threads,
            init_adapter=str(AdapterRegistry(settings.paths.adapters).path(continue_from)) if continue_from else None,
        )
        # Refuse bad data before touching the registry; then the shipped default becomes v0001
        # first, so a rollback from the new adapter has a target.
        _check_data(cfg.data)
        AdapterRegistry(settings.paths.adapters).ensure_default(base=cfg.base)
        with progress("training", None) as advance:
            def on_step(done: int, total: int, loss: float) -> None:
                advance(1)
                if done % 25 == 0 or done == total:  # a loss log when stderr is not a terminal
                    print(f"batch {done}/{total} loss {loss:.4f}", file=sys.stderr, flush=True)

            result = main(cfg, on_step=on_step)
        if as_json:
            emit_json({"version": result.version, "train_examples": result.train_examples,
                       "eval": {k: v for k, v in result.eval.items() if k != "samples"},
                       "seconds": result.seconds})
            return
        ev = result.eval
        print(f"adapter {result.version} trained on {result.train_examples} examples in {result.seconds:.0f}s "
              f"({result.tokens_per_s:.0f} tokens/s); format {ev.get('format_compliance')}, "
              f"id recall {ev.get('id_recall')}{' (current)' if promote else ''}")

    @group.command("base", help="Build the embedded base model from the repo's text into training/assets/base.")
    def base_cmd(
        out: Optional[Path] = typer.Option(None, "--out", help="Artifact directory (default: training/assets/base)."),
        steps: Optional[int] = typer.Option(None, "--steps", help="Optimizer steps."),
        threads: int = typer.Option(0, "--threads", help="torch CPU threads (0: torch's default)."),
        as_json: bool = typer.Option(False, "--json", help="Print the recipe facts as JSON."),
    ) -> None:
        from bot.commands.output import emit_json, progress

        if threads:
            import torch

            torch.set_num_threads(threads)
        recipe = BaseRecipe()
        if steps:
            recipe.steps = steps
        with progress("pretraining", recipe.steps) as advance:
            def on_step(step: int, loss: float) -> None:
                advance(1)
                if step % 20 == 0:
                    print(f"step {step}/{recipe.steps} loss {loss:.3f}", file=sys.stderr, flush=True)

            facts = pretrain(out or BASE_ASSET, recipe, on_step=on_step)
        if as_json:
            emit_json(facts)
        else:
            print(f"base model written to {out or BASE_ASSET}: {facts['parameters']:,} parameters, "
                  f"{facts['steps_done']} steps, loss {facts['final_loss']}, {facts['seconds']}s", file=sys.stderr)

    app.add_typer(group, name="train")


def _check_data(paths: list[str]) -> None:
    found, problems = 0, []
    for path in paths:
        examples, bad = read_jsonl(Path(path))
        found, problems = found + len(examples), problems + bad
    if not found:
        detail = "; ".join(str(p) for p in problems[:5]) or "the file is empty"
        raise InputError(f"no valid training examples ({detail})",
                         hint='each line must be {"input","output"} or {"messages": [...]}')


def _default_data() -> list[Path]:
    """The bundled synthetic corpus and the real-log rows (training/finetune/reallogs.py)."""

    return [REPO / "training" / "data" / "train.jsonl", REPO / "training" / "data" / "real.jsonl"]
