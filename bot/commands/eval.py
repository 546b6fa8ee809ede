"""`cibot eval`: base model vs adapter vs adapter + retrieval on fixed examples, with a report."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Optional

import typer

from bot.commands.context import state
from bot.commands.output import emit_json
from retrieval.logs import evidence as ev
from retrieval.logs.excerpt import extract
from training.eval.report import compare, suite_examples, write_report
from training.finetune.features import prompt_budget_chars
from training.finetune.reallogs import datasets_dir
from training.inference.generate import LocalGenerator
from training.inference.prompt import parse_answer
from training.registry import AdapterRegistry


def register(app: typer.Typer) -> None:
    @app.command("eval", help="Score base, adapter and adapter+retrieval side by side; writes a Markdown+PNG report.")
    def eval_cmd(
        ctx: typer.Context,
        suite: str = typer.Option("heldout", "--suite", help="heldout, json or real (../shared/datasets LogChunks)."),
        limit: int = typer.Option(100, "--limit", help="Examples to score."),
        version: Optional[str] = typer.Option(None, "--adapter", help="Adapter version (default: current)."),
        retrieval: bool = typer.Option(True, "--retrieval/--no-retrieval",
                                       help="Use the knowledge index for the +retrieval variant."),
        guided: bool = typer.Option(True, "--guided/--free",
                                    help="Decode text answers in the Root Cause/Fix shape, as served (--free: "
                                         "the model's own format compliance)."),
        as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    ) -> None:

        settings = state(ctx).settings

        examples, fmt = suite_examples(suite, limit, datasets_dir())
        registry = AdapterRegistry(settings.paths.adapters)
        registry.ensure_default(base=settings.model.base)
        version = version or registry.current()
        adapter_dir = registry.path(version) if version else None
        if version:
            registry.verify(version)
        generator = LocalGenerator(settings.model.base, device=settings.model.device,
                                   models_dir=settings.paths.models, max_new_tokens=settings.model.max_new_tokens,
                                   quantize=settings.model.quantize,  # scored as served
                                   cause_tokens=settings.model.cause_tokens, fix_tokens=settings.model.fix_tokens)
        generator.guided_text = guided
        retriever = _retriever(settings) if retrieval else None
        results = compare(generator, adapter_dir, version, examples, fmt=fmt, retriever=retriever,
                          budget_chars=prompt_budget_chars(settings.train.max_seq_len),
                          on_variant=lambda v: print(f"evaluating {v} on {len(examples)} examples", file=_err()),
                          post=_as_served(settings))
        info = {"base": settings.model.base, "adapter": version, "n": len(examples), "suite": suite,
                "decoding": "guided" if guided else "free"}
        md, png = write_report(suite, results, settings.paths.reports, info)
        slim = {v: {k: x for k, x in m.items() if k != "samples"} for v, m in results.items()}
        if as_json:
            emit_json({**info, "results": slim, "report": str(md), "chart": str(png)})
            return
        for variant, m in slim.items():
            print(f"{variant:<18} format {m['format_compliance']}  json {m['json_valid']}  "
                  f"id recall {m['id_recall']}  as served {m['served_id_recall']}  ({m['context']} context)")
        print(f"report: {md}")


def _as_served(settings):
    """The engine's finishing of an answer about a log (bot.engine.finish), as `evaluate(post=...)`
    wants it: the example's original log is excerpted as serving does, and only notes that clear
    the relevance threshold count, as in the engine."""
    from bot.engine.finish import finish
    from bot.engine.pipeline import EngineConfig

    config = EngineConfig.from_settings(settings)

    def post(raw: str, example, notes: list, meta: dict) -> str:
        path = example.meta.get("log_path")
        log = Path(path) if path else io.StringIO(example.input)
        kept = [p for p in notes if getattr(p, "score", 1.0) >= config.min_score]
        done = finish(parse_answer(raw), extract(log, max_lines=config.excerpt_lines), kept,
                      meta.get("mean_logprob"), config.min_logprob)
        return f"Root Cause: {done.cause}\nFix: {done.fix}"

    return post


def _err():
    import sys

    return sys.stderr


class _AsServed:
    """The engine's retrieval for an example's log: the excerpt's evidence lines as the query,
    `retrieval.top_k` results, only notes above `retrieval.min_score`, one per source; so the
    adapter+retrieval variant reads the notes a served answer would."""

    def __init__(self, retriever, settings):
        from bot.engine.pipeline import EngineConfig

        self.retriever, self.config = retriever, EngineConfig.from_settings(settings)

    def notes_for(self, example) -> list:
        from retrieval.logs.excerpt import extract

        excerpt = extract(io.StringIO(example.input), max_lines=self.config.excerpt_lines)
        query = ev.retrieval_query(example.question or "", excerpt.lines, excerpt.post_build)
        if not query.strip():
            return []
        return ev.relevant_sources(self.retriever.search(query, k=self.config.top_k), self.config.min_score)


def _retriever(settings):
    """The knowledge index's retriever, or None (examples' own context is used instead)."""
    try:
        from retrieval.index import KnowledgeIndex
        from retrieval.search import Retriever

        index = KnowledgeIndex.open(settings.retrieval, settings.paths.chroma)
        if hasattr(index, "ensure_starter"):
            index.ensure_starter()
        return _AsServed(Retriever(index), settings)
    except Exception as exc:  # noqa: BLE001 - retrieval is optional here; say so and go on
        print(f"retrieval unavailable ({exc}); using the examples' own context", file=_err())
        return None
