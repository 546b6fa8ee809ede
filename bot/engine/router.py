"""Decide how to answer a request: `finetune` (format/style work), `rag` (team knowledge) or
`hybrid` (explain a failure with retrieved runbooks in the prompt).

A multinomial logistic regression over the MiniLM sentence embedding already loaded for retrieval,
plus a handful of cheap, readable features (is a log attached, how log-like is the text, format
words...). It is trained on `bot/data/routes.jsonl` at first use and cached under CIBOT_HOME, keyed
by the data, the embedding model and the feature version, so it is deterministic and never stale.

Overrides, most specific first: a leading keyword in the message ("rag: ...", "json: ...",
"explain: ..."), then a route forced by the caller (request.route), then the channel's configured
route (settings.slack.channel_routes), then the classifier.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

ROUTES = ("finetune", "rag", "hybrid")
ROUTES_FILE = Path(__file__).resolve().parents[1] / "data" / "routes.jsonl"
# Weights trained on ROUTES_FILE, shipped so a fresh install skips training; used only while their
# key still matches the data and the embedding model (`cibot dev router-weights` rewrites them).
SHIPPED_WEIGHTS = ROUTES_FILE.with_name("router_weights.json")
FEATURE_VERSION = "3"
# A regularisation strength picked on the training split by cross-validation, then fixed.
C = 4.0
# The hand features carry a lot of signal in few dimensions; scaling them up lets the regulariser
# treat them on a par with the 384 embedding dimensions.
FEATURE_SCALE = 2.0

KEYWORDS = {
    "rag": "rag", "docs": "rag", "kb": "rag", "knowledge": "rag", "policy": "rag",
    "json": "finetune", "format": "finetune", "style": "finetune", "rewrite": "finetune",
    "finetune": "finetune", "ft": "finetune", "summarise": "finetune", "summarize": "finetune",
    "explain": "hybrid", "why": "hybrid", "debug": "hybrid", "hybrid": "hybrid", "diagnose": "hybrid",
}
_LEADING = re.compile(r"^\s*([A-Za-z]+)\s*:\s*")

_LOG_LINE = re.compile(
    r"(?i)(^\s*(\[?\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d|##\[|\[(error|info|warn\w*)\]|npm err!|e\s{2,}|"
    r"at [\w.$]+\(|>\s*task\s|traceback|\$ |\+ |step \d+/\d+))|"
    r"(error[:\[]|exception|failed|failure|fatal:|exit(ed)? (with )?(code|status)|"
    r"\.(py|java|js|ts|go|rs|rb|kt):\d+)"
)
_FORMAT_WORDS = re.compile(
    r"(?i)\b(json|ya?ml|toml|csv|markdown|table|bullet\w*|list|changelog|release note\w*|rewrite|"
    r"re-?word|rephrase|paraphrase|tone|voice|style|shorter|shorten|concise|condense|tl;?dr|"
    r"summari[sz]e|summary|format\w*|template|commit message|translate|emoji|plain text|"
    r"polish|friendlier|formal|one.line|headline|title|checklist|numbered|html|email)\b"
)
_KNOWLEDGE_WORDS = re.compile(
    r"(?i)\b(policy|polic(ies)|who|owns?|owner\w*|process|procedure|runbook|docs?|documentation|"
    r"allowed|rule\w*|guideline\w*|approv\w+|rotate|access|permission\w*|on.?call|escalat\w+|"
    r"convention|where|how (do|should|can) (i|we)|what.s the|retention|sla)\b"
)
_FAILURE_WORDS = re.compile(
    r"(?i)\b(fail\w*|error\w*|broke\w*|broken|red|crash\w*|exception|exit code|timed? ?out|"
    r"killed|segfault|why|debug|denied|refused|not found)\b"
)
_HISTORY_WORDS = re.compile(r"(?i)\b(that|this|it|previous|last|above|earlier|same|again|your)\b")

FEATURES = (
    "has_log", "log_like_lines", "format_words", "knowledge_words", "failure_words",
    "refers_back", "question_mark", "has_history",
)


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class RouteDecision:
    route: str
    confidence: float
    scores: dict[str, float]
    features: dict[str, float]
    source: str  # classifier | keyword | request | channel
    question: str  # the question with any leading route keyword removed
    format: str | None = None  # "json" when the keyword asked for it
    contributions: dict[str, float] = field(default_factory=dict)

    def debug(self) -> dict:
        return {
            "route": self.route, "source": self.source, "confidence": round(self.confidence, 3),
            "scores": {k: round(v, 3) for k, v in self.scores.items()},
            "features": {k: round(v, 3) for k, v in self.features.items()},
            "contributions": {k: round(v, 3) for k, v in self.contributions.items()},
        }


def route_features(question: str, log_text: str | None, has_history: bool) -> dict[str, float]:
    """Cheap, explainable signals. Values lie in 0..1."""
    lines = [ln for ln in (question or "").splitlines() if ln.strip()]
    log_like = sum(1 for ln in lines if _LOG_LINE.search(ln))
    words = question or ""
    return {
        "has_log": 1.0 if (log_text or "").strip() else 0.0,
        "log_like_lines": min(log_like, 4) / 4,
        "format_words": min(len(_FORMAT_WORDS.findall(words)), 3) / 3,
        "knowledge_words": min(len(_KNOWLEDGE_WORDS.findall(words)), 3) / 3,
        "failure_words": min(len(_FAILURE_WORDS.findall(words)), 3) / 3,
        "refers_back": min(len(_HISTORY_WORDS.findall(words)), 2) / 2,
        "question_mark": 1.0 if "?" in words else 0.0,
        "has_history": 1.0 if has_history else 0.0,
    }


def embed_text(question: str, log_text: str | None) -> str:
    """What the sentence embedding sees: the question, else the head of the log."""
    question = (question or "").strip()
    if question:
        return question[:500]
    head = [ln.strip() for ln in (log_text or "").splitlines() if ln.strip()][:3]
    return "\n".join(head)[:500] or "(empty)"


def split_keyword(text: str) -> tuple[str | None, str | None, str]:
    """(route, format, rest) for a leading "keyword:"; (None, None, text) when there is none."""
    match = _LEADING.match(text or "")
    if not match or match.group(1).lower() not in KEYWORDS:
        return None, None, text
    word = match.group(1).lower()
    return KEYWORDS[word], ("json" if word == "json" else None), text[match.end():]


@dataclass
class RouterWeights:
    coef: np.ndarray  # (classes, dims)
    intercept: np.ndarray  # (classes,)
    classes: tuple[str, ...]
    key: str

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, coef=self.coef, intercept=self.intercept, classes=np.array(self.classes),
                 key=np.array(self.key))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "RouterWeights":
        with np.load(path, allow_pickle=False) as data:
            return cls(data["coef"], data["intercept"], tuple(str(c) for c in data["classes"]),
                       str(data["key"]))

    def to_json(self) -> dict:
        return {"key": self.key, "classes": list(self.classes), "intercept": self.intercept.tolist(),
                "coef": [[float(f"{v:.6g}") for v in row] for row in self.coef]}

    @classmethod
    def from_json(cls, doc: dict) -> "RouterWeights":
        return cls(np.asarray(doc["coef"], dtype=np.float32), np.asarray(doc["intercept"], dtype=np.float32),
                   tuple(doc["classes"]), str(doc["key"]))


def load_examples(path: Path | None = None) -> list[dict]:
    """The labelled route set shipped with the package (or another JSONL file)."""
    text = Path(path or ROUTES_FILE).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _matrix(embedder: Embedder, rows: list[tuple[str, str | None, bool]]) -> np.ndarray:
    vectors = embedder.embed([embed_text(q, log) for q, log, _ in rows])
    feats = np.array([[route_features(q, log, h)[f] for f in FEATURES] for q, log, h in rows],
                     dtype=np.float32).reshape(len(rows), len(FEATURES))
    return np.hstack([vectors, feats * FEATURE_SCALE])


def _example_row(ex: dict) -> tuple[str, str | None, bool]:
    return ex.get("text") or "", ex.get("log"), bool(ex.get("history"))


def train(examples: list[dict], embedder: Embedder, key: str = "") -> RouterWeights:
    """Fit the classifier on the examples' train split. Deterministic (lbfgs, no shuffling)."""
    from sklearn.linear_model import LogisticRegression

    train_rows = [ex for ex in examples if ex.get("split", "train") == "train"]
    x = _matrix(embedder, [_example_row(ex) for ex in train_rows])
    y = [ex["route"] for ex in train_rows]
    model = LogisticRegression(C=C, max_iter=2000)
    model.fit(x, y)
    return RouterWeights(model.coef_.astype(np.float32), model.intercept_.astype(np.float32),
                         tuple(str(c) for c in model.classes_), key)


