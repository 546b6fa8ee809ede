"""`cibot ingest` and `cibot search` contracts, run in-process through bot.cli.main."""
from __future__ import annotations

import json

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def no_starter(monkeypatch):
    # The bundled knowledge base costs a minute of CPU to embed; these tests bring their own.
    monkeypatch.setenv("CIBOT_RETRIEVAL__STARTER", "false")


@pytest.fixture
def kb(tmp_path):
    root = tmp_path / "kb"
    root.mkdir()
    (root / "oom.md").write_text("# Resources\n\n## Exit code 137\n\nProcess completed with exit code 137: the OOM killer. "
                                 "Lower -Xmx or move the job to the large runner.\n")
    (root / "private.md").write_text("# Payments\n\n## Rotation\n\nRotate the payments key with the rotate-payments-key-99 script.\n")
    return root


def test_ingest_prints_summary_and_is_idempotent(kb, capsys):
    assert main(["ingest", str(kb / "oom.md")]) == 0
    assert capsys.readouterr().out.startswith("added 1, updated 0, unchanged 0, removed 0")
    assert main(["ingest", str(kb / "oom.md"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {k: summary[k] for k in ("added", "updated", "unchanged", "removed")} == \
        {"added": 0, "updated": 0, "unchanged": 1, "removed": 0}


def test_search_json_contract_and_scope(kb, capsys):
    assert main(["ingest", str(kb / "oom.md")]) == 0
    assert main(["ingest", str(kb / "private.md"), "--scope", "C_PAY"]) == 0
    capsys.readouterr()
    assert main(["search", "exit code 137", "--json", "--k", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"] == "exit code 137"
    assert out["results"] and set(out["results"][0]) == {"text", "score", "title", "uri"}
    assert "137" in out["results"][0]["text"] and out["results"][0]["title"] == "Resources"

    main(["search", "rotate-payments-key-99", "--json", "--all"])
    assert all("rotate-payments-key-99" not in r["text"] for r in json.loads(capsys.readouterr().out)["results"])
    main(["search", "rotate-payments-key-99", "--json", "--scope", "C_PAY"])
    assert "rotate-payments-key-99" in json.loads(capsys.readouterr().out)["results"][0]["text"]


def test_search_reports_nothing_relevant(kb, capsys):
    main(["ingest", str(kb)])
    capsys.readouterr()
    assert main(["search", "chocolate cake frosting recipe"]) == 0
    assert capsys.readouterr().out.startswith("nothing relevant")
    assert main(["search", "chocolate cake frosting recipe", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"] == []


def test_empty_query_exits_2(capsys):
    assert main(["search", "  "]) == 2
    assert "empty query" in capsys.readouterr().err


def test_ingest_skips_unreadable_files_and_exits_1(kb, capsys):
    (kb / "bad.md").write_bytes(b"\xff\xfe\xfa")
    assert main(["ingest", str(kb), str(kb / "missing.md")]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("added 2,")
    assert "skipped" in captured.err and "bad.md" in captured.err and "missing.md" in captured.err


def test_ingest_collection_and_prune(kb, capsys):
    assert main(["ingest", str(kb), "--collection", "docs"]) == 0
    (kb / "private.md").unlink()
    assert main(["ingest", str(kb), "--collection", "docs", "--prune"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("added 0, updated 0, unchanged 1, removed 1")
    main(["search", "exit code 137", "--json"])
    assert json.loads(capsys.readouterr().out)["results"] == []  # the default collection stayed empty


def test_invalid_collection_name_is_a_config_error(kb, capsys):
    assert main(["ingest", str(kb), "--collection", "x"]) == 1
    assert "invalid collection name 'x'" in capsys.readouterr().err
