"""Evaluation metrics and the side-by-side report, with a small scripted generator."""
import json

from training.eval.evaluate import chunk_ids, derive_ids, evaluate, recall
from training.eval.report import compare, write_report
from training.finetune.data import Example
from training.inference.types import Generation, ModelInfo


class ScriptedGenerator:
    """Answers from a list, in order; records the prompts and adapter swaps it saw."""

    def __init__(self, answers):
        self.answers, self.prompts, self.adapter = list(answers), [], None

    def generate(self, messages, *, max_new_tokens=None, json_schema=None, cause_only=False):
        self.prompts.append(messages)
        answer = self.answers.pop(0)
        text, meta = answer if isinstance(answer, tuple) else (answer, {})
        return Generation(text=text, new_tokens=10, seconds=0.01, meta=meta)

    def swap_adapter(self, adapter_dir, version=None):
        self.adapter = version if adapter_dir else None

    def info(self):
        return ModelInfo("tiny", self.adapter)

    def count_tokens(self, text):
        return len(text.split())


EXAMPLES = [
    Example(input="npm ERR! 404 left-pad-9", output="Root Cause: left-pad-9 missing Fix: pin it",
            meta={"key_ids": ["left-pad-9", "E404"]}, context=[{"title": "npm", "text": "pin versions"}]),
    Example(input="COPY failed: requirements.txt", output="Root Cause: x Fix: y", fmt="json",
            meta={"key_ids": ["requirements.txt"]}),
]


def test_metrics_count_format_json_and_identifier_recall():
    gen = ScriptedGenerator(["Root Cause: left-pad-9 is gone (E404).\nFix: pin it",
                             '{"root_cause": "requirements.txt missing", "fix": "add it"}'])
    m = evaluate(gen, EXAMPLES, context="none")
    assert (m["n"], m["format_compliance"], m["json_valid"], m["id_recall"]) == (2, 1.0, 1.0, 1.0)
    assert "Reference notes" not in gen.prompts[0][1]["content"]

    gen = ScriptedGenerator(["left-pad-9 broke", "Root Cause: requirements.txt\nFix: add it"])
    m = evaluate(gen, EXAMPLES, context="own")
    assert m["format_compliance"] == 0.0  # no fields; text where JSON was asked
    assert m["json_valid"] == 0.0
    assert m["id_recall"] == 0.75  # (1/2 + 1/1) / 2
    assert "[1] npm: pin versions" in gen.prompts[0][1]["content"]


def test_json_the_generator_had_to_repair_counts_as_a_format_failure():
    fixed = '{"root_cause": "requirements.txt missing", "fix": "add it"}'
    m = evaluate(ScriptedGenerator([fixed, (fixed, {"json_repaired": True})]), [EXAMPLES[1], EXAMPLES[1]])
    assert m["json_valid"] == 0.5 and m["format_compliance"] == 0.5


def test_identifier_helpers():
    assert recall("see LEFT-PAD-9", ["left-pad-9"]) == 1.0 and recall("x", []) is None
    assert derive_ids("Root Cause: src/app.py imports numpy==1.2 Fix: bump", "E src/app.py numpy==1.2") == ["src/app.py", "numpy==1.2"]
    ids = chunk_ids("\x1b[31mFAILED tests/test_io.py::test_read - AssertionError\x1b[0m\r\nError TS2304 here")
    assert "tests/test_io.py::test_read" in ids and "TS2304" in ids


def test_compare_scores_three_variants_and_writes_markdown_and_png(tmp_path):
    answers = ["nothing", "nothing",  # base
               "Root Cause: left-pad-9 Fix: pin", '{"root_cause": "requirements.txt", "fix": "add"}',
               "Root Cause: left-pad-9 E404 Fix: pin", '{"root_cause": "requirements.txt", "fix": "add"}']
    gen = ScriptedGenerator(answers)
    results = compare(gen, tmp_path, "v0001", EXAMPLES, fmt=None)
    assert list(results) == ["base", "adapter", "adapter+retrieval"]
    assert results["base"]["format_compliance"] == 0.0
    assert results["adapter"]["format_compliance"] == 1.0
    assert results["adapter+retrieval"]["id_recall"] == 1.0 and results["adapter+retrieval"]["context"] == "own"
    md, png = write_report("heldout", results, tmp_path / "reports", {"base": "tiny", "adapter": "v0001", "n": 2})
    text = md.read_text()
    assert "| adapter+retrieval | own | 1.000 |" in text and png.name in text
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert json.loads(md.with_suffix(".json").read_text())["results"]["base"]["n"] == 2


def test_the_retrieval_variant_asks_and_filters_as_the_engine_does():
    from bot.commands.eval import _AsServed
    from bot.settings import load_settings
    from retrieval.types import Passage
    from training.finetune.data import Example

    class Recording:
        def search(self, query, k):
            self.query, self.k = query, k
            return [Passage(text="a", score=0.9, title="A", uri="u1"), Passage(text="b", score=0.8, title="B", uri="u1"),
                    Passage(text="c", score=0.1, title="C", uri="u2")]

    inner = Recording()
    settings = load_settings(retrieval={"top_k": 4, "min_score": 0.3})
    log = "\n".join([f"step {i} ok" for i in range(40)] + ["npm ERR! enoent package.json not found in /app"])
    notes = _AsServed(inner, settings).notes_for(Example(input=log, question="why did npm fail?"))
    assert [p.title for p in notes] == ["A"]  # one per source, none under min_score
    assert inner.k == 4 and "npm ERR! enoent package.json" in inner.query and "step 3 ok" not in inner.query
    assert inner.query.startswith("why did npm fail?")


def test_a_spread_sample_takes_every_failure_type_before_repeating_one(tmp_path):
    from training.eval.evaluate import load_examples

    path = tmp_path / "heldout.jsonl"
    rows = [{"input": f"log {t}{i}", "output": "Root Cause: a Fix: b", "type": t} for t in "abc" for i in range(3)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    assert [ex.meta["type"] for ex in load_examples(path, 4)] == ["a", "a", "a", "b"]
    spread = load_examples(path, 4, spread=True)
    assert [ex.meta["type"] for ex in spread] == ["a", "b", "c", "a"]
    assert [ex.input for ex in spread] == ["log a0", "log b0", "log c0", "log a1"]
