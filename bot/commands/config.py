"""`cibot config show|path`: the effective configuration, secrets masked."""
from __future__ import annotations

import json

import typer

from bot.commands.context import state
from bot.commands.output import emit_json


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)
    app.add_typer(config_app, name="config")

    @config_app.command("show")
    def show(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Print the effective config (defaults < cibot.toml < environment), secrets masked."""
        from bot.settings import masked_dump

        data = masked_dump(state(ctx).settings)
        if as_json:
            emit_json(data)
        else:
            typer.echo(json.dumps(data, indent=2))

    @config_app.command("path")
    def path(ctx: typer.Context) -> None:
        """Print the config file in use (or none) and the data home."""
        from bot.commands.context import state
        from bot.settings import find_config_file

        st = state(ctx)
        typer.echo(f"config: {find_config_file(st.config_path) or '(none: defaults and environment)'}")
        typer.echo(f"home:   {st.settings.home}")
