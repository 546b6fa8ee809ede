"""The knowledge index: llama-index over a Chroma collection, ingested incrementally.

Every chunk's id is a hash of its content, source, scope and embedding model, so re-ingesting an
unchanged file touches nothing, a changed file swaps exactly its changed chunks, and a scope change
re-labels the chunks (a runbook made private never keeps public copies). The collection records the
embedding model that built it; opening it with another model is refused rather than mixing vectors.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.chroma import check_model, connect, unavailable
from retrieval.errors import ConfigError, InputError
from retrieval.settings import RetrievalSettings
from retrieval.sources import (
    Chunk,
    Document,
    display_name,
    incident_chunk,
    iter_files,
    load_file,
)
from retrieval.types import Scope

KNOWLEDGE_DIR = Path(__file__).resolve().parent / "knowledge"
# Bump when the way files are cut into chunks changes, so the bundled starter set is re-ingested.
CHUNKING_VERSION = 2
BUILTIN = "builtin:"
FEEDBACK = "feedback:"
PAGE = 2000
_COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]")
# How often a long-lived process checks whether another process changed the collection.
STALE_CHECK_S = 2.0


@dataclass
class IngestSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.chunks_added or self.chunks_removed)


def scope_labels(scope: Scope | Sequence[str] | str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(channels, teams) a source is limited to. Strings "team:T1" name teams, others channels."""
    if scope is None:
        return (), ()
    if isinstance(scope, Scope):
        return tuple(filter(None, [scope.channel])), tuple(filter(None, [scope.team]))
    items = [scope] if isinstance(scope, str) else list(scope)
    channels = tuple(sorted({s for s in items if s and not s.startswith("team:")}))
    teams = tuple(sorted({s[5:] for s in items if s.startswith("team:") and s[5:]}))
    return channels, teams


