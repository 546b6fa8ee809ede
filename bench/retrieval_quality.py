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


def hit_at_5(retriever, qs: list[tuple[dict, str]]) -> float:
    hits = 0
    for row, text in qs:
        results = [p for p in retriever.search(text, k=6) if p.metadata.get("log_id") != str(row["id"])][:5]
        hits += any(p.metadata.get("repo") == row["repository"]
                    and int(p.metadata.get("category", -1)) == int(row["structural_category"]) for p in results)
    return hits / len(qs) if qs else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N logs (smoke run)")
    parser.add_argument("--sweep", action="store_true", help="also try other RRF settings on the whole set")
    args = parser.parse_args(argv)

    from retrieval.search import Retriever

    rows = load_rows(args.datasets / "logchunks.jsonl", args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        index, ingest_s = build_index(rows, Path(tmp) / "chroma")
        started = time.perf_counter()
        qs = queries(rows, args.datasets)
        excerpt_s = time.perf_counter() - started
        print(f"logs indexed: {len(rows)} ({ingest_s:.1f}s), answerable queries: {len(qs)} "
              f"(excerpts {excerpt_s:.1f}s)")
        results = {}
        for mode in ("dense", "lexical", "hybrid"):
            started = time.perf_counter()
            results[mode] = hit_at_5(Retriever(index, mode=mode), qs)
            print(f"  {mode:8s} hit@5 = {results[mode]:.3f}  ({(time.perf_counter() - started) / max(1, len(qs)) * 1000:.0f} ms/query)")
        if args.sweep:
            for rrf_k in (10, 30, 60):
                for lexical_weight in (0.5, 1.0, 1.5):
                    score = hit_at_5(Retriever(index, rrf_k=rrf_k, lexical_weight=lexical_weight), qs)
                    print(f"  sweep rrf_k={rrf_k:3d} lexical_weight={lexical_weight:.1f}: hit@5 = {score:.3f}")
        beats = results["hybrid"] > max(results["dense"], results["lexical"])
        print(f"hybrid beats both: {'yes' if beats else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
