"""Answer quality and latency on the shared real logs: baselines and the engine side by side.

    nice -n 10 .venv/bin/python bench/answer_bench.py [--datasets ../shared/datasets] [--limit 60]
        [--model-limit 40] [--latency 20] [--latency-lines 20000] [--home DIR] [--no-model]
        [--quantize merged,half] [--caps 0/0,48/32]

Quality (LogChunks; CiDiff for evidence too):
  evidence recall  labelled lines found in the answer's evidence, scored by the shared
                   ../shared/eval/score_excerpts.py (budget 30 lines), next to the whole excerpt's
  id hit           the root cause names one of the labelled chunk's key identifiers
                   (training.eval.evaluate.chunk_ids), and mean id recall
Systems: first line (excerpt's first line as root cause), key line (the excerpt's key line alone),
key line + names (our no-model fallback: the key line and the identifiers retrieval.logs.naming ranks first),
retrieval only (the top passage's stated cause), model only (route forced to finetune: no
retrieval), hybrid (the engine as deployed).
Latency: the hybrid engine with the model loaded on logs padded to --latency-lines lines; p50/p95
per stage. The index is built once under --home (default: a temp dir; the first run ingests the
starter knowledge base, which takes minutes on 2 cores).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.engine.answer import AnswerRequest  # noqa: E402


def load_rows(datasets: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (datasets / f"{name}.jsonl").read_text().splitlines() if line.strip()]


def load_scorer(datasets: Path) -> dict:
    path = datasets.parent / "eval" / "score_excerpts.py"
    ns: dict = {"__name__": "score_excerpts"}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    return ns


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def build(home: Path, with_model: bool, quantize: str = "auto"):
    os.environ["CIBOT_HOME"] = str(home)
    from bot.runtime import build_engine
    from bot.settings import load_settings

    started = time.perf_counter()
    settings = load_settings(model={"quantize": quantize})
    engine = build_engine(settings, with_model=with_model, progress=lambda m: print(f"  .. {m}", flush=True))
    print(f"engine built in {time.perf_counter() - started:.1f}s (model: {with_model}, {settings.model.base}, "
          f"model.quantize={quantize})")
    return engine


def top_passage_cause(engine, excerpt) -> str:
    """Retrieval only: the best passage's stated root cause (incidents), else its key section."""
    from bot.engine import fallback
    from retrieval.logs.evidence import pick_evidence

    query = "\n".join(ln.text for ln in pick_evidence(excerpt.lines, "", limit=6))[:1000]
    if not query.strip() or engine.retriever is None:
        return ""
    passages = engine.retriever.search(query, k=1)
    if not passages:
        return ""
    known = fallback.resolution(passages[0])
    return known[0] if known else fallback.key_section(passages[0], query)


def quality(engine, datasets: Path, limit: int, model_limit: int, with_model: bool) -> None:
    from bot.engine.fallback import from_excerpt
    from training.eval.evaluate import chunk_ids

    sc = load_scorer(datasets)
    systems = ["first line", "key line", "key line + names", "retrieval only"] + (
        ["model only", "hybrid"] if with_model else ["engine (no model)"])
    causes: dict[str, dict[str, str]] = {s: {} for s in systems}
    evidence: dict[str, dict[str, list[str]]] = {"whole excerpt": {}, "answer evidence": {}}
    rows = [("logchunks", r) for r in load_rows(datasets, "logchunks")[:limit]]
    rows += [("cidiff", r) for r in load_rows(datasets, "cidiff")[:limit]]
    started = time.perf_counter()
    ran_model: dict[str, int] = {}
    kept = [0, 0]  # LogChunks answers where the engine set the model's cause aside / kept it
    for i, (name, row) in enumerate(rows):
        path = datasets / row["log"]
        pass_log = datasets / row["pass_log"] if row.get("pass_log") else None
        excerpt = engine.excerpt(path, pass_log)
        key = row["log"]
        evidence["whole excerpt"][key] = [ln.text for ln in excerpt.lines]
        causes["first line"][key] = excerpt.lines[0].text if excerpt.lines else ""
        causes["key line"][key] = from_excerpt(excerpt, names=False)[0]
        causes["key line + names"][key] = from_excerpt(excerpt)[0]
        causes["retrieval only"][key] = top_passage_cause(engine, excerpt)
        if with_model:
            if ran_model.get(name, 0) >= model_limit:
                continue
            ran_model[name] = ran_model.get(name, 0) + 1
            causes["model only"][key] = engine.answer(AnswerRequest(log=path, pass_log=pass_log, route="finetune")).root_cause
        answer = engine.answer(AnswerRequest(log=path, pass_log=pass_log, route="hybrid"))
        causes["hybrid" if with_model else "engine (no model)"][key] = answer.root_cause
        if name == "logchunks":
            kept[answer.note is None or "model's answer" not in answer.note] += 1
        evidence["answer evidence"][key] = [ln.text for ln in answer.evidence]
        if (i + 1) % 20 == 0:
            print(f"  {i + 1}/{len(rows)} logs, {time.perf_counter() - started:.0f}s", flush=True)

    print("\nEvidence recall (shared scorer, budget 30):")
    print(f"  {'':<18}{'logchunks':>12}{'cidiff':>10}{'mean lines':>12}")
    for label, ex in evidence.items():
        res = sc["score"](str(datasets), ex, budget=30)
        lc, cd = res.get("logchunks", {}), res.get("cidiff", {})
        print(f"  {label:<18}{lc.get('recall', float('nan')):>12.3f}{cd.get('recall', float('nan')):>10.3f}"
              f"{lc.get('mean_lines', float('nan')):>12.1f}   (n={lc.get('n', 0)}+{cd.get('n', 0)})")

    ids = {r["log"]: chunk_ids(r.get("chunk") or "") for r in load_rows(datasets, "logchunks")[:limit]}
    print("\nRoot cause names the labelled chunk's key identifier (LogChunks):")
    print(f"  {'system':<18}{'n':>5}{'id hit':>9}{'id recall':>11}")
    for system in systems:
        hits, recalls = [], []
        for log, wanted in ids.items():
            if not wanted or log not in causes[system]:
                continue
            low = causes[system][log].lower()
            found = [w for w in wanted if w.lower() in low]
            hits.append(bool(found))
            recalls.append(len(found) / len(wanted))
        if hits:
            print(f"  {system:<18}{len(hits):>5}{sum(hits) / len(hits):>9.3f}{sum(recalls) / len(recalls):>11.3f}")
    print(f"  (the engine kept the model's own cause in {kept[1]} of {sum(kept)} LogChunks answers and set it aside"
          f" for the key line in {kept[0]}; 'key line + names' uses retrieval/logs/naming.py's weights, trained on these"
          f" logs: `cibot dev naming` prints the estimate for unseen repositories)")


