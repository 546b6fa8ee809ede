"""The one prompt format and the answer parser."""
import json

import pytest

from retrieval.types import Passage
from training.inference.prompt import (
    ANSWER_SCHEMA,
    LOG_MAX_LINES,
    SYSTEM_PROMPT,
    build_messages,
    focus_log,
    format_answer,
    parse_answer,
)


def test_build_messages_has_system_and_user_with_log_and_text_instruction():
    msgs = build_messages(excerpt="npm ERR! code E404", question="why did left-pad fail?")
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert msgs[0]["content"] == SYSTEM_PROMPT
    user = msgs[1]["content"]
    assert "Question: why did left-pad fail?" in user
    assert "Log:\nnpm ERR! code E404" in user
    assert user.rstrip().endswith("Fix: <what to change>")


def test_build_messages_json_format_asks_for_both_keys():
    user = build_messages(excerpt="x", fmt="json")[1]["content"]
    assert '"root_cause"' in user and '"fix"' in user
    with pytest.raises(ValueError):
        build_messages(excerpt="x", fmt="yaml")


def test_context_passages_become_titled_snippets_of_any_shape():
    passage = Passage(text="Run npm install then commit package-lock.json " * 40, score=0.9,
                      title="npm lockfile", uri="runbook://npm")
    user = build_messages(excerpt="log", context=[passage, {"title": "Docker", "text": "COPY needs the file"}, "plain"])[1]["content"]
    assert "[1] npm lockfile: Run npm install" in user
    assert "[2] Docker: COPY needs the file" in user
    assert "[3] plain" in user
    assert len(user) < 1500  # long passages are cut to a snippet


def test_budget_cuts_notes_before_the_log_and_keeps_the_log_tail():
    log = "\n".join(f"line {i} " + "x" * 150 for i in range(400)) + "\nERROR: the real failure"
    user = build_messages(excerpt=log, context=["note " * 200] * 3, budget_chars=1200)[1]["content"]
    assert len(user) <= 1300
    assert "ERROR: the real failure" in user
    assert "[...]" in user


def test_focus_log_drops_timestamps_and_keeps_the_failure_lines_in_order():
    noise = [f"2024-05-14T10:22:{i:02d}.1234567Z step {i} done" for i in range(40)]
    failure = ["2024-05-14T10:23:00.0000000Z npm ERR! code E404",
               "2024-05-14T10:23:00.1000000Z npm ERR! 404 Not Found - GET https://registry.npmjs.org/left-padd"]
    lines = focus_log("\n".join(noise[:20] + failure + noise[20:])).splitlines()
    assert len(lines) == LOG_MAX_LINES
    assert "npm ERR! code E404" in lines and not any(ln.startswith("2024-") for ln in lines)
    assert lines.index("npm ERR! code E404") < lines.index(failure[1].split("Z ", 1)[1])
    assert focus_log("a\n\n  \nb") == "a\nb"


def test_focus_log_drops_jenkins_and_gitlab_timestamps_and_the_lines_that_were_only_that():
    log = ("[2024-01-19T06:18:50.996Z]\n[2024-01-19T06:18:51.078Z]     Error: socket hang up\n"
           "2024-11-27T12:12:20.030223Z 00O PG::DuplicateTable: relation exists\n12 | RUN make")
    assert focus_log(log) == "    Error: socket hang up\nPG::DuplicateTable: relation exists\n12 | RUN make"


@pytest.mark.parametrize("text", [
    "Root Cause: the lockfile is stale.\nFix: run npm install",
    "**Root Cause:** the lockfile is stale. **Fix:** run npm install",
    "Root Cause: the lockfile is stale. Fix: run npm install",
    '{"root_cause": "the lockfile is stale.", "fix": "run npm install"}',
    '```json\n{"root_cause": "the lockfile is stale.", "fix": "run npm install"}\n```',
    "root cause - the lockfile is stale.\nsolution: run npm install",
])
def test_parse_answer_reads_every_shape(text):
    assert parse_answer(text) == ("the lockfile is stale.", "run npm install")


@pytest.mark.parametrize("text", ["", "no labels here", "Root Cause: only a cause", '{"root_cause": "x"}',
                                  "Root Cause: \nFix: "])
def test_parse_answer_refuses_incomplete_answers(text):
    assert parse_answer(text) is None


def test_format_answer_round_trips_through_parse_answer():
    for fmt in ("text", "json"):
        text = format_answer("a broke", "fix a", fmt)
        assert parse_answer(text) == ("a broke", "fix a")
    assert set(json.loads(format_answer("a", "b", "json"))) == set(ANSWER_SCHEMA["required"])


def test_an_incident_note_shows_how_it_was_resolved_not_the_head_of_its_log():
    from retrieval.sources import incident_chunk

    chunk = incident_chunk("Current runner version: '2.317.2'\nOperating System\nnpm ERR! enoent package.json",
                           "Root Cause: no package.json in /app. Fix: COPY it first.", "npm enoent (web)", "u")
    notes = build_messages(excerpt="npm ERR! x", context=[chunk])[1]["content"].split("Log:")[0]
    assert "[1] npm enoent (web): Root Cause: no package.json in /app. Fix: COPY it first." in notes
    assert "runner version" not in notes


def test_a_question_that_only_asks_why_the_log_failed_stays_out_of_the_prompt():
    from training.inference.prompt import build_messages

    log = "npm ERR! code E404"
    for q in ("Why did this CI job fail?", "<@U0BOT> why did the build break?", "what happened here"):
        assert "Question:" not in build_messages(excerpt=log, question=q)[1]["content"]
    specific = build_messages(excerpt=log, question="why does test_io.py fail on py3.12?")[1]["content"]
    assert specific.startswith("Question: why does test_io.py fail on py3.12?")
    assert "Question: Why did this CI job fail?" in build_messages(excerpt="", question="Why did this CI job fail?")[1]["content"]
