"""Real LogChunks logs of repositories an adapter never trained on: today's fixture model, the
SmolLM2 base alone and SmolLM2 + its adapter, side by side in one run.

    nice .venv/bin/python bench/reallog_bench.py [--datasets ../shared/datasets] [--fold 0]
        [--limit 0] [--systems fixture,smollm2,smollm2+adapter] [--quantize auto] [--out FILE]

For every LogChunks log whose repository falls in --fold (training/reallogs.fold_of; the shipped
adapter trains with `held_out_fold = 0`, so fold 0 is unseen), the engine's excerpt goes into the
engine's prompt, the model answers (guided decoding, as served), and:
  cause hit   the model's own root cause names one of the labelled chunk's key identifiers
              (training.eval.evaluate.chunk_ids), before the engine adds the key line and names
  served hit  the root cause as served (bot.engine.finish: checks, key line and names) names one
  format      the answer parses as "Root Cause: ... Fix: ..."
  fix kept    the model's fix passed the grounding check unchanged
Also generation seconds per answer (p50/p95) and tokens/s. No retrieval: the knowledge index is
not needed, and the adapter is judged on the log alone.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

BUDGET_TOKENS = 768  # model.context_tokens' default: the engine's prompt budget
QUESTION = "Why did this CI job fail?"
SYSTEMS = {  # name -> (base, adapter asset or None)
    "fixture": ("embedded", "fixture-adapter"),
    "smollm2": ("smollm2", None),
    "smollm2+adapter": ("smollm2", "adapter"),
}


def held_out_logs(datasets: Path, fold: int, limit: int) -> list[dict]:
    from training.eval.evaluate import chunk_ids
    from training.finetune.reallogs import fold_of, read_rows

    rows = [r for r in read_rows(datasets, "logchunks") if fold_of(r["repository"]) == fold]
    rows = [dict(r, ids=chunk_ids(r.get("chunk") or "")) for r in rows]
    rows = [r for r in rows if r["ids"]]
    return rows[:limit] if limit else rows


def generator_for(system: str, home: Path, quantize: str, adapter: str | None):
    from training.inference.generate import LocalGenerator
    from training.registry import AdapterRegistry

    base, asset = SYSTEMS[system]
    adapter_dir, version = None, None
    if adapter:
        adapter_dir, version = Path(adapter), Path(adapter).name
    elif asset:
        registry = AdapterRegistry(home / system / "adapters")
        version = registry.ensure_default(REPO / "training" / "assets" / asset, base=base)
        adapter_dir = registry.path(version)
    return LocalGenerator(base, adapter_dir, version, models_dir=home / "models", max_new_tokens=160,
                          quantize=quantize)


def score(system: str, gen, rows: list[dict], datasets: Path, question: str | None = QUESTION) -> dict:
    from bot.engine.budget import fit
    from bot.engine.finish import finish
    from retrieval.logs.excerpt import extract
    from training.inference.prompt import build_messages, parse_answer

    hits = {"cause": 0, "served": 0, "format": 0, "fix_kept": 0}
    seconds, tokens, samples = [], 0, []
    for i, row in enumerate(rows):
        excerpt = extract(datasets / row["log"], max_lines=30)
        started = time.perf_counter()
        prompt = fit(build_messages, gen.count_tokens, budget_tokens=BUDGET_TOKENS, excerpt=excerpt.text(),
                     question=question, passages=[], fmt="text")  # as the engine fits it
        out = gen.generate(prompt.messages)
        seconds.append(time.perf_counter() - started)
        tokens += out.new_tokens
        parsed = parse_answer(out.text)
        done = finish(parsed, excerpt, [], out.meta.get("mean_logprob"), -0.9 if system == "fixture" else None)
        low = [w.lower() for w in row["ids"]]
        cause = parsed[0].lower() if parsed else ""
        hits["cause"] += any(w in cause for w in low)
        hits["served"] += any(w in done.cause.lower() for w in low)
        hits["format"] += parsed is not None
        hits["fix_kept"] += parsed is not None and done.problem is None and done.fix_note is None
        samples.append({"log": row["log"], "ids": row["ids"], "answer": out.text, "served_cause": done.cause,
                        "served_fix": done.fix, "note": done.problem or done.fix_note})
        if (i + 1) % 20 == 0:
            print(f"  {system}: {i + 1}/{len(rows)}", file=sys.stderr, flush=True)
    n = max(len(rows), 1)
    return {"n": len(rows), **{k: round(v / n, 3) for k, v in hits.items()},
            "p50_s": round(statistics.median(seconds), 2) if seconds else None,
            "p95_s": round(sorted(seconds)[int(0.95 * (len(seconds) - 1))], 2) if seconds else None,
            "tokens_per_s": round(tokens / max(sum(seconds), 1e-9), 1), "tokens_per_answer": round(tokens / n, 1),
            "samples": samples}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path, default=None)
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0, help="logs to score (0: every log of the fold)")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--adapter", help="an adapter folder to score as smollm2+adapter instead of the shipped one")
    parser.add_argument("--quantize", default="auto",
                        help="model.quantize forms, comma-separated, scored side by side (e.g. merged,half)")
    parser.add_argument("--caps", default="48/32",
                        help="cause/fix token caps of text answers, comma-separated, scored side by side "
                             "(e.g. 0/0,48/32: uncapped as before, and the default)")
    parser.add_argument("--home", type=Path, help="where converted models live (default: a temp dir)")
    parser.add_argument("--out", type=Path, help="write every answer and score as JSON here")
    parser.add_argument("--question", default=QUESTION, help="the user's words in the prompt ('' for none)")
    args = parser.parse_args(argv)
    from training.finetune.reallogs import datasets_dir

    args.datasets = datasets_dir(args.datasets)
    home = args.home or Path(tempfile.mkdtemp(prefix="cibot-reallog-"))
    rows = held_out_logs(args.datasets, args.fold, args.limit)
    repos = sorted({r["repository"] for r in rows})
    print(f"LogChunks fold {args.fold}: {len(rows)} logs from {len(repos)} repositories ({', '.join(repos)})")
    results = {}
    forms = args.quantize.split(",")
    for system in args.systems.split(","):
        adapter = args.adapter if system == "smollm2+adapter" else None
        for form in forms:
            gen = generator_for(system, home, form, adapter)
            for caps in args.caps.split(","):
                gen.cause_tokens, gen.fix_tokens = (int(c) for c in caps.split("/"))
                name = system if len(forms) == 1 else f"{system}/{gen.form}"
                name += f" {caps}" if "," in args.caps else ""
                results[name] = score(system, gen, rows, args.datasets, args.question or None)
            del gen
    print(f"\n{'system':<30}{'n':>5}{'cause hit':>11}{'served hit':>12}{'format':>8}{'fix kept':>10}"
          f"{'p50 s':>8}{'p95 s':>8}{'tok/s':>8}{'tokens':>8}")
    for system, r in results.items():
        print(f"{system:<30}{r['n']:>5}{r['cause']:>11.3f}{r['served']:>12.3f}{r['format']:>8.2f}{r['fix_kept']:>10.2f}"
              f"{r['p50_s']:>8}{r['p95_s']:>8}{r['tokens_per_s']:>8}{r['tokens_per_answer']:>8}")
    print("targets (issue 22): cause hit >= 0.45, served hit >= 0.80, format 1.00")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
