"""What the answer engine sees of a language model: messages in, text out."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ModelInfo:
    base: str
    adapter: str | None  # adapter version, None when the base model answers alone


@dataclass
class Generation:
    text: str
    prompt_tokens: int = 0
    new_tokens: int = 0
    seconds: float = 0.0
    model: ModelInfo | None = None
    meta: dict = field(default_factory=dict)


@runtime_checkable
class Generator(Protocol):
    """A chat model. Implementations: training.inference.generate.LocalGenerator (transformers + peft),
    training.inference.openai_backend.OpenAIGenerator (any OpenAI-compatible server)."""

    def generate(
        self, messages: list[dict], *, max_new_tokens: int | None = None, json_schema: dict | None = None,
        cause_only: bool = False,
    ) -> Generation: ...
    # cause_only: the caller already has the fix (a runbook's stated one) and will not use the
    # model's; a generator may stop after the root cause ("Fix:" then stays empty) or ignore it.

    def info(self) -> ModelInfo: ...

    def count_tokens(self, text: str) -> int: ...
