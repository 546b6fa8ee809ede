"""`cibot search QUERY [--k N] [--scope CHANNEL] [--json]`: hybrid search of the knowledge index.

With --json prints {"query": ..., "results": [{"text", "score", "title", "uri"}]}. Results scoring
below retrieval.min_score are left out (so "no results" means nothing relevant) unless --all.
"""
from __future__ import annotations

from typing import Optional

import typer

from bot.commands.context import state
from bot.commands.output import emit_json, progress
from retrieval.errors import UsageError
from retrieval.index import KnowledgeIndex
from retrieval.types import Scope


def register(app: typer.Typer) -> None:
    @app.command("search", help="Search the runbooks and incidents (dense + BM25).")
    def search(
        ctx: typer.Context,
        query: str = typer.Argument(..., help="Error text or question."),
        k: Optional[int] = typer.Option(None, "--k", min=1, max=100, help="How many results (default retrieval.top_k)."),
        scope: Optional[str] = typer.Option(None, "--scope", help="Search as this Slack channel."),
        team: Optional[str] = typer.Option(None, "--team", help="Search as this Slack team."),
        collection: Optional[str] = typer.Option(None, "--collection", help="Chroma collection name."),
        show_all: bool = typer.Option(False, "--all", help="Also show results below retrieval.min_score."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        from retrieval.search import Retriever, relevant

        if not query.strip():
            raise UsageError("empty query", hint="give the error text or a question to search for")
        settings = state(ctx).settings
        index = KnowledgeIndex.open(settings.retrieval, settings.paths.chroma, collection=collection)
        if settings.retrieval.starter:
            with progress("installing the starter knowledge base") as advance:
                index.ensure_starter(progress=advance)
        where = Scope(channel=scope, team=team) if (scope or team) else None
        passages = Retriever(index).search(query, k=k or settings.retrieval.top_k, scope=where)
        shown = passages if show_all else relevant(passages, settings.retrieval.min_score)
        if as_json:
            emit_json({"query": query, "results": [
                {"text": p.text, "score": p.score, "title": p.title, "uri": p.uri} for p in shown]})
            return
        if not shown:
            best = f" (best score {passages[0].score:.2f} < {settings.retrieval.min_score})" if passages else ""
            typer.echo(f"nothing relevant{best}")
            return
        for n, p in enumerate(shown, 1):
            heading = " > ".join(p.heading_path[1:]) if p.kind == "runbook" else ""
            typer.echo(f"{n}. [{p.score:.2f}] {p.title}" + (f" > {heading}" if heading else ""))
            typer.echo(f"   {p.uri}")
            snippet = " ".join(p.text.split())
            typer.echo(f"   {snippet[:240]}{'...' if len(snippet) > 240 else ''}")
