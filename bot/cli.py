"""The `cibot` command line. Each subcommand lives in bot/commands/<name>.py with a register(app).

Errors are caught here, once: a CibotError (or a Click usage error) becomes one line on stderr and a
non-zero exit; any other exception too, unless --debug asks for the traceback.
"""
from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import click
import typer

from retrieval.errors import CibotError, UsageError

COMMANDS = (
    "ask", "excerpt", "ingest", "search", "train", "eval", "adapters",
    "serve", "scheduler", "retrain", "feedback", "config", "demo", "dev",
)

app = typer.Typer(
    name="cibot",
    help="cibot: tells your team why CI failed and how to fix it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@dataclass
class CliState:
    config_path: Path | None = None
    debug: bool = False
    _settings: object | None = field(default=None, repr=False)

    @property
    def settings(self):
        """The effective Settings, loaded on first use so `--help` never touches config."""
        if self._settings is None:
            from bot.settings import load_settings

            self._settings = load_settings(self.config_path)
        return self._settings


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = CliState()
    return root.obj


@app.callback()
def root(
    ctx: typer.Context,
    config: Optional[Path] = typer.Option(None, "--config", help="Path to cibot.toml.", envvar=None),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and routing details."),
) -> None:
    ctx.obj = CliState(config_path=config, debug=debug)


for _name in COMMANDS:
    importlib.import_module(f"bot.commands.{_name}").register(app)


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
