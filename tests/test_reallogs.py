"""Real-log training rows: shipped answers, rebuilt prompts, repository-grouped folds, grounding."""
from __future__ import annotations

import json

import pytest

from retrieval.errors import InputError
from retrieval.logs.redact import redact
from training.finetune.data import load, mix
from training.finetune.reallogs import ANSWERS, ROWS, fold_of, load_answers, ungrounded


def _rows():
    return [json.loads(line) for line in ROWS.read_text().splitlines() if line.strip()]


def test_folds_group_by_repository_and_are_stable():
    assert fold_of("powershell/PowerShell") == fold_of("POWERSHELL/powershell")
    assert {fold_of(f"org/repo{i}") for i in range(50)} == {0, 1, 2, 3, 4}
    by_repo: dict[str, set] = {}
    for row in _rows():
        by_repo.setdefault(row["meta"]["repository"], set()).add(row["meta"]["fold"])
    assert len(by_repo) >= 60 and all(len(folds) == 1 for folds in by_repo.values())


def test_the_shipped_rows_are_many_redacted_and_in_the_answer_shape():
    rows = _rows()
    assert len(rows) >= 300
    assert {r["meta"]["source"] for r in rows} == {"logchunks", "cidiff", "bugswarm"}
    for row in rows:
        assert redact(row["input"]).count == 0 and redact(row["output"]).count == 0
        assert row["output"].startswith("Root Cause: ") and "\nFix: " in row["output"]
        assert row["input"].count("\n") < 30  # the engine's excerpt, not the whole log


def test_every_shipped_answer_is_grounded_in_its_excerpt_or_log():
    answers = load_answers(ANSWERS)
    kept = {r["meta"]["key"] for r in _rows()}
    assert kept <= set(answers) and sum(1 for a in answers.values() if a.get("skip")) < len(answers) / 5


def test_a_malformed_answer_line_names_its_line_number(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text('{"key": "a", "root_cause": "x", "fix": "y"}\n{"key": "b", "root_cause": "x"}\n')
    with pytest.raises(InputError, match=r"answers.jsonl:2: needs string fields"):
        load_answers(path)
    path.write_text('{"key": "a", "skip": true}\nnot json\n')
    with pytest.raises(InputError, match=r"answers.jsonl:2: not JSON"):
        load_answers(path)


def test_an_answer_naming_what_the_log_does_not_show_is_caught():
    log = "FAIL tests/test_io.py::test_parse_dates - AssertionError: 31.55 != 614.24"
    assert ungrounded("`test_parse_dates` in tests/test_io.py fails; run `pytest tests/test_io.py`", log) == []
    assert ungrounded("Edit src/loader/dates.py and pass --strict-dates", log) == ["src/loader/dates.py", "--strict-dates"]
    assert ungrounded("Run `mvn -Dtest=DateTest test`", log) == ["DateTest"]


def test_the_mix_holds_out_a_fold_and_samples_only_the_synthetic_corpus(tmp_path):
    from training.finetune.data import SYNTHETIC_CORPUS

    data = load([ROWS, ROWS.parent / SYNTHETIC_CORPUS], dedupe=False, clean=False).examples
    mine = tmp_path / "mine.jsonl"
    mine.write_text("".join(json.dumps({"input": f"error {i} in a.py", "output": "Root Cause: a\nFix: b"}) + "\n"
                            for i in range(500)))
    data += load([mine], dedupe=False, clean=False).examples
    picked = mix(data, synthetic_rows=50, held_out_fold=0, seed=1)
    assert sum(1 for ex in picked if ex.meta.get("file") == SYNTHETIC_CORPUS) == 50
    assert sum(1 for ex in picked if ex.meta.get("file") == "mine.jsonl") == 500  # a team's rows all stay
    assert all(ex.meta.get("fold") != 0 for ex in picked)
    assert any(ex.meta.get("fold") == 1 for ex in picked)
    assert len({ex.meta.get("type") for ex in picked if ex.meta.get("file") == SYNTHETIC_CORPUS}) >= 40


@pytest.mark.slow
def test_the_rows_rebuild_from_the_datasets_exactly(datasets, tmp_path):
    from training.finetune.reallogs import build

    out = tmp_path / "real.jsonl"
    result = build(datasets, ANSWERS, out)
    assert result["rows"] == len(_rows())
    assert out.read_text() == ROWS.read_text()
