"""Training data: validation with line numbers, duplicates, redaction, excerpts, messages."""
import json

import pytest
from tiny_models import tiny_rows, write_jsonl

from retrieval.errors import InputError
from training.finetune.data import data_hash, deduplicate, load, read_jsonl, to_messages
from training.inference.prompt import SYSTEM_PROMPT


def test_bad_lines_are_reported_with_line_numbers_and_loading_goes_on(tmp_path):
    good = tiny_rows(3)
    path = write_jsonl(tmp_path / "d.jsonl", [
        good[0], "{not json", {"input": "x"}, {"input": "log", "output": "just words"},
        {"messages": [{"role": "user", "content": "q"}]}, good[1], [1, 2],
        {"input": "log", "output": "Root Cause: a Fix: b", "format": "xml"}, good[2],
    ])
    examples, problems = read_jsonl(path)
    assert len(examples) == 3
    reasons = {p.line: p.reason for p in problems}
    assert sorted(reasons) == [2, 3, 4, 5, 7, 8]
    assert "not valid JSON" in reasons[2]
    assert "output" in reasons[3]
    assert "Root Cause" in reasons[4]
    assert "last message must be the assistant" in reasons[5]
    assert "JSON object" in reasons[7]
    assert "format" in reasons[8]
    assert str(problems[0]).startswith(f"{path}:2:")


@pytest.mark.parametrize("content", ["", "\n\n", "garbage\n{\"input\": 1}\n"])
def test_empty_or_all_invalid_file_is_an_input_error(tmp_path, content):
    path = tmp_path / "d.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match="no valid training examples"):
        load([path])


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load([tmp_path / "nope.jsonl"])


def test_chat_format_rows_keep_their_messages(tmp_path):
    msgs = [{"role": "user", "content": "why?"}, {"role": "assistant", "content": "Root Cause: a\nFix: b"}]
    data = load([write_jsonl(tmp_path / "d.jsonl", [{"messages": msgs}])])
    assert to_messages(data.examples[0]) == msgs


def test_exact_and_near_duplicates_are_dropped_first_kept(tmp_path):
    base = tiny_rows(6)
    long_log = "\n".join(f"running step {i} of the build for module alpha" for i in range(40))
    near_a = {"input": long_log + "\nERROR: alpha failed", "output": "Root Cause: alpha failed. Fix: fix alpha"}
    near_b = {"input": long_log + "\nERROR: alpha failed!", "output": "Root Cause: alpha failed. Fix: fix alpha"}
    same_spaced = dict(base[0], input=base[0]["input"].replace(" ", "  "))
    data = load([write_jsonl(tmp_path / "d.jsonl", base + [base[1], same_spaced, near_a, near_b])], clean=False)
    assert data.exact_duplicates == 2
    assert data.near_duplicates == 1
    assert len(data.examples) == 7
    kept, exact, near = deduplicate(data.examples)
    assert (exact, near, len(kept)) == (0, 0, 7)


def test_every_text_is_redacted_before_training(tmp_path):
    secret = "AKIAIOSFODNN7EXAMPLE"
    row = {"input": f"aws configure\nusing key {secret}\nERROR: access denied",
           "output": f"Root Cause: key {secret} lacks s3:GetObject. Fix: grant the permission",
           "context": [{"title": "AWS", "text": f"rotate {secret}"}]}
    chat = {"messages": [{"role": "user", "content": f"key {secret}?"}, {"role": "assistant", "content": "Root Cause: a Fix: b"}]}
    data = load([write_jsonl(tmp_path / "d.jsonl", [row, chat])])
    dumped = json.dumps([to_messages(ex) for ex in data.examples])
    assert secret not in dumped
    assert "REDACTED" in dumped
    assert data.redactions >= 4


def test_long_logs_are_reduced_to_their_excerpt(tmp_path):
    noise = "\n".join(f"[INFO] compiling module {i}" for i in range(400))
    row = {"input": noise + "\n[ERROR] Failed to execute goal: compilation failure in Foo.java:[12,5]\n[INFO] BUILD FAILURE",
           "output": "Root Cause: Foo.java does not compile. Fix: fix line 12"}
    ex = load([write_jsonl(tmp_path / "d.jsonl", [row])]).examples[0]
    assert ex.input.count("\n") < 60
    assert "Foo.java:[12,5]" in ex.input


def test_examples_render_through_build_messages_with_answer_last(tmp_path):
    data = load([write_jsonl(tmp_path / "d.jsonl", tiny_rows(5))])
    msgs = to_messages(data.examples[0])
    assert [m["role"] for m in msgs] == ["system", "user", "assistant"]
    assert msgs[0]["content"] == SYSTEM_PROMPT
    assert json.loads(msgs[2]["content"])["root_cause"]  # row 0 asks for JSON
    assert to_messages(data.examples[1])[2]["content"].startswith("Root Cause: ")
    assert data_hash(data.examples) == data_hash(load([tmp_path / "d.jsonl"]).examples)
    assert data_hash(data.examples) != data_hash(data.examples[1:])
