"""Fixes that name commands, files or flags nothing shows are cut or replaced, and say so."""
from __future__ import annotations

from bot.engine.finish import finish
from retrieval.logs.grounding import grounded_sentences, ungrounded
from retrieval.types import Excerpt, LogLine, Passage

LOG = ["npm ERR! enoent ENOENT: no such file or directory, open '/app/web/package.json'",
       "npm ERR! code ENOENT"]


def _excerpt(lines=LOG) -> Excerpt:
    return Excerpt([LogLine(i + 1, t) for i, t in enumerate(lines)], category="dependency")


def test_names_the_log_shows_and_standard_tools_are_grounded():
    assert ungrounded("Run `npm ci` in web/ so /app/web/package.json is found.", "\n".join(LOG)) == []


def test_an_invented_file_flag_and_command_are_each_named():
    text = "Edit config/webpack.prod.js, run `frobnicate build` and pass --turbo-mode."
    assert ungrounded(text, "\n".join(LOG)) == ["config/webpack.prod.js", "--turbo-mode", "frobnicate"]


def test_only_the_invented_sentence_is_dropped():
    kept, named = grounded_sentences("Run `npm ci` in /app/web. Then add `mkdir -b out` to the job.", "\n".join(LOG))
    assert kept == "Run `npm ci` in /app/web." and named == ["mkdir"]


def test_a_kept_answer_loses_an_invented_fix_sentence_and_says_so():
    parsed = ("npm cannot open /app/web/package.json (ENOENT).",
              "Set working-directory to /app/web. Then run ./gradlew assembleDebug.")
    done = finish(parsed, _excerpt(), [])
    assert done.problem is None
    assert done.fix == "Set working-directory to /app/web." and "./gradlew" not in done.fix
    assert "assembleDebug" in done.fix_note and "left out" in done.fix_note


def test_a_wholly_invented_fix_is_replaced_by_the_runbooks_and_says_so():
    runbook = Passage(text="## Fix\nRun npm install from the folder that holds package.json.", score=0.8,
                      title="npm ENOENT package.json", uri="runbooks/npm.md")
    parsed = ("npm cannot open /app/web/package.json (ENOENT).", "Run `frobnicate --turbo-mode`.")
    done = finish(parsed, _excerpt(), [runbook])  # the runbook is about this failure: its fix is given
    assert "frobnicate" not in done.fix and "npm install" in done.fix and "(from \"npm ENOENT" in done.fix
    unrelated = Passage(text="## Fix\nPin the Xcode version.", score=0.8, title="Xcode", uri="runbooks/xcode.md")
    alone = finish(parsed, _excerpt(), [unrelated])  # no runbook for it: the fix comes from the log
    assert "frobnicate" not in alone.fix and "package.json" in alone.fix and "Xcode" not in alone.fix
    assert "`frobnicate`" in alone.fix_note or "`--turbo-mode`" in alone.fix_note


def test_a_grounded_fix_is_left_as_written():
    parsed = ("npm cannot open /app/web/package.json (ENOENT).", "Run `npm ci` with working-directory /app/web.")
    done = finish(parsed, _excerpt(), [])
    assert done.fix == parsed[1] and done.fix_note is None


def test_a_root_cause_copied_from_an_incident_about_other_files_is_set_aside():
    from bot.engine.finish import finish
    from retrieval.logs.excerpt import extract
    from retrieval.types import Passage

    log = b"Run npm test\n> jest\nFAIL src/a.test.js\n  TypeError: x is undefined\nnpm ERR! Test failed.\n"
    excerpt = extract(log)
    incident = Passage(text="FAIL src/__tests__/components/refund.test.js expected 70 received 337",
                       title="Refund test", uri="incidents.jsonl#L3", score=0.7)
    copied = ("The jest test in src/__tests__/components/refund.test.js fails: expected 70, received 337.",
              "Fix the refund total.")
    done = finish(copied, excerpt, [incident])
    assert done.problem and "files this log does not show" in done.problem
    assert "refund.test.js" not in done.cause
    own = ("The jest test src/a.test.js fails with TypeError: x is undefined.", "Define x before the test uses it.")
    assert finish(own, excerpt, [incident]).problem is None


def test_a_fix_copied_from_a_note_the_prompt_cut_short_is_not_shown():
    parsed = ("npm cannot open /app/web/package.json (ENOENT).",
              "Run `npm ci` in /app/web. Add the config file to this branch at the repository root und...")
    done = finish(parsed, _excerpt(), [])
    assert done.fix == "Run `npm ci` in /app/web." and done.problem is None
    cut = finish((parsed[0], "Run `xcodebuild -workspace App.xcworkspace -scheme Swifty…`"), _excerpt(), [])
    assert "Swifty…" not in cut.fix and "package.json" in cut.fix and "cut short" in cut.fix_note
    stub = finish((parsed[0], "Run"), _excerpt(), [])  # all the token cap left of it
    assert stub.fix != "Run" and "package.json" in stub.fix
