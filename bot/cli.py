"""The `cibot` command line. Each subcommand lives in bot/commands/<name>.py with a register(app);
the per-invocation state they share (config path, --debug, settings) is bot/commands/context.py.

Errors are caught here, once: a CibotError (or a Click usage error) becomes one line on stderr and a
non-zero exit; any other exception too, unless --debug asks for the traceback.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import click
import typer

from bot.commands import (
    adapters,
    ask,
    config,
    demo,
    dev,
    excerpt,
    feedback,
    ingest,
    retrain,
    scheduler,
    search,
    serve,
    train,
)
from bot.commands import (
    eval as eval_,
)
from bot.commands.context import CliState
from retrieval.errors import CibotError, UsageError

app = typer.Typer(
    name="cibot",
    help="cibot: tells your team why CI failed and how to fix it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def root(
    ctx: typer.Context,
    config: Optional[Path] = typer.Option(None, "--config", help="Path to cibot.toml.", envvar=None),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and routing details."),
) -> None:
    ctx.obj = CliState(config_path=config, debug=debug)


for _module in (ask, excerpt, ingest, search, train, eval_, adapters, serve, scheduler, retrain, feedback, config,
                demo, dev):
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("CIBOT_DEBUG") == "1"
    if not debug:
        # peft asks transformers a deprecated question on every adapter load; nothing a user can act on.
        import warnings

        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="cibot", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        print("cibot: aborted", file=sys.stderr)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except CibotError as exc:
        if debug:
            raise
        print(f"cibot: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        print("cibot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the edge: never a traceback without --debug
        if debug:
            raise
        print(f"cibot: error: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