def data_key(examples_text: str, embedder_name: str) -> str:
    digest = hashlib.sha256()
    for part in (examples_text, embedder_name, FEATURE_VERSION, repr(C), repr(FEATURE_SCALE)):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


class Router:
    def __init__(self, weights: RouterWeights, embedder: Embedder):
        self.weights = weights
        self.embedder = embedder

    @classmethod
    def load(cls, embedder: Embedder, cache_dir: Path | None = None) -> "Router":
        """Reuse cached weights for this data + model, else train (about a second) and cache."""
        text = ROUTES_FILE.read_text(encoding="utf-8")
        key = data_key(text, getattr(embedder, "name", "?"))
        shipped = _shipped(key)
        if shipped is not None:
            return cls(shipped, embedder)
        path = Path(cache_dir) / f"router-{key}.npz" if cache_dir else None
        if path is not None and path.is_file():
            try:
                return cls(RouterWeights.load(path), embedder)
            except (OSError, ValueError, KeyError):
                pass  # a torn or foreign file: retrain below and overwrite it
        weights = train(load_examples(), embedder, key)
        if path is not None:
            weights.save(path)
        return cls(weights, embedder)

    def classify(self, question: str, log_text: str | None = None, has_history: bool = False) -> RouteDecision:
        """The classifier's own decision, with class probabilities and why."""
        feats = route_features(question, log_text, has_history)
        x = _matrix(self.embedder, [(question, log_text, has_history)])[0]
        logits = self.weights.coef @ x + self.weights.intercept
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        scores = {c: float(p) for c, p in zip(self.weights.classes, probs)}
        best = max(scores, key=scores.get)
        i = self.weights.classes.index(best)
        n_emb = x.shape[0] - len(FEATURES)
        contributions = {"embedding": float(self.weights.coef[i, :n_emb] @ x[:n_emb])}
        for j, name in enumerate(FEATURES):
            contributions[name] = float(self.weights.coef[i, n_emb + j] * x[n_emb + j])
        return RouteDecision(best, scores[best], scores, feats, "classifier", question,
                             contributions=contributions)

    def decide(
        self,
        question: str,
        *,
        log_text: str | None = None,
        has_history: bool = False,
        forced: str | None = None,
        channel: str | None = None,
        channel_routes: dict[str, str] | None = None,
    ) -> RouteDecision:
        """Apply overrides (keyword > forced > channel), else classify."""
        keyword_route, fmt, rest = split_keyword(question or "")
        if keyword_route is not None:
            return _override(keyword_route, "keyword", rest, log_text, has_history, fmt)
        if forced in ROUTES:
            return _override(forced, "request", question, log_text, has_history)
        if channel and channel_routes and channel_routes.get(channel) in ROUTES:
            return _override(channel_routes[channel], "channel", question, log_text, has_history)
        return self.classify(question, log_text, has_history)

    def evaluate(self, examples: list[dict]) -> dict[str, Any]:
        """Accuracy overall and per class (recall of each label), plus the misses."""
        rows = [_example_row(ex) for ex in examples]
        x = _matrix(self.embedder, rows)
        logits = x @ self.weights.coef.T + self.weights.intercept
        predicted = [self.weights.classes[i] for i in logits.argmax(axis=1)]
        per_class: dict[str, dict[str, float]] = {}
        for route in ROUTES:
            idx = [i for i, ex in enumerate(examples) if ex["route"] == route]
            hits = sum(predicted[i] == route for i in idx)
            per_class[route] = {"n": len(idx), "accuracy": hits / len(idx) if idx else 0.0}
        correct = sum(p == ex["route"] for p, ex in zip(predicted, examples))
        misses = [{"text": ex.get("text"), "log": bool(ex.get("log")), "label": ex["route"], "predicted": p}
                  for p, ex in zip(predicted, examples) if p != ex["route"]]
        return {"n": len(examples), "accuracy": correct / max(len(examples), 1),
                "per_class": per_class, "misses": misses}


def _shipped(key: str) -> RouterWeights | None:
    try:
        doc = json.loads(SHIPPED_WEIGHTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return RouterWeights.from_json(doc) if doc.get("key") == key else None


def _override(route: str, source: str, question: str, log_text: str | None, has_history: bool,
              fmt: str | None = None) -> RouteDecision:
    scores = {r: (1.0 if r == route else 0.0) for r in ROUTES}
    return RouteDecision(route, 1.0, scores, route_features(question, log_text, has_history), source,
                         question, format=fmt)


def write_shipped_weights() -> str:
    """Retrain the router on routes.jsonl and ship the weights (`cibot dev router-weights`, after
    editing routes.jsonl). Returns the data key they are stored under."""
    from retrieval.embed import load_embedder

    embedder = load_embedder()
    key = data_key(ROUTES_FILE.read_text(encoding="utf-8"), embedder.name)
    SHIPPED_WEIGHTS.write_text(json.dumps(train(load_examples(), embedder, key).to_json()) + "\n")
    return key
