"""Small hand-written fakes for the answer engine's parts (in the style of simonw/llm's MockModel)."""
from __future__ import annotations

from retrieval.types import Passage
from training.inference.types import Generation, ModelInfo


class FakeGenerator:
    """Answers with queued texts, in order; records every prompt it was given."""

    def __init__(self, base: str = "fake-base", adapter: str | None = "v-test"):
        self.base, self.adapter = base, adapter
        self.queue: list[str] = []
        self.calls: list[dict] = []

    def enqueue(self, texts: list[str]) -> "FakeGenerator":
        self.queue.extend(texts)
        return self

    def generate(self, messages, *, max_new_tokens=None, json_schema=None, cause_only=False) -> Generation:
        self.calls.append({"messages": messages, "json_schema": json_schema, "max_new_tokens": max_new_tokens,
                           "cause_only": cause_only})
        text = self.queue.pop(0) if self.queue else "I am not sure."
        text, meta = text if isinstance(text, tuple) else (text, {})  # (text, meta) to script meta
        return Generation(text=text, prompt_tokens=self.count_tokens(str(messages)), new_tokens=len(text.split()),
                          model=self.info(), meta=meta)

    def info(self) -> ModelInfo:
        return ModelInfo(self.base, self.adapter)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    @property
    def prompt(self) -> str:
        """The user message of the last call."""
        return self.calls[-1]["messages"][-1]["content"]


class FakeRetriever:
    """Returns fixed passages for every query; records the queries and scopes."""

    def __init__(self, passages: list[Passage] | None = None):
        self.passages = list(passages or [])
        self.queries: list[tuple[str, object]] = []

    def search(self, query, k=5, scope=None):
        self.queries.append((query, scope))
        return self.passages[:k]


def passage(text: str, score: float = 0.8, title: str = "Runbook", uri: str = "runbooks/x.md") -> Passage:
    return Passage(text=text, score=score, title=title, uri=uri, chunk_id=uri)
