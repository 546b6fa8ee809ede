"""Retrieval quality on LogChunks: hit@5 for dense only, BM25 only and hybrid, side by side.

Each log's hand-labelled chunk is indexed as an incident. Each log is then used as a query: its
excerpt (retrieval.logs.excerpt.extract) is searched for, its own chunk is left out of the results,
and a hit is a top-5 result from the same repository with the same `structural_category`. Only
queries that can hit (another log of the same repository and category exists) are counted.

    nice -n 10 .venv/bin/python bench/retrieval_quality.py [--limit N] [--sweep]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATASETS = REPO.parent / "shared" / "datasets"


def load_rows(path: Path, limit: int | None) -> list[dict]:
    rows = [json.loads(line) for line in path.open()]
    return rows[:limit] if limit else rows


def build_index(rows: list[dict], chroma_dir: Path):
    from retrieval.index import KnowledgeIndex
    from retrieval.settings import RetrievalSettings
    from retrieval.sources import Document, incident_chunk

    index = KnowledgeIndex.open(RetrievalSettings(collection="logchunks"), chroma_dir)
    docs = []
    for row in rows:
        chunk = incident_chunk(row["chunk"], "", title=None,
                               uri=f"logchunks:{row['id']}")
        chunk.meta.update({"repo": row["repository"], "category": int(row["structural_category"]),
                           "log_id": str(row["id"])})
        docs.append(Document(key=f"logchunks#{row['id']}", chunks=[chunk]))
    started = time.perf_counter()
    index.ingest_documents("logchunks", docs)
    return index, time.perf_counter() - started


def queries(rows: list[dict], datasets: Path) -> list[tuple[dict, str]]:
    """(row, excerpt text) for each log that has a same-repository, same-category sibling."""
    from retrieval.logs.excerpt import extract

    groups = Counter((r["repository"], r["structural_category"]) for r in rows)
    out = []
    for row in rows:
        if groups[(row["repository"], row["structural_category"])] < 2:
            continue
        text = extract(datasets / row["log"], max_lines=30).text()
        if text.strip():
            out.append((row, text))
    return out


def rankings(index, qs: list[tuple[dict, str]], n: int) -> list[tuple[dict, list[str], list[str]]]:
    """Each half's ranking (chunk ids, best first) per query, computed once: the query is embedded
    once and both halves run exactly as Retriever.search runs them."""
    from retrieval.search import Retriever

    retriever, lexical = Retriever(index), index.lexical()
    out = []
    for row, text in qs:
        vector = index.embedder.embed_one(text)
        dense = list(retriever._dense(vector, n, None, None, len(lexical.ids)))
        lex = [cid for cid, _ in lexical.search(text, n, None)]
        out.append((row, dense, lex))
    return out


def hit_at_5(ranked: list[tuple[dict, list[str], list[str]]], meta: dict, pick) -> float:
    hits = 0
    for row, dense, lex in ranked:
        results = [cid for cid in pick(dense, lex) if meta[cid]["log_id"] != str(row["id"])][:5]
        hits += any(meta[cid]["repo"] == row["repository"]
                    and int(meta[cid]["category"]) == int(row["structural_category"]) for cid in results)
    return hits / len(ranked) if ranked else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N logs (smoke run)")
    parser.add_argument("--sweep", action="store_true", help="also try other RRF settings on the whole set")
    args = parser.parse_args(argv)

    from retrieval.search import (CANDIDATES_PER_RESULT, DENSE_WEIGHT, LEXICAL_WEIGHT, MIN_CANDIDATES, RRF_K,
                                  rrf_fuse)

    import torch

    torch.set_num_threads(1)  # single excerpt queries: two intra-op threads spin badly on a shared box
    rows = load_rows(args.datasets / "logchunks.jsonl", args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        index, ingest_s = build_index(rows, Path(tmp) / "chroma")
        started = time.perf_counter()
        qs = queries(rows, args.datasets)
        excerpt_s = time.perf_counter() - started
        print(f"logs indexed: {len(rows)} ({ingest_s:.1f}s), answerable queries: {len(qs)} "
              f"(excerpts {excerpt_s:.1f}s)")
        started = time.perf_counter()
        ranked = rankings(index, qs, n=max(MIN_CANDIDATES, 5 * CANDIDATES_PER_RESULT))
        per_query = (time.perf_counter() - started) / max(1, len(qs)) * 1000
        got = index.collection.get(include=["metadatas"])
        meta = dict(zip(got["ids"], got["metadatas"]))
        results = {
            "dense": hit_at_5(ranked, meta, lambda d, l: d),
            "lexical": hit_at_5(ranked, meta, lambda d, l: l),
            "hybrid": hit_at_5(ranked, meta, lambda d, l: list(rrf_fuse(d, l))),
        }
        print(f"both halves: {per_query:.0f} ms/query (30-line excerpt queries)")
        print(f"  {'dense only':12s} hit@5 = {results['dense']:.3f}")
        print(f"  {'BM25 only':12s} hit@5 = {results['lexical']:.3f}")
        print(f"  {'hybrid (RRF)':12s} hit@5 = {results['hybrid']:.3f}   "
              f"(rrf_k={RRF_K}, dense_weight={DENSE_WEIGHT}, lexical_weight={LEXICAL_WEIGHT})")
        if args.sweep:
            for rrf_k in (5, 10, 30, 60, 100):
                line = []
                for lw in (0.5, 0.75, 1.0, 1.5, 2.0):
                    score = hit_at_5(ranked, meta, lambda d, l: list(rrf_fuse(d, l, rrf_k, 1.0, lw)))
                    line.append(f"lw={lw:.2f}:{score:.3f}")
                print(f"  sweep rrf_k={rrf_k:3d}  " + "  ".join(line))
        beats = results["hybrid"] > max(results["dense"], results["lexical"])
        print(f"hybrid beats both: {'yes' if beats else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
