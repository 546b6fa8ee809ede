"""LoRA training speed: the embedded base model, 2,000 corpus examples, 1 epoch, on this CPU.

Baseline: the target (600 s on 2 cores); ours: measured seconds and tokens/s. Writes nothing
outside a temporary CIBOT_HOME.

    .venv/bin/python bench/train_bench.py [--examples 2000] [--epochs 1]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    from training.finetune.lora import LoraConfig
    from training.finetune.lora import main as train

    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--base", default="embedded")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="cibot-train-bench-"))
    rows = (REPO / "training" / "data" / "train.jsonl").read_text().splitlines()[: args.examples]
    data = home / "train.jsonl"
    data.write_text("\n".join(rows) + "\n")
    cfg = LoraConfig(data=[str(data)], home=str(home), base=args.base, epochs=args.epochs, eval_limit=0,
                     threads=args.threads)
    result = train(cfg, on_step=lambda done, total, loss: print(f"\r{done}/{total} loss {loss:.3f}", end="", file=sys.stderr))
    print(file=sys.stderr)
    print(f"LoRA on {result.train_examples} examples, {args.epochs} epoch(s), base {args.base}")
    print(f"target: < 600 s on 2 CPU cores")
    print(f"ours:   {result.seconds:.0f} s total, {result.tokens_per_s:.0f} tokens/s, final loss {result.eval.get('train_loss')}")
    print(json.dumps(result.to_json()))


if __name__ == "__main__":
    main()
