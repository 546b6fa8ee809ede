"""Fit a request into the model's prompt budget, counted in the model's own tokens.

training.inference.prompt.build_messages decides the prompt's shape; this decides how much goes in. The log
comes first (it is what the answer must explain), then the CI config section, then retrieved
passages, which give way first.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from retrieval.types import Passage

# Tokens kept free for the chat template's special tokens and role headers.
TEMPLATE_SLACK = 24


@dataclass
class Prompt:
    messages: list[dict]
    used: list[Passage]  # passages whose text actually made it into the prompt
    tokens: int


def message_tokens(messages: list[dict], count_tokens: Callable[[str], int]) -> int:
    return sum(count_tokens(m.get("content", "")) for m in messages) + TEMPLATE_SLACK


def passages_in(messages: list[dict], passages: Sequence[Passage]) -> list[Passage]:
    """The passages whose opening words appear in the prompt (build_messages may drop or cut some)."""
    user = " ".join(" ".join(m["content"].split()) for m in messages if m.get("role") == "user")
    used = []
    for p in passages:
        opening = " ".join(p.text.split())[:60]
        if opening and opening in user:
            used.append(p)
    return used


def fit(
    build: Callable[..., list[dict]],
    count_tokens: Callable[[str], int],
    *,
    budget_tokens: int,
    excerpt: str,
    question: str | None,
    passages: Sequence[Passage],
    fmt: str,
    ci_config: str | None = None,
) -> Prompt:
    """The largest prompt that fits: drop passages from the weakest, then shrink by characters."""
    kept = list(passages)
    while True:
        messages = build(excerpt=excerpt, question=question, context=kept, fmt=fmt, ci_config=ci_config)
        tokens = message_tokens(messages, count_tokens)
        if tokens <= budget_tokens or not kept:
            break
        kept.pop()
    budget_chars = None
    for _ in range(4):  # chars-per-token varies by text; a few proportional cuts converge
        if tokens <= budget_tokens:
            break
        user_chars = sum(len(m["content"]) for m in messages if m.get("role") == "user")
        ratio = budget_tokens / max(tokens, 1)
        budget_chars = max(int(user_chars * ratio * 0.95), 200)
        messages = build(excerpt=excerpt, question=question, context=kept, fmt=fmt, ci_config=ci_config,
                         budget_chars=budget_chars)
        tokens = message_tokens(messages, count_tokens)
    return Prompt(messages, passages_in(messages, kept), tokens)
