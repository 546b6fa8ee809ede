"""Answer the blind-judgement logs with the full engine (excerpt, route, retrieval, model, checks)
of the code in a given checkout, for bench/judge/pack.py.

    .venv/bin/python bench/judge/answers.py --code . --home /tmp/judge-home --out /tmp/new.json \
        [--logs 40] [--fold 0] [--datasets ../shared/datasets]
    git worktree add /tmp/old <commit> && .venv/bin/python bench/judge/answers.py --code /tmp/old ...

The logs: every len/N-th LogChunks log (with labelled key identifiers) of repositories in --fold
(fold 0: the shipped adapter never trained on them). Each answer keeps the model's own root cause
(its raw text) beside what is served.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--code", type=Path, required=True, help="the checkout whose engine answers")
    ap.add_argument("--home", type=Path, required=True, help="CIBOT_HOME (the index is built there once)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--logs", type=int, default=40)
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--datasets", type=Path, default=None)
    args = ap.parse_args()
    code = args.code.resolve()
    sys.path.insert(0, str(code))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["CIBOT_HOME"] = str(args.home)

    from bot.engine.answer import AnswerRequest
    from bot.runtime import build_engine
    from bot.settings import load_settings
    from training.eval.evaluate import chunk_ids
    from training.finetune.reallogs import datasets_dir, fold_of, read_rows

    import bot
    assert Path(bot.__file__).resolve().is_relative_to(code), f"bot imported from {bot.__file__}, not {code}"
    datasets = (args.datasets or datasets_dir()).resolve()
    rows = [r for r in read_rows(datasets, "logchunks")
            if fold_of(r["repository"]) == args.fold and chunk_ids(r.get("chunk") or "")]
    count = min(args.logs, len(rows))
    picked = [rows[round(i * len(rows) / count)] for i in range(count)]  # distinct: count <= len(rows)

    engine = build_engine(load_settings(), with_model=True, progress=lambda m: print("..", m, flush=True))
    generate, last = engine.generator.generate, {}

    def recorded(*a, **k):
        out = generate(*a, **k)
        last["text"] = out.text
        return out

    engine.generator.generate = recorded
    answers = []
    for i, row in enumerate(picked):
        last.clear()
        started = time.time()
        answer = engine.answer(AnswerRequest("Why did this CI job fail?", log=datasets / row["log"]))
        raw = last.get("text", "")
        answers.append({
            "id": i, "log": str(datasets / row["log"]),
            "labelled_failure": "\n".join((row.get("chunk") or "").splitlines()[:20]),
            "own_root_cause": raw.split("\n")[0].removeprefix("Root Cause:").strip() if raw else "",
            "served_root_cause": answer.root_cause, "served_fix": answer.fix, "note": answer.note,
            "sources": [s.title for s in answer.sources], "seconds": round(time.time() - started, 2)})
        print(f"{i + 1}/{len(picked)} {answers[-1]['seconds']} s", flush=True)
    args.out.write_text(json.dumps(answers, indent=1))


if __name__ == "__main__":
    main()
