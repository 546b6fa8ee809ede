"""Hybrid search: dense vectors (Chroma via llama-index) and BM25, fused by reciprocal rank.

Ranking is reciprocal rank fusion, which needs no score calibration between the two halves. RRF
scores say nothing about whether anything matched at all, though, so each passage also gets an
absolute relevance in 0..1 (`Passage.score`): a blend of its cosine similarity to the query and the
IDF-weighted share of query terms it contains. `relevant(passages, min_score)` uses that to tell
"nothing relevant" from "best of bad matches".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from retrieval.errors import UsageError
from retrieval.index import _safe_key
from retrieval.lexical import coverage, tokenize
from retrieval.types import Passage, Scope

# RRF constant and per-retriever weights; tuned on the whole logchunks evaluation
# (bench/retrieval_quality.py), not on single queries.
RRF_K = 60
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
# Each half fetches this many candidates per requested result before fusion.
CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 20
# Relevance blend: cosine similarity of MiniLM is ~0.1 for unrelated text and 0.5+ for related.
DENSE_SHARE = 0.6


@dataclass
class Retriever:
    """Searches one KnowledgeIndex. `mode` is "hybrid", "dense" or "lexical" (the bench compares)."""

    index: object
    mode: str = "hybrid"
    rrf_k: int = RRF_K
    dense_weight: float = DENSE_WEIGHT
    lexical_weight: float = LEXICAL_WEIGHT

    def search(self, query: str, k: int = 5, scope: Scope | None = None) -> list[Passage]:
        if not query or not query.strip():
            raise UsageError("empty query", hint="give the error text or a question to search for")
        if k < 1:
            raise UsageError(f"k must be at least 1, got {k}")
        n = max(MIN_CANDIDATES, k * CANDIDATES_PER_RESULT)
        lexical = self.index.lexical()
        allowed = None
        if scope is not None or not lexical.scopes.all_public:
            scope = scope or Scope()
            allowed = lexical.scopes.mask(scope.channel, scope.team)
        # Embedded once: the dense half searches with it and every passage is scored with it.
        vector = self.index.embedder.embed_one(query)
        dense = self._dense(vector, n, scope, allowed, len(lexical.ids)) if self.mode != "lexical" else {}
        lex = lexical.search(query, n, allowed) if self.mode != "dense" else []
        return self._fuse(query, vector, dense, lex, k, lexical)

    # -- the two halves --------------------------------------------------------------------------
    def _dense(self, query_vector, n, scope, allowed, total: int) -> dict[str, tuple[float, object]]:
        """chunk id -> (cosine similarity, node), best first, restricted to what `scope` may see."""
        from llama_index.core.vector_stores.types import VectorStoreQuery

        vector = query_vector.tolist()
        # `total` comes from the BM25 twin (free) rather than a Chroma round trip per search.
        total = max(1, total)
        filtered = allowed is not None and not bool(allowed.all())
        # Most chunks are public: over-fetch without a filter and drop what the scope may not see;
        # only when too few survive ask Chroma for a filtered search.
        fetch = min(total, n * 2 if filtered else n)
        result = self.index.store.query(VectorStoreQuery(query_embedding=vector, similarity_top_k=fetch))
        hits = self._keep_visible(result, scope or Scope())
        if filtered and len(hits) < min(n, int(allowed.sum())):
            result = self.index.store.query(
                VectorStoreQuery(query_embedding=vector, similarity_top_k=min(total, n),
                                 filters=_scope_filters(scope)))
            hits = self._keep_visible(result, scope)
        return dict(list(hits.items())[:n])

    @staticmethod
    def _keep_visible(result, scope: Scope) -> dict[str, tuple[float, object]]:
        hits = {}
        for node, sim in zip(result.nodes, result.similarities or []):
            # Checked on the chunk's own metadata, so a chunk newer than the BM25 twin is safe too.
            if not visible(node.metadata, scope):
                continue
            # llama-index reports exp(-distance); with cosine space distance = 1 - cos.
            hits[node.node_id] = (1.0 + math.log(max(sim, 1e-12)), node)
        return hits

    # -- fusion ----------------------------------------------------------------------------------
    def _fuse(self, query, vector, dense, lex, k, lexical) -> list[Passage]:
        fused = rrf_fuse(list(dense), [cid for cid, _ in lex], self.rrf_k, self.dense_weight,
                         self.lexical_weight)
        top = list(fused)[:k]
        if not top:
            return []
        records = self._fetch([c for c in top if c not in dense])
        q_tokens = tokenize(query)
        idf = lexical.idf(sorted(set(q_tokens)))
        lex_rank = {cid: r for r, (cid, _) in enumerate(lex, 1)}
        passages = []
        for cid in top:
            if cid in dense:
                sim, node = dense[cid]
                text, meta = node.get_content(), dict(node.metadata)
            elif cid in records:
                text, meta, embedding = records[cid]
                sim = float(embedding @ vector)  # a lexical-only hit: score it the same way
            else:
                continue  # deleted since the BM25 twin was built
            cover = coverage(q_tokens, text, idf)
            score = DENSE_SHARE * max(0.0, sim) + (1 - DENSE_SHARE) * cover
            extra = {"rrf": fused[cid], "dense": sim, "lexical_coverage": cover,
                     "dense_rank": list(dense).index(cid) + 1 if cid in dense else None,
                     "lexical_rank": lex_rank.get(cid)}
            passages.append(_passage(cid, text, meta, round(min(1.0, score), 4), extra))
        return passages

    def _fetch(self, ids: list[str]) -> dict[str, tuple[str, dict, object]]:
        import numpy as np

        if not ids:
            return {}
        got = self.index.collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        return {cid: (doc, meta, np.asarray(emb, dtype=np.float32)) for cid, doc, meta, emb
                in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])}


def rrf_fuse(dense: list[str], lexical: list[str], rrf_k: int = RRF_K, dense_weight: float = DENSE_WEIGHT,
             lexical_weight: float = LEXICAL_WEIGHT) -> dict[str, float]:
    """Reciprocal rank fusion of two rankings: id -> fused score, best first."""
    fused: dict[str, float] = {}
    for rank, cid in enumerate(dense, 1):
        fused[cid] = fused.get(cid, 0.0) + dense_weight / (rrf_k + rank)
    for rank, cid in enumerate(lexical, 1):
        fused[cid] = fused.get(cid, 0.0) + lexical_weight / (rrf_k + rank)
    return dict(sorted(fused.items(), key=lambda item: -item[1]))


def visible(meta: dict, scope: Scope) -> bool:
    if meta.get("public", True):
        return True
    return bool((scope.channel and f",{scope.channel}," in str(meta.get("scope_channels", ""))) or
                (scope.team and f",{scope.team}," in str(meta.get("scope_teams", ""))))


def relevant(passages: list[Passage], min_score: float) -> list[Passage]:
    """The passages worth citing; empty means "nothing relevant" rather than "best of bad"."""
    return [p for p in passages if p.score >= min_score]


def _scope_filters(scope: Scope):
    from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters


    filters = [MetadataFilter(key="public", value=True)]
    if scope.channel:
        filters.append(MetadataFilter(key=f"ch_{_safe_key(scope.channel)}", value=True))
    if scope.team:
        filters.append(MetadataFilter(key=f"team_{_safe_key(scope.team)}", value=True))
    return MetadataFilters(filters=filters, condition="or")


def _passage(cid: str, text: str, meta: dict, score: float, extra: dict) -> Passage:
    heading = str(meta.get("heading") or "")
    keep = {k: v for k, v in meta.items() if not k.startswith(("_node", "ch_", "team_"))
            and k not in ("document_id", "doc_id", "ref_doc_id")}
    return Passage(
        text=text, score=score, title=str(meta.get("title", "")), uri=str(meta.get("uri", "")),
        heading_path=tuple(h for h in heading.split(" > ") if h), kind=str(meta.get("kind", "runbook")),
        chunk_id=cid, metadata={**keep, **extra},
    )
