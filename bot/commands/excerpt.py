"""`cibot excerpt LOG [LOG ...] [--max-lines N] [--pass-log FILE] [--json]`.

Prints the lines that explain each log's failure. With --json, one object per input per line:
{"file", "lines": [{"n", "text"}], "step", "category", "redactions"} (texts redacted, ANSI-free).
An unreadable or binary input gives one error line on stderr naming it; the others are still
processed and the exit code is 1 at the end.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from bot.commands.output import emit_json
from retrieval.errors import InputError, UsageError
from retrieval.logs.excerpt import extract


def _excerpt_json(name: str, ex) -> dict:
    return {
        "file": name,
        "lines": [{"n": ln.n, "text": ln.text} for ln in ex.lines],
        "step": ex.step,
        "category": ex.category,
        "redactions": ex.redactions,
    }


def _print_text(name: str, ex) -> None:
    out = sys.stdout
    out.write(f"== {name} ({ex.total_lines} lines)\n")
    if not ex.has_failure:
        out.write("no failure found in this log; its last lines:\n")
    else:
        out.write(f"step: {ex.step or '(unknown)'}   category: {ex.category}   redactions: {ex.redactions}\n")
    width = len(str(ex.lines[-1].at)) if ex.lines else 1
    prev = None
    for ln in ex.lines:  # numbered as an editor shows them; --json keeps the scorer's `n`
        if prev is not None and ln.n != prev + 1:
            out.write(f"{'':>{width}} ...\n")
        out.write(f"{ln.at:>{width}} | {ln.text}\n")
        prev = ln.n
    out.flush()


def register(app: typer.Typer) -> None:
    @app.command("excerpt", help="Print the lines of CI logs that explain their failure.")
    def excerpt_cmd(
        logs: List[str] = typer.Argument(..., metavar="LOG...", help="Log files (.gz ok), or - for stdin."),
        max_lines: int = typer.Option(30, "--max-lines", help="Most lines to print per log."),
        pass_log: Optional[Path] = typer.Option(None, "--pass-log", help="A passing log of the same job."),
        as_json: bool = typer.Option(False, "--json", help="One JSON object per log per line."),
    ) -> None:

        if max_lines < 1:
            raise UsageError("--max-lines must be at least 1")
        if logs.count("-") > 1:
            raise UsageError("stdin (-) can be given only once")
        if pass_log is not None and not pass_log.is_file():
            raise InputError(f"{pass_log}: pass log not found")
        failed = False
        for name in logs:
            try:
                source = "-" if name == "-" else Path(name)
                if name != "-" and not Path(name).is_file():
                    raise InputError(f"{name}: no such file")
                ex = extract(source, max_lines=max_lines, pass_log=pass_log)
            except (InputError, OSError) as exc:
                msg = str(exc) if name in str(exc) else f"{name}: {exc}"
                print(f"cibot: error: {msg}", file=sys.stderr)
                failed = True
                continue
            if as_json:
                emit_json(_excerpt_json(name, ex))
            else:
                _print_text(name, ex)
        if failed:
            raise typer.Exit(1)
