"""What every subcommand shares within one `cibot` invocation: the config path, --debug, and the
settings, loaded on first use so `--help` never touches config."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer


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
