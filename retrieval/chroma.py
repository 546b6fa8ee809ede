"""Connecting to Chroma, embedded on disk or a server, with errors that say what to do; and the
check that refuses a collection built with another embedding model."""
from __future__ import annotations

from pathlib import Path

from retrieval.errors import IndexUnavailable
from retrieval.settings import RetrievalSettings


def rebuild_hint(directory: Path | str) -> str:
    return f"rebuild it: rm -rf {directory} && cibot ingest PATH ..."


def connect(settings: RetrievalSettings, chroma_dir: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.mode == "http":
        scheme = "https" if settings.chroma_ssl else "http"
        location = f"{scheme}://{settings.chroma_host}:{settings.chroma_port}"
        headers = {}
        if settings.chroma_auth_token is not None:
            headers["Authorization"] = f"Bearer {settings.chroma_auth_token.get_secret_value()}"
        try:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                         ssl=settings.chroma_ssl, headers=headers, settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:
            raise IndexUnavailable(
                f"cannot reach the Chroma server at {location}: {type(exc).__name__}: {exc}",
                hint="start it (chroma run --path DIR --port PORT) or set retrieval.mode = \"embedded\"",
            ) from exc
        return client, location
    location = "embedded"
    try:
        chroma_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(chroma_dir), settings=chroma_settings)
    except Exception as exc:
        raise unavailable(settings, location, chroma_dir, exc) from exc
    return client, location


def unavailable(settings: RetrievalSettings, location: str, chroma_dir: Path, exc: Exception):
    if location != "embedded":
        return IndexUnavailable(f"the Chroma server at {location} failed: {type(exc).__name__}: {exc}")
    return IndexUnavailable(
        f"the knowledge index at {chroma_dir} is corrupt, locked or unreadable: {type(exc).__name__}: {exc}",
        hint=rebuild_hint(chroma_dir),
    )


def check_model(coll, embedder, name: str, location: str, settings, chroma_dir: Path) -> None:
    meta = coll.metadata or {}
    model, dim = meta.get("embed_model"), meta.get("embed_dim")
    if model is None:
        return
    if model != embedder.name or int(dim or 0) != embedder.dim:
        where = chroma_dir if location == "embedded" else f"{location} (collection {name})"
        raise IndexUnavailable(
            f"the knowledge index at {where} was built with embedding model {model} (dim {dim}), "
            f"but the configured model is {embedder.name} (dim {embedder.dim}); refusing to mix them",
            hint=(f"re-ingest with the new model: rm -rf {chroma_dir} && cibot ingest PATH ..."
                  if location == "embedded" else
                  "re-ingest into another collection: cibot ingest PATH --collection NEW_NAME"),
        )
