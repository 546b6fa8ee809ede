"""`cibot ask`: the exact CLI contract, text and JSON output, usage errors."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from engine_fakes import FakeGenerator, FakeRetriever, passage

from bot.cli import main
from bot.engine.pipeline import AnswerEngine

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "bot/data/answer.schema.json").read_text())
LOG = "\n".join([f"compiling step {i}" for i in range(1, 30)]
                + ["src/index.ts(14,7): error TS2322: Type 'string' is not assignable to type 'number'.",
                   "Found 1 error.", "Error: Process completed with exit code 2."])
ANSWER = "Root Cause: src/index.ts line 14 assigns a string to a number (TS2322).\nFix: convert the value with Number()."


@pytest.fixture
def fake_engine(monkeypatch):
    """The real engine with a fake model and retriever in place of the loaded ones."""
    gen = FakeGenerator().enqueue([ANSWER])
    runbook = passage("TypeScript TS2322 means a value of the wrong type is assigned; convert it or fix the type.",
                      0.66, "TypeScript type errors", "runbooks/typescript.md")
    retriever = FakeRetriever([runbook])
    engine = AnswerEngine(retriever=retriever, generator=gen)
    built = []
    monkeypatch.setattr("bot.commands.ask._engine", lambda settings, with_model: built.append(with_model) or engine)
    return engine, gen, retriever, built


@pytest.fixture
def log_file(tmp_path) -> Path:
    path = tmp_path / "build.log"
    path.write_text(LOG)
    return path


def test_no_question_and_no_log_prints_usage_and_exits_non_zero(capsys):
    assert main(["ask"]) == 2
    err = capsys.readouterr().err
    assert "give a question or a log" in err and "Traceback" not in err


def test_json_output_is_one_object_with_the_contract_keys(fake_engine, log_file, capsys):
    import jsonschema

    assert main(["ask", "--log", str(log_file), "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert set(doc) >= {"route", "root_cause", "fix", "evidence", "sources", "confidence", "model", "timings"}
    assert doc["route"] == "hybrid" and doc["root_cause"].startswith("src/index.ts line 14")
    assert {"n": 30, "text": LOG.split("\n")[29]} in doc["evidence"]
    assert doc["sources"] == [{"title": "TypeScript type errors", "uri": "runbooks/typescript.md", "score": 0.66}]
    assert doc["model"] == {"base": "fake-base", "adapter": "v-test"}
    assert {"excerpt", "route", "retrieve", "prompt", "generate", "post"} <= set(doc["timings"])


def test_format_json_asks_the_model_for_json_and_prints_valid_json(fake_engine, log_file, capsys):
    _, gen, _, _ = fake_engine
    assert main(["ask", "why?", "--log", str(log_file), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["root_cause"] and gen.calls[0]["json_schema"] is not None


def test_text_output_reads_as_a_report(fake_engine, log_file, capsys):
    assert main(["ask", "why did CI fail?", "--log", str(log_file)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Root cause: src/index.ts line 14")
    assert "Fix:" in out and "30 | src/index.ts(14,7)" in out
    assert "TypeScript type errors (runbooks/typescript.md)" in out and "route hybrid" in out


def test_global_debug_shows_route_scores_and_features(fake_engine, log_file, capsys):
    assert main(["--debug", "ask", "--log", str(log_file)]) == 0
    out = capsys.readouterr().out
    assert "debug: route hybrid" in out and "scores:" in out and "features:" in out and "timings:" in out


def test_log_from_stdin_and_scope_reach_the_engine(fake_engine, monkeypatch, capsys):
    import io
    import sys

    _, _, retriever, _ = fake_engine
    monkeypatch.setattr(sys, "stdin", type("S", (), {"buffer": io.BytesIO(LOG.encode())})())
    assert main(["ask", "--log", "-", "--scope", "C42", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["evidence"]
    assert retriever.queries[0][1].channel == "C42"


def test_a_missing_log_file_is_an_input_error(fake_engine, capsys):
    assert main(["ask", "--log", "/nonexistent/build.log"]) == 1
    assert "log file not found" in capsys.readouterr().err


def test_a_bad_format_is_a_usage_error(capsys):
    assert main(["ask", "hi", "--format", "xml"]) == 2


def test_ci_config_file_is_passed_to_the_engine(fake_engine, tmp_path, capsys):
    workflow = tmp_path / "ci.yml"
    workflow.write_text("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
                        "      - name: Build\n        working-directory: app\n        run: npx tsc\n")
    log = tmp_path / "b.log"
    log.write_text("Run npx tsc\nerror TS5058: The specified path does not exist: 'app/tsconfig.json'.\n")
    assert main(["ask", "--log", str(log), "--ci-config", str(workflow), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "ci.yml:7" in doc["root_cause"]
    assert doc["config_evidence"][0] == {"file": "ci.yml", "n": 7, "text": "        working-directory: app"}


@pytest.mark.integration
def test_ask_builds_the_real_engine_without_a_model(tmp_path, monkeypatch, capsys):
    """Real embedder, router, persistent Chroma in CIBOT_HOME; a one-runbook starter set keeps it fast."""
    import retrieval.index

    knowledge = tmp_path / "knowledge" / "runbooks"
    knowledge.mkdir(parents=True)
    shutil.copy(REPO / "retrieval/knowledge/runbooks/team-policy.md", knowledge)
    monkeypatch.setattr(retrieval.index, "KNOWLEDGE_DIR", knowledge.parent)
    assert main(["ask", "--no-model", "--json", "who owns the deploy pipeline?"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["route"] == "rag" and doc["sources"]
    assert all(s["uri"].endswith(tuple(f"#{a}" for a in ("who-owns-the-deploy-pipeline",)))
               or "team-policy" in s["uri"] for s in doc["sources"])
    assert "platform" in doc["root_cause"].lower()
