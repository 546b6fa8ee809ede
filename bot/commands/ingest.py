"""`cibot ingest PATH [PATH ...] [--collection NAME] [--scope CHANNEL ...] [--prune]`.

Shows a progress bar, then one summary line: added, updated, unchanged, removed. Files that
cannot be read are listed on stderr and skipped; the rest still ingest (exit status 1 then).
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from bot.commands.context import state
from bot.commands.output import emit_json, progress
from retrieval.index import KnowledgeIndex


def register(app: typer.Typer) -> None:
    @app.command("ingest", help="Add runbooks (md, rst, txt, html) and incidents (jsonl) to the knowledge index.")
    def ingest(
        ctx: typer.Context,
        paths: List[Path] = typer.Argument(..., help="Files or directories to ingest."),
        collection: Optional[str] = typer.Option(None, "--collection", help="Chroma collection name."),
        scope: Optional[List[str]] = typer.Option(
            None, "--scope", help="Limit these sources to a Slack channel (repeatable; team:T123 for a team)."),
        prune: bool = typer.Option(False, "--prune", help="Remove sources under PATH that no longer exist."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ) -> int:

        settings = state(ctx).settings
        scopes = [s.strip() for item in (scope or []) for s in item.split(",") if s.strip()]
        index = KnowledgeIndex.open(settings.retrieval, settings.paths.chroma, collection=collection)
        with progress("ingesting", total=index.planned_files(paths)) as advance:
            summary = index.ingest(paths, scope=scopes or None, prune=prune, progress=advance)
        for where, reason in summary.errors:
            typer.echo(f"cibot: warning: skipped {where}: {reason}", err=True)
        counts = {"added": summary.added, "updated": summary.updated,
                  "unchanged": summary.unchanged, "removed": summary.removed}
        if as_json:
            emit_json({**counts, "chunks_added": summary.chunks_added,
                       "chunks_removed": summary.chunks_removed,
                       "errors": [{"path": p, "reason": r} for p, r in summary.errors]})
        else:
            typer.echo(", ".join(f"{k} {v}" for k, v in counts.items())
                       + f" (chunks: +{summary.chunks_added} -{summary.chunks_removed}; "
                       f"{index.count()} in collection {index.collection.name})")
        return 1 if summary.errors else 0
