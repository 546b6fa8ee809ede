"""`cibot excerpt`: the exact JSON contract, stdin, --pass-log, and error paths."""
from __future__ import annotations

import gzip
import io
import json
import sys

from bot.cli import main

FAILING = (
    "$ pytest -q\n" + "".join(f"tests/test_{i}.py . [ {i}%]\n" for i in range(40))
    + "E       assert 3 == 4\nFAILED tests/test_cart.py::test_total - assert 3 == 4\n"
    "The command \"pytest -q\" exited with 1.\n"
)


def test_json_contract_one_object_per_input(tmp_path, capsys):
    a = tmp_path / "a.log"
    a.write_text(FAILING)
    b = tmp_path / "b.log.gz"
    b.write_bytes(gzip.compress(FAILING.replace("test_cart", "test_shop").encode()))
    assert main(["excerpt", str(a), str(b), "--json", "--max-lines", "5"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in rows] == [str(a), str(b)]
    for r in rows:
        assert set(r) == {"file", "lines", "step", "category", "redactions"}
        assert 0 < len(r["lines"]) <= 5
        assert all(set(x) == {"n", "text"} and isinstance(x["n"], int) for x in r["lines"])
        assert r["step"] == "pytest -q" and r["category"] == "test" and r["redactions"] == 0
    assert any("test_shop" in x["text"] for x in rows[1]["lines"])


def test_default_budget_is_30(tmp_path, capsys):
    log = tmp_path / "big.log"
    log.write_text("".join(f"ERROR: failure {i}\n" for i in range(200)))
    assert main(["excerpt", str(log), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["lines"]) == 30


def test_stdin_and_text_output(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FAILING.encode())))
    assert main(["excerpt", "-"]) == 0
    out = capsys.readouterr().out
    assert "step: pytest -q" in out and "category: test" in out
    assert "| E       assert 3 == 4" in out


def test_pass_log_option(tmp_path, capsys):
    fail = tmp_path / "fail.log"
    fail.write_text("error: known noisy probe\n" * 3 + "ERROR: schema migration failed\n")
    ok = tmp_path / "pass.log"
    ok.write_text("error: known noisy probe\n" * 3 + "migrated\n")
    assert main(["excerpt", str(fail), "--pass-log", str(ok), "--json", "--max-lines", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["lines"][0]["text"] == "ERROR: schema migration failed"


def test_secrets_are_redacted_in_json(tmp_path, capsys):
    log = tmp_path / "s.log"
    log.write_text("fatal: push failed for https://bot:hunter2secret@github.com/o/r.git\n")
    assert main(["excerpt", str(log), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert "hunter2secret" not in json.dumps(row) and row["redactions"] == 1


def test_bad_inputs_are_reported_and_the_rest_processed(tmp_path, capsys):
    good = tmp_path / "good.log"
    good.write_text(FAILING)
    binary = tmp_path / "junk.bin"
    binary.write_bytes(b"\x00\xff\x10" * 4000)
    missing = tmp_path / "missing.log"
    assert main(["excerpt", str(binary), str(missing), str(good), "--json"]) == 1
    captured = capsys.readouterr()
    errors = captured.err.strip().splitlines()
    assert len(errors) == 2
    assert str(binary) in errors[0] and str(missing) in errors[1]
    rows = [json.loads(x) for x in captured.out.splitlines()]
    assert [r["file"] for r in rows] == [str(good)]


def test_no_failure_is_said_plainly(tmp_path, capsys):
    log = tmp_path / "ok.log"
    log.write_text("building\n[INFO] BUILD SUCCESS\n")
    assert main(["excerpt", str(log)]) == 0
    assert "no failure found" in capsys.readouterr().out


def test_invalid_max_lines_is_a_usage_error(tmp_path, capsys):
    log = tmp_path / "a.log"
    log.write_text(FAILING)
    assert main(["excerpt", str(log), "--max-lines", "0"]) == 2
    assert "--max-lines" in capsys.readouterr().err
