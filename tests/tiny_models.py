"""Tiny real models and data for the training tests: a 2-layer 64-dim Llama and a few dozen
examples, built in seconds. Shared by tests/test_training_*.py."""
from __future__ import annotations

import json
from pathlib import Path

PACKAGES = ["left-pad", "lodash", "requests", "numpy", "serde", "tokio", "rails", "pytest"]


def tiny_rows(n: int = 40) -> list[dict]:
    rows = []
    for i in range(n):
        pkg = PACKAGES[i % len(PACKAGES)]
        if i % 2:
            log = (f"npm ci\nnpm ERR! code E404\nnpm ERR! 404 Not Found - GET https://registry.npmjs.org/{pkg}-{i}\n"
                   f"npm ERR! 404 '{pkg}-{i}@^{i}.0.0' is not in this registry.")
            out = f"Root Cause: {pkg}-{i}@^{i}.0.0 does not exist in the npm registry. Fix: pin {pkg}-{i} to a published version."
        else:
            log = (f"Step {i % 7 + 1}/9 : COPY requirements-{i}.txt .\n"
                   f"COPY failed: file not found in build context: stat requirements-{i}.txt: file does not exist")
            out = f"Root Cause: requirements-{i}.txt is not in the Docker build context. Fix: add requirements-{i}.txt or fix the COPY path."
        rows.append({"input": log, "output": out, "format": "json" if i % 5 == 0 else "text",
                     "key_ids": [f"{pkg}-{i}" if i % 2 else f"requirements-{i}.txt"]})
    return rows


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def build_tiny_base(out: Path) -> Path:
    from training.base.pretrain import BaseRecipe, pretrain

    texts = [r["input"] for r in tiny_rows(40)] * 3
    recipe = BaseRecipe(vocab_size=320, hidden_size=64, layers=2, heads=4, intermediate_size=128,
                        context=512, block=64, batch_size=4, steps=3, warmup=1)
    pretrain(out, recipe, texts=texts)
    return out