def padded_log(raw: str, lines: int) -> str:
    """A real log grown to `lines` lines by repeating its passing head before the failure."""
    body = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    head = [ln for ln in body[: max(len(body) // 2, 1)] if ln.strip()] or ["noise"]
    pad = [head[i % len(head)] for i in range(max(lines - len(body), 0))]
    return "\n".join(pad + body)


def _time_answers(engine, datasets: Path, rows: list[dict], lines: int, tmp: Path, per_stage: dict) -> None:
    for row in rows:
        raw = gzip.open(datasets / row["log"]).read().decode("utf-8", "replace")
        path = tmp / "padded.log"
        path.write_text(padded_log(raw, lines))
        answer = engine.answer(AnswerRequest("why did this fail?", log=path))  # routed by the classifier
        for stage, seconds in answer.timings.items():
            per_stage.setdefault(stage, []).append(seconds)


def latency(engine, datasets: Path, n: int, lines: int, tmp: Path, label: str = "") -> None:
    rows = load_rows(datasets, "logchunks")
    step = max(len(rows) // max(n, 1), 1)
    per_stage: dict[str, list[float]] = {}
    new_tokens: list[int] = []
    generate = engine.generator.generate

    def counted(*args, **kwargs):  # tokens per second of the generate stage
        out = generate(*args, **kwargs)
        new_tokens.append(out.new_tokens)
        return out

    engine.generator.generate = counted
    try:
        _time_answers(engine, datasets, rows[::step][:n], lines, tmp, per_stage)
    finally:
        del engine.generator.generate  # the instance attribute: back to the class's method
    tokens = sum(new_tokens) / max(sum(per_stage.get("generate", [])), 1e-9)
    print(f"\nLatency, routed (all hybrid), {lines}-line logs, n={len(per_stage.get('total', []))} "
          f"(cpu threads: {os.cpu_count()}), {label}: {tokens:.1f} new tokens/s, "
          f"{sum(new_tokens) / max(len(per_stage.get('total', [])), 1):.0f} new tokens an answer")
    print(f"  {'stage':<10}{'p50 s':>8}{'p95 s':>8}{'mean s':>8}")
    for stage, values in per_stage.items():
        print(f"  {stage:<10}{pct(values, 0.5):>8.3f}{pct(values, 0.95):>8.3f}{statistics.mean(values):>8.3f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=Path, default=None)
    ap.add_argument("--limit", type=int, default=400, help="logs per dataset for the cheap systems (0: skip quality)")
    ap.add_argument("--model-limit", type=int, default=40, help="logs per dataset that run the model")
    ap.add_argument("--latency", type=int, default=20, help="logs timed for latency (0 to skip)")
    ap.add_argument("--latency-lines", type=int, default=20000)
    ap.add_argument("--home", type=Path, default=None, help="CIBOT_HOME to (re)use; default a temp dir")
    ap.add_argument("--no-model", action="store_true")
    ap.add_argument("--quantize", default="auto",
                    help="model.quantize forms to time side by side, e.g. merged,half (auto: the default)")
    ap.add_argument("--caps", default="48/32",
                    help="cause/fix token caps of text answers to time side by side, e.g. 0/0,48/32 "
                         "(0/0: uncapped, the previous release)")
    args = ap.parse_args(argv)
    from training.finetune.reallogs import datasets_dir

    args.datasets = datasets_dir(args.datasets)
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp) / "home"
        for form in args.quantize.split(","):
            engine = build(home, with_model=not args.no_model, quantize=form)
            if args.limit > 0:
                quality(engine, args.datasets, args.limit, args.model_limit, not args.no_model)
            if args.latency and not args.no_model:
                for caps in args.caps.split(","):
                    gen = engine.generator
                    gen.cause_tokens, gen.fix_tokens = (int(c) for c in caps.split("/"))
                    latency(engine, args.datasets, args.latency, args.latency_lines, Path(tmp),
                            f"model.quantize={form}, cause/fix token caps {caps}")
            del engine
    return 0


if __name__ == "__main__":
    sys.exit(main())
