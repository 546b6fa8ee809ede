"""Generation speed of the local model on CPU: tokens/s with the model loaded once.

Baseline: torch's default thread count; ours: LocalGenerator's thread choice (one thread for small
models, which on a shared 2-core host decodes several times faster). Target: >= 50 tokens/s with
the embedded model + default adapter.

    .venv/bin/python bench/generate_bench.py [--n 20] [--base embedded]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def run(generator, prompts, max_new: int) -> tuple[float, int]:
    tokens, started = 0, time.time()
    for messages in prompts:
        tokens += generator.generate(messages, max_new_tokens=max_new).new_tokens
    return tokens / (time.time() - started), tokens


def main() -> None:
    import torch

    from training.eval.evaluate import default_heldout, load_examples
    from training.finetune.features import prompt_budget_chars
    from training.inference.generate import LocalGenerator
    from training.inference.prompt import build_messages
    from training.registry import AdapterRegistry

    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--base", default="embedded")
    parser.add_argument("--max-new", type=int, default=120)
    args = parser.parse_args()
    home = Path(os.environ.get("CIBOT_HOME") or tempfile.mkdtemp(prefix="cibot-bench-"))
    registry = AdapterRegistry(home / "adapters")
    version = registry.ensure_default()
    examples = load_examples(default_heldout(), args.n)
    budget = prompt_budget_chars(1024)
    prompts = [build_messages(excerpt=ex.input, context=ex.context, fmt=ex.fmt, budget_chars=budget) for ex in examples]
    default_threads = torch.get_num_threads()
    gen = LocalGenerator(args.base, registry.path(version) if version else None, version, models_dir=home / "models")
    gen.generate(prompts[0], max_new_tokens=4)  # warm-up
    ours_threads = torch.get_num_threads()
    ours, n_ours = run(gen, prompts, args.max_new)
    torch.set_num_threads(default_threads)
    base, n_base = run(gen, prompts, args.max_new)
    print(f"model: {args.base} + adapter {version}; {len(prompts)} held-out prompts, greedy, <= {args.max_new} new tokens")
    print(f"baseline (torch default, {default_threads} threads): {base:7.1f} tokens/s ({n_base} tokens)")
    print(f"ours     (LocalGenerator, {ours_threads} thread(s)): {ours:7.1f} tokens/s ({n_ours} tokens)   target >= 50")


if __name__ == "__main__":
    main()