def _safe_key(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-]", "_", label)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class KnowledgeIndex:
    """One Chroma collection plus its BM25 twin. Build with `open`; share one per process."""

    def __init__(self, client, collection, embedder, settings: RetrievalSettings, chroma_dir: Path,
                 location: str):
        from llama_index.vector_stores.chroma import ChromaVectorStore

        from retrieval.embed import chroma_embedding_function

        self.client = client
        self.collection = collection
        self.embedder = embedder
        self.settings = settings
        self.chroma_dir = Path(chroma_dir)
        self.location = location
        self.store = ChromaVectorStore(chroma_collection=collection)
        self._embedding_function = chroma_embedding_function(embedder)
        self._lock = threading.RLock()
        self._lexical = None
        self._generation = str((collection.metadata or {}).get("generation", ""))
        self._checked_at = time.monotonic()

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, settings: RetrievalSettings, chroma_dir: Path, embedder=None,
             collection: str | None = None) -> "KnowledgeIndex":
        from retrieval.embed import chroma_embedding_function, load_embedder

        name = collection or settings.collection
        if not _COLLECTION_NAME.fullmatch(name):
            raise ConfigError(f"invalid collection name {name!r}",
                              hint="use 3-512 characters from a-z A-Z 0-9 . _ -, starting and ending alphanumeric")
        embedder = embedder or load_embedder(settings.embed_model)
        client, location = connect(settings, Path(chroma_dir))
        try:
            coll = client.get_or_create_collection(
                name=name,
                embedding_function=chroma_embedding_function(embedder),
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embed_model": embedder.name, "embed_dim": embedder.dim, "generation": ""},
            )
        except Exception as exc:
            raise unavailable(settings, location, chroma_dir, exc) from exc
        check_model(coll, embedder, name, location, settings, chroma_dir)
        return cls(client, coll, embedder, settings, Path(chroma_dir), location)

    def count(self) -> int:
        return self.collection.count()

    # -- ingest ----------------------------------------------------------------------------------
    def ingest(self, paths: Iterable[Path | str], scope: Scope | Sequence[str] | None = None,
               prune: bool = False, collection: str | None = None,
               progress: Callable[[int], None] | None = None) -> IngestSummary:
        """Bring the index in line with `paths`. Unreadable files are reported in `errors` and
        keep their old chunks; with `prune`, sources under `paths` that no longer exist go."""
        if collection and collection != self.collection.name:
            other = KnowledgeIndex.open(self.settings, self.chroma_dir, self.embedder, collection)
            return other.ingest(paths, scope, prune, None, progress)
        paths = [Path(p) for p in paths]
        summary, seen = IngestSummary(), set()
        with self._lock:
            for path, error in iter_files(paths):
                key = self.source_key(path)
                if error == "no such file or directory" and prune:
                    seen.discard(key)  # a deleted file named explicitly: prune removes it below
                elif error:
                    summary.errors.append((str(path), error))
                else:
                    shown = key if key.startswith(BUILTIN) else display_name(path, paths)
                    self._ingest_file(path, key, scope, summary, shown)
                    seen.add(key)
                if progress:
                    progress(1)
            if prune:
                self._prune([self.source_key(p) for p in paths], seen, summary)
            if summary.changed:
                self._bump_generation()
        return summary

    def planned_files(self, paths: Iterable[Path | str]) -> int:
        """How many files `ingest(paths)` will look at (for a progress bar)."""
        return sum(1 for _ in iter_files(paths))

    def _ingest_file(self, path: Path, key: str, scope, summary: IngestSummary, shown: str | None = None) -> None:
        """`key` (the absolute path) identifies the source for updates and pruning; answers show
        `shown`, the name relative to the ingested folder."""
        try:
            report = load_file(path, uri=shown or key, chunk_chars=self.settings.chunk_chars)
        except InputError as exc:
            summary.errors.append((str(path), exc.message))
            return
        summary.errors.extend(report.errors)
        self._sync_source(key, report.documents, scope_labels(scope), summary)

    def source_key(self, path: Path) -> str:
        """Bundled knowledge is keyed relative to the package, so reinstalling moves nothing."""
        resolved = Path(os.path.abspath(path))
        try:
            rel = resolved.relative_to(KNOWLEDGE_DIR)
        except ValueError:
            return str(resolved)
        return BUILTIN + ("" if str(rel) == "." else rel.as_posix())

    def _sync_source(self, source: str, documents: list[Document], scope: tuple, summary: IngestSummary,
                     ) -> None:
        got = self.collection.get(where={"source": source}, include=["metadatas"])
        before: dict[str, set[str]] = {}
        for cid, meta in zip(got["ids"], got["metadatas"]):
            before.setdefault(str(meta.get("doc", "")), set()).add(cid)
        existing_ids = set(got["ids"])
        rows = []
        for doc in documents:
            channels = tuple(sorted(set(scope[0]) | set(doc.channels)))
            doc_rows = [self._row(source, doc.key, i, c, channels, scope[1]) for i, c in enumerate(doc.chunks)]
            old = before.pop(doc.key, None)
            if old is None:
                summary.added += 1
            elif old == {cid for cid, _, _ in doc_rows}:
                summary.unchanged += 1
            else:
                summary.updated += 1
            rows.extend(doc_rows)
        summary.removed += len(before)  # documents gone from a file that is still there
        new_ids = {cid for cid, _, _ in rows}
        fresh = [r for r in rows if r[0] not in existing_ids]
        stale = sorted(existing_ids - new_ids)
        self._write(fresh)
        if stale:
            self.collection.delete(ids=stale)
        summary.chunks_added += len(fresh)
        summary.chunks_removed += len(stale)

    def _row(self, source: str, doc: str, position: int, chunk: Chunk, channels: tuple, teams: tuple):
        heading = " > ".join(chunk.heading_path)
        uri = chunk.uri + (f"#{_slug(chunk.heading_path[-1])}" if chunk.kind == "runbook" and
                           chunk.heading_path and "#" not in chunk.uri else "")
        meta = {
            "source": source, "doc": doc, "position": position, "title": chunk.title, "uri": uri,
            "heading": heading, "kind": chunk.kind, "public": not (channels or teams),
            "scope_channels": "," + ",".join(channels) + "," if channels else "",
            "scope_teams": "," + ",".join(teams) + "," if teams else "",
            **{f"ch_{_safe_key(c)}": True for c in channels},
            **{f"team_{_safe_key(t)}": True for t in teams},
            **{k: v for k, v in chunk.meta.items() if isinstance(v, (str, int, float, bool))},
        }
        digest = hashlib.sha256("\x00".join(
            [self.embedder.name, source, doc, str(position), chunk.text, repr(sorted(meta.items()))]
        ).encode("utf-8")).hexdigest()[:32]
        return digest, chunk.text, meta

    def _write(self, rows: list[tuple[str, str, dict]], vectors=None) -> None:
        """Embed (unless `vectors` are given) and add rows through llama-index's Chroma store."""
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        for start in range(0, len(rows), 256):
            batch = rows[start:start + 256]
            vecs = vectors[start:start + 256] if vectors is not None else \
                self.embedder.embed([text for _, text, _ in batch])
            nodes = [
                TextNode(id_=cid, text=text, metadata=meta, embedding=[float(x) for x in vec],
                         relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=meta["doc"])})
                for (cid, text, meta), vec in zip(batch, vecs)
            ]
            self.store.add(nodes)

    def _prune(self, roots: list[str], seen: set[str], summary: IngestSummary) -> None:
        prefixes = [r if r.endswith(":") else r + "/" for r in roots]
        gone: dict[str, set[str]] = {}
        for cid, meta in self._iter_metadatas():
            src = str(meta.get("source", ""))
            if src not in seen and (src in roots or any(src.startswith(p) for p in prefixes)):
                gone.setdefault(src, set()).add(str(meta.get("doc", "")))
                gone.setdefault("\x00ids", set()).add(cid)
        ids = sorted(gone.pop("\x00ids", set()))
        if ids:
            self.collection.delete(ids=ids)
        summary.removed += sum(len(docs) for docs in gone.values())
        summary.chunks_removed += len(ids)

    def _iter_metadatas(self):
        offset = 0
        while True:
            got = self.collection.get(include=["metadatas"], limit=PAGE, offset=offset)
            yield from zip(got["ids"], got["metadatas"])
            if len(got["ids"]) < PAGE:
                return
            offset += PAGE

    def ingest_documents(self, source: str, documents: list[Document],
                         scope: Scope | Sequence[str] | None = None) -> IngestSummary:
        """Replace everything stored under `source` with `documents` (chunks already made)."""
        summary = IngestSummary()
        with self._lock:
            self._sync_source(source, documents, scope_labels(scope), summary)
            if summary.changed:
                self._bump_generation()
        return summary

    # -- the feedback loop -----------------------------------------------------------------------
    def add_incident(self, incident_id: str, text_in: str, text_out: str, scope: Scope | None = None,
                     title: str | None = None, uri: str | None = None, meta: dict | None = None,
                     kind: str = "incident") -> IngestSummary:
        """Index a resolved incident (a thumbs-up answer) at once; the same id replaces it."""
        chunk = incident_chunk(text_in, text_out, title, uri or f"{FEEDBACK}{incident_id}", kind=kind)
        chunk.meta.update(meta or {})
        source = FEEDBACK + incident_id
        return self.ingest_documents(source, [Document(key=source, chunks=[chunk])], scope)

    def feedback_incidents(self) -> list[str]:
        """Ids of the incidents `add_incident` put in (thumbs-up answers)."""
        return sorted({str(meta.get("source", ""))[len(FEEDBACK):] for _, meta in self._iter_metadatas()
                       if str(meta.get("source", "")).startswith(FEEDBACK)})

    def remove(self, incident_id: str) -> int:
        """Drop an incident added by `add_incident` (thumbs-down, retraction). Returns chunks removed."""
        with self._lock:
            ids = self.collection.get(where={"source": FEEDBACK + incident_id}, include=[])["ids"]
            if ids:
                self.collection.delete(ids=ids)
                self._bump_generation()
            return len(ids)

    def ensure_starter(self, knowledge_dir: Path | None = None,
                       progress: Callable[[int], None] | None = None) -> IngestSummary | None:
        """Ingest the bundled runbooks and incidents unless this exact version already is."""
        knowledge_dir = knowledge_dir or KNOWLEDGE_DIR
        files = [p for p, err in iter_files([knowledge_dir]) if err is None]
        digest = hashlib.sha256(f"chunking {CHUNKING_VERSION}".encode())  # new chunking: re-ingest
        for path in files:
            digest.update(str(path.relative_to(knowledge_dir)).encode() + b"\x00" + path.read_bytes())
        stamp = digest.hexdigest()[:16]
        if self._metadata().get("starter") == stamp:
            return None
        summary = self.ingest([knowledge_dir], prune=True, progress=progress)
        self._set_metadata(starter=stamp)
        return summary

    # -- generation: lets other processes notice a change ---------------------------------------
    def _metadata(self) -> dict:
        fresh = self.client.get_collection(self.collection.name, embedding_function=self._embedding_function)
        return dict(fresh.metadata or {})

    def _set_metadata(self, **updates) -> None:
        meta = self._metadata()
        meta.update(updates)
        self.collection.modify(metadata=meta)

    def _bump_generation(self) -> None:
        # A fresh random token rather than a counter: two processes bumping at once can never
        # both write the same value, so no reader mistakes one change for the other.
        self._generation = uuid.uuid4().hex[:16]
        self._set_metadata(generation=self._generation)
        self._lexical = None

    def lexical(self):
        """The BM25 index matching the collection now (loaded, or rebuilt and saved)."""
        from retrieval.lexical import LexicalIndex

        with self._lock:
            now = time.monotonic()
            if now - self._checked_at > STALE_CHECK_S:
                self._checked_at = now
                generation = str(self._metadata().get("generation", ""))
                if generation != self._generation:
                    self._generation, self._lexical = generation, None
            if self._lexical is None:
                stamp = {"collection": str(self.collection.id), "generation": self._generation,
                         "count": self.collection.count()}
                where = self.chroma_dir / "bm25" / _safe_key(f"{self.location}-{self.collection.name}")
                lexical = LexicalIndex.load(where, stamp)
                if lexical is None:
                    lexical = LexicalIndex.from_collection(self.collection)
                    try:
                        lexical.save(where, stamp)
                    except OSError:
                        pass  # a read-only home still searches; it just rebuilds next time
                self._lexical = lexical
            return self._lexical
