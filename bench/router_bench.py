"""Held-out accuracy of the route classifier, per class, against simple baselines.

    nice -n 10 .venv/bin/python bench/router_bench.py [--misses] [--cv 5]

Baselines: "has a log -> hybrid, else rag" (the obvious rule) and the hand features alone.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine import router as R  # noqa: E402


def rule_baseline(examples: list[dict]) -> float:
    def guess(ex):
        if ex.get("log") or R.route_features(ex["text"], None, False)["log_like_lines"] > 0:
            return "hybrid"
        return "finetune" if R.route_features(ex["text"], None, False)["format_words"] > 0 else "rag"
    return sum(guess(ex) == ex["route"] for ex in examples) / len(examples)


class _NoEmbedding:
    name = "none"

    def embed(self, texts):
        import numpy as np
        return np.zeros((len(texts), 1), dtype=np.float32)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--misses", action="store_true", help="list held-out misses")
    ap.add_argument("--cv", type=int, default=0, help="also report k-fold CV on the train split")
    args = ap.parse_args(argv)
    from retrieval.embed import load_embedder

    examples = R.load_examples()
    heldout = [ex for ex in examples if ex["split"] == "heldout"]
    t0 = time.perf_counter()
    embedder = load_embedder()
    t1 = time.perf_counter()
    router = R.Router(R.train(examples, embedder), embedder)
    t2 = time.perf_counter()
    report = router.evaluate(heldout)
    t3 = time.perf_counter()
    feats_only = R.Router(R.train(examples, _NoEmbedding()), _NoEmbedding()).evaluate(heldout)
    print(f"examples: {len(examples)} (train {len(examples) - len(heldout)}, heldout {len(heldout)})")
    print(f"{'method':<28}{'overall':>8}" + "".join(f"{r:>10}" for r in R.ROUTES))
    print(f"{'rule: log->hybrid, fmt->ft':<28}{rule_baseline(heldout):>8.3f}")
    for name, rep in (("hand features only (LR)", feats_only), ("MiniLM + features (LR)", report)):
        print(f"{name:<28}{rep['accuracy']:>8.3f}"
              + "".join(f"{rep['per_class'][r]['accuracy']:>10.3f}" for r in R.ROUTES))
    print(f"load embedder {t1 - t0:.2f}s, train {t2 - t1:.2f}s, "
          f"classify {1000 * (t3 - t2) / len(heldout):.1f} ms/example (batched)")
    if args.cv:
        from sklearn.model_selection import StratifiedKFold
        train_rows = [ex for ex in examples if ex["split"] == "train"]
        accs = []
        folds = StratifiedKFold(args.cv, shuffle=True, random_state=0)
        for tr, te in folds.split(train_rows, [ex["route"] for ex in train_rows]):
            sub = [dict(train_rows[i], split="train") for i in tr]
            accs.append(R.Router(R.train(sub, embedder), embedder).evaluate([train_rows[i] for i in te])["accuracy"])
        print(f"{args.cv}-fold CV on train: mean {sum(accs) / len(accs):.3f} min {min(accs):.3f}")
    if args.misses:
        for miss in report["misses"]:
            print("  miss:", miss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
