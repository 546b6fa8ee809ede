"""Build a ready AnswerEngine from settings: the one place that loads weights and opens the index.

Used by `cibot ask`, `cibot serve` and `cibot demo`. On first use it installs the embedded base
model and the shipped default adapter into CIBOT_HOME and ingests the starter knowledge base, so a
fresh install answers without any setup step.
"""
from __future__ import annotations

from typing import Any, Callable

from bot.engine.pipeline import AnswerEngine, EngineConfig
from retrieval.index import KnowledgeIndex
from training.base.model import EMBEDDED, PACKAGED, ensure_base_model, ensure_converted
from training.inference.generate import load_generator as load_local
from training.registry import AdapterRegistry

Progress = Callable[[str], None]


def build_engine(settings: Any, *, with_model: bool = True, progress: Progress | None = None) -> AnswerEngine:
    """Embedder, index + retriever, router and (unless with_model=False) the generator."""
    say = progress or (lambda message: None)
    from retrieval.embed import load_embedder
    from retrieval.search import Retriever

    say("loading the embedding model")
    embedder = load_embedder(settings.retrieval.embed_model)
    say("opening the knowledge index")
    index = KnowledgeIndex.open(settings.retrieval, settings.paths.chroma, embedder=embedder)
    if settings.retrieval.starter:
        # Idempotent (stamped by content hash), so a shared Chroma server is filled once too.
        say("indexing the starter knowledge base (first run only)")
        index.ensure_starter()
    router = load_router(settings, embedder)
    generator = load_generator(settings, say) if with_model else None
    return AnswerEngine(router=router, retriever=Retriever(index), generator=generator,
                        config=EngineConfig.from_settings(settings))


def load_router(settings: Any, embedder: Any):
    from bot.engine.router import Router

    return Router.load(embedder, settings.home / "router")


def load_generator(settings: Any, say: Progress = lambda message: None):
    """The configured backend: the local transformers model (default) or an OpenAI-compatible server."""
    if settings.model.backend == "openai":
        from training.inference.openai_backend import OpenAIGenerator

        return OpenAIGenerator.from_settings(settings.model)

    models = settings.paths.models
    if settings.model.base == EMBEDDED:
        ensure_base_model(models)
    elif settings.model.base in PACKAGED:
        say(f"preparing the base model {PACKAGED[settings.model.base].hub_id} (converted once, first run only)")
        ensure_converted(PACKAGED[settings.model.base], models)
    registry = AdapterRegistry(settings.paths.adapters)
    registry.ensure_default(base=settings.model.base)
    say("loading the model")
    return load_local(settings.model, registry, models)
