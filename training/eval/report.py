"""Side-by-side evaluation (base alone, adapter, adapter + retrieval) and its Markdown/PNG report."""
from __future__ import annotations

import json
import time
from pathlib import Path

from retrieval.errors import UsageError
from training.eval.evaluate import default_heldout, evaluate, load_examples, real_examples

VARIANTS = ("base", "adapter", "adapter+retrieval")
METRICS = ("format_compliance", "json_valid", "id_recall", "served_id_recall")


def suite_examples(suite: str, limit: int, datasets: Path | None) -> tuple[list, str | None]:
    """(examples, forced format) of a suite."""
    if suite in ("heldout", "json"):
        return load_examples(default_heldout(), limit, spread=True), ("json" if suite == "json" else None)
    if suite == "real":
        if datasets is None or not (datasets / "logchunks.jsonl").is_file():
            from retrieval.errors import InputError

            raise InputError(f"the real-log suite needs ../shared/datasets (not found: {datasets})")
        return real_examples(datasets, limit), None

    raise UsageError(f"unknown suite {suite!r}", hint="heldout, json or real")


def compare(generator, adapter_dir: Path | None, version: str | None, examples: list, *,
            fmt: str | None, retriever=None, budget_chars: int | None = None, on_variant=None,
            post=None) -> dict:
    """Score the three variants on the same examples with one loaded base model."""
    results = {}
    for variant in VARIANTS:
        if on_variant:
            on_variant(variant)
        if variant == "base":
            generator.swap_adapter(None)
        elif adapter_dir is None:
            continue
        elif generator.info().adapter != version:
            generator.swap_adapter(adapter_dir, version)
        context = "none" if variant != "adapter+retrieval" else ("retrieve" if retriever else "own")
        results[variant] = evaluate(generator, examples, retriever, limit=None, context=context,
                                    fmt=fmt, budget_chars=budget_chars, post=post)
        results[variant]["context"] = context
    return results


def write_report(suite: str, results: dict, reports_dir: Path, info: dict) -> tuple[Path, Path]:
    reports_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    md, png = reports_dir / f"eval-{suite}-{stamp}.md", reports_dir / f"eval-{suite}-{stamp}.png"
    _chart(suite, results, png)
    lines = [f"# cibot eval: {suite}", "", f"- base: {info.get('base')}", f"- adapter: {info.get('adapter')}",
             f"- examples: {info.get('n')}", f"- text decoding: {info.get('decoding', 'guided')}",
             f"- created: {stamp}", "",
             "| variant | context | format compliance | JSON valid | id recall | id recall, well-formed answers only "
             "| id recall as served | tokens/s |",
             "|---|---|---|---|---|---|---|---|"]
    for variant, m in results.items():
        lines.append(f"| {variant} | {m.get('context')} | {_f(m.get('format_compliance'))} | "
                     f"{_f(m.get('json_valid'))} | {_f(m.get('id_recall'))} | {_f(m.get('answer_id_recall'))} | "
                     f"{_f(m.get('served_id_recall'))} | {_f(m.get('tokens_per_s'))} |")
    lines += ["", "id recall scores the model's raw text; as served, the engine's checks have run (an answer"
              " that is unparsable, made up or about other lines gives way to the log's key line) and the"
              " identifiers the failing lines name that the answer left out are added (retrieval/logs/naming.py)."]
    if suite == "real":
        lines += ["", "On this suite the served figure is in-sample: retrieval/logs/naming.py's ranker was trained on these"
                      " LogChunks logs (`cibot dev naming` prints its estimate for unseen repositories)."]
    lines += ["", f"![chart]({png.name})", "", "## Sample answers", ""]
    for variant, m in results.items():
        for s in m.get("samples", [])[:2]:
            lines += [f"**{variant}** (ids {s['ids']}, recall {s['recall']}):", "", "```", s["answer"][:400], "```", ""]
    md.write_text("\n".join(lines))
    (reports_dir / f"eval-{suite}-{stamp}.json").write_text(json.dumps({"suite": suite, "info": info, "results": results}, indent=2))
    return md, png


def _f(value) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _chart(suite: str, results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(results)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / len(METRICS)
    for i, metric in enumerate(METRICS):
        values = [results[v].get(metric) or 0.0 for v in variants]
        ax.bar([x + i * width for x in range(len(variants))], values, width, label=metric)
    ax.set_xticks([x + width * (len(METRICS) - 1) / 2 for x in range(len(variants))], variants)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"cibot eval: {suite}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
