"""Per-token cost of each serving form on this CPU: reading a prompt and writing one token.

    nice .venv/bin/python bench/serving_forms_bench.py [--base smollm2] [--prompt-tokens 530] [--steps 30]

The default base with the shipped adapter merged (training/inference/serving.py), timed as
  merged  float32 weights (the previous default)
  half    float16 weights for decoding, bfloat16 (or float32 without native bf16) for the prompt
  int8    dynamic int8 quantisation (opt-in; it costs naming accuracy, README)
and, for reference, whole-model float16 and bfloat16 weights in every step. Prompt: --prompt-tokens
random token ids read at once; decode: --steps single-token steps on that cache. Also the largest
logit difference from float32 and how often the next-token choice agrees, over the prompt.
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def timed(model, ids, steps: int):
    import torch

    with torch.inference_mode():
        model(ids[:, :16], use_cache=True)  # warm-up
        started = time.perf_counter()
        out = model(ids, use_cache=True)
        prefill = time.perf_counter() - started
        cache, token = out.past_key_values, ids[:, -1:]
        started = time.perf_counter()
        for _ in range(steps):
            cache = model(token, past_key_values=cache, use_cache=True).past_key_values
        decode = (time.perf_counter() - started) / steps
    return prefill, decode, out.logits[0].float()


def main(argv=None) -> int:
    import torch

    from training.base.model import load_causal_lm
    from training.inference.serving import serving_copy
    from training.registry import DEFAULT_ADAPTER

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="smollm2")
    ap.add_argument("--models", type=Path, help="where converted models live (default: a temp dir)")
    ap.add_argument("--prompt-tokens", type=int, default=530, help="the engine's prompts run ~530 tokens")
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args(argv)
    models = args.models or Path(tempfile.mkdtemp(prefix="cibot-forms-"))
    base, _, _ = load_causal_lm(args.base, models)
    torch.manual_seed(0)
    ids = torch.randint(100, 40000, (1, args.prompt_tokens))
    forms = {form: serving_copy(base, DEFAULT_ADAPTER, form) for form in ("merged", "half", "int8")}
    forms["float16 everywhere"] = copy.deepcopy(forms["merged"]).to(torch.float16)
    forms["bfloat16 everywhere"] = copy.deepcopy(forms["merged"]).to(torch.bfloat16)
    print(f"{args.base} + shipped adapter, {torch.get_num_threads()} threads, prompt {args.prompt_tokens} tokens")
    print(f"{'form':<22}{'prompt s':>10}{'ms/token':>10}{'max |dlogit|':>14}{'same next token':>17}")
    reference = None
    for name, model in forms.items():
        try:
            prefill, decode, logits = timed(model.eval(), ids, args.steps)
        except RuntimeError as exc:  # a CPU kernel missing for a dtype
            print(f"{name:<22}  failed: {exc}")
            continue
        reference = logits if reference is None else reference
        diff = (logits - reference).abs().max().item()
        agree = (logits.argmax(-1) == reference.argmax(-1)).float().mean().item()
        print(f"{name:<22}{prefill:>10.2f}{decode * 1000:>10.1f}{diff:>14.3f}{agree:>17.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
