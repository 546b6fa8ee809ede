"""The BM25 half of hybrid search, with a tokenizer that keeps error codes and package names whole.

Error strings (`ERR_PNPM_OUTDATED_LOCKFILE`), exit codes (`137`) and package names (`node-gyp`,
`@types/node`) match lexically far better than semantically, so compound tokens are kept as they
are *and* split into their parts. The index is rebuilt from Chroma's stored documents and saved
next to the Chroma directory, stamped with the collection's generation so a stale copy is ignored.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:[.\-/@:+#][A-Za-z0-9_]+)*")
_PARTS = re.compile(r"[A-Za-z0-9]+")
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have how i if in into is it its my no not of on or "
    "our so that the their then there these this to was we were what when where which while who why "
    "will with you your do does did can should would could".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens: each compound token, then its alphanumeric parts (no stopwords)."""
    out: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        token = match.group(0)
        if token not in STOPWORDS and (len(token) > 1 or token.isdigit()):
            out.append(token)
        parts = _PARTS.findall(token)
        if len(parts) > 1 or (parts and parts[0] != token):
            out.extend(p for p in parts if p not in STOPWORDS and (len(p) > 1 or p.isdigit()))
    return out


@dataclass
class ScopeMasks:
    """Which rows each channel/team may see; rows visible to everyone are `public`."""

    public: np.ndarray
    channels: dict[str, np.ndarray] = field(default_factory=dict)
    teams: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_metadatas(cls, metas: list[dict]) -> "ScopeMasks":
        public = np.array([bool(m.get("public", True)) for m in metas], dtype=bool)
        channels: dict[str, list[int]] = {}
        teams: dict[str, list[int]] = {}
        for i, m in enumerate(metas):
            for c in filter(None, str(m.get("scope_channels", "")).split(",")):
                channels.setdefault(c, []).append(i)
            for t in filter(None, str(m.get("scope_teams", "")).split(",")):
                teams.setdefault(t, []).append(i)
        as_arr = lambda d: {k: np.array(v, dtype=np.int64) for k, v in d.items()}  # noqa: E731
        return cls(public, as_arr(channels), as_arr(teams))

    def mask(self, channel: str | None, team: str | None) -> np.ndarray:
        allowed = self.public.copy()
        if channel and channel in self.channels:
            allowed[self.channels[channel]] = True
        if team and team in self.teams:
            allowed[self.teams[team]] = True
        return allowed

    @property
    def all_public(self) -> bool:
        return bool(self.public.all())


class LexicalIndex:
    """BM25 over every chunk of one collection, rows aligned with `ids`."""

    def __init__(self, ids: list[str], retriever, scopes: ScopeMasks):
        self.ids = ids
        self.retriever = retriever
        self.scopes = scopes
        self.row_of = {cid: i for i, cid in enumerate(ids)}

    @classmethod
    def build(cls, ids: list[str], texts: list[str], metas: list[dict]) -> "LexicalIndex":
        import bm25s

        retriever = None
        if ids:
            retriever = bm25s.BM25()
            tokens = [tokenize(t) or ["\x00empty"] for t in texts]
            retriever.index(tokens, show_progress=False)
        return cls(list(ids), retriever, ScopeMasks.from_metadatas(metas))

    @classmethod
    def from_collection(cls, collection, page: int = 10000) -> "LexicalIndex":
        """Build from every document a Chroma collection stores (the source of truth)."""
        ids, texts, metas = [], [], []
        while True:
            got = collection.get(include=["documents", "metadatas"], limit=page, offset=len(ids))
            ids += got["ids"]
            texts += got["documents"]
            metas += got["metadatas"]
            if len(got["ids"]) < page:
                return cls.build(ids, texts, metas)

    def search(self, query: str, n: int, allowed: np.ndarray | None) -> list[tuple[str, float]]:
        """Top `n` (chunk id, BM25 score) among allowed rows, best first; only positive scores."""
        tokens = tokenize(query)
        if self.retriever is None or not tokens:
            return []
        vocab = self.retriever.vocab_dict
        tokens = [t for t in tokens if t in vocab]
        if not tokens:
            return []
        n = min(n, len(self.ids))
        docs, scores = self.retriever.retrieve(
            [tokens], k=n, show_progress=False, n_threads=1,
            weight_mask=None if allowed is None else allowed.astype(np.float32),
        )
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """BM25 idf of each token; a token the corpus lacks gets the highest possible idf."""
        n = len(self.ids)
        top = float(np.log(1 + (n + 0.5) / 0.5))
        if self.retriever is None:
            return {t: top for t in tokens}
        vocab = self.retriever.vocab_dict
        indptr = self.retriever.scores["indptr"]
        out = {}
        for t in tokens:
            tid = vocab.get(t)
            df = 0 if tid is None else int(indptr[tid + 1] - indptr[tid])
            out[t] = float(np.log(1 + (n - df + 0.5) / (df + 0.5))) if df else top
        return out

    # -- persistence ---------------------------------------------------------------------------
    def save(self, directory: Path, stamp: dict) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self.retriever is not None:
            self.retriever.save(str(directory / "bm25"), show_progress=False)
        scopes = {
            "public": np.flatnonzero(~self.scopes.public).tolist(),  # private rows, usually few
            "channels": {k: v.tolist() for k, v in self.scopes.channels.items()},
            "teams": {k: v.tolist() for k, v in self.scopes.teams.items()},
        }
        tmp = directory / "state.json.tmp"
        tmp.write_text(json.dumps({"stamp": stamp, "ids": self.ids, "scopes": scopes}))
        tmp.replace(directory / "state.json")  # the stamp is written last: a torn save is stale

    @classmethod
    def load(cls, directory: Path, stamp: dict) -> "LexicalIndex | None":
        """The saved index if its stamp matches, else None (then it is rebuilt)."""
        try:
            state = json.loads((directory / "state.json").read_text())
            if state.get("stamp") != stamp:
                return None
            import bm25s

            ids = state["ids"]
            retriever = bm25s.BM25.load(str(directory / "bm25"), show_progress=False) if ids else None
            public = np.ones(len(ids), dtype=bool)
            public[np.array(state["scopes"]["public"], dtype=np.int64)] = False
            scopes = ScopeMasks(
                public,
                {k: np.array(v, dtype=np.int64) for k, v in state["scopes"]["channels"].items()},
                {k: np.array(v, dtype=np.int64) for k, v in state["scopes"]["teams"].items()},
            )
            return cls(ids, retriever, scopes)
        except (OSError, ValueError, KeyError):
            return None


def coverage(query_tokens: list[str], text: str, idf: dict[str, float]) -> float:
    """IDF-weighted share of the query's distinct terms that appear in `text` (0..1)."""
    terms = set(query_tokens)
    if not terms:
        return 0.0
    present = set(tokenize(text))
    total = sum(idf.get(t, 1.0) for t in terms)
    return sum(idf.get(t, 1.0) for t in terms if t in present) / total if total else 0.0
