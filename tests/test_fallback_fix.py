"""The fix given when the model's is set aside: said of the log's own key line, naming its file,
test or package, and a runbook's fix only when the runbook is about this failure."""
from __future__ import annotations

import pytest

from bot.engine.fallback import from_excerpt, matches, retrieval_only
from retrieval.logs.excerpt import extract
from retrieval.types import Passage

NOISE = "\n".join(f"Downloading pkg{i}.tar.gz" for i in range(40))


def excerpt_of(failure: str):
    return extract(f"$ make ci\n{NOISE}\n{failure}\nError: Process completed with exit code 1.\n".encode())


@pytest.mark.parametrize("failure, wanted, kind", [
    ("npm ERR! enoent ENOENT: no such file or directory, open '/home/runner/work/shop/shop/web/package.json'",
     "`web/package.json`", "exists"),  # the path as the repository names it, not the runner's
    ("[ERROR] Failed to execute goal on project api: Could not resolve dependencies for project com.acme:api:jar:1.0: "
     "Could not find artifact com.squareup.okio:okio:jar:9.9.9 in central", "`com.squareup.okio:okio:jar:9.9.9`",
     "resolvable"),  # the artifact that is missing, not the project that wants it
    ("/home/runner/work/geo/geo/src/shape.cpp:12:5: error: 'area2' was not declared in this scope",
     "`src/shape.cpp:12:5`", "compiles"),
    ("FAILED tests/test_tax.py::test_rounding - assert 1.01 == 1.0", "`tests/test_tax.py::test_rounding`",
     "Run the failing test"),
])
def test_the_fix_names_what_the_key_line_shows(failure, wanted, kind):
    cause, fix = from_excerpt(excerpt_of(failure))
    assert wanted in fix and kind in fix, fix
    assert "Fix the error on that line" not in fix


@pytest.mark.parametrize("failure, wanted", [
    ("tests/test_ssl.py::test_redirects_to_https[1-True] FAILED", "`tests/test_ssl.py::test_redirects_to_https`"),
    ("_______________ test_web3_https_is_500 ________________", "`test_web3_https_is_500`"),
])
def test_pytest_verbose_and_header_lines_are_test_failures_with_their_test(failure, wanted):
    _, fix = from_excerpt(excerpt_of(failure))
    assert fix.startswith("Run the failing test") and wanted in fix, fix


def test_an_assertion_that_names_no_test_gets_the_failing_lines_file_and_line():
    log = (f"$ npm test\n{NOISE}\n  1) reuseProgramStructure\n"
           "AssertionError: expected 1 to equal 2\n"
           "    at Context.<anonymous> (src/unittests/reuseProgramStructure.ts:259:20)\n"
           "npm ERR! Test failed.\n")
    _, fix = from_excerpt(extract(log.encode()))
    assert fix.startswith("Run the failing test") and "`src/unittests/reuseProgramStructure.ts:259:20`" in fix, fix


def test_a_key_line_that_only_names_the_failed_command_says_to_run_it_and_guesses_no_name():
    log = (f"$ ./ci/check-docs.sh\n{NOISE}\nchecking docs/layers/README.org\n"
           "docs/layers/README.org: table is not aligned\n"
           'The command "./ci/check-docs.sh" exited with 2.\n')
    excerpt = extract(log.encode())
    _, fix = from_excerpt(excerpt)
    assert "run `./ci/check-docs.sh` locally" in fix and "pkg" not in fix, fix
    assert retrieval_only(excerpt, [RUNBOOK_XCODE])[1] == fix  # still no other toolchain's advice


def test_a_key_line_of_no_known_kind_gets_the_plain_fix_and_no_guessed_name():
    _, fix = from_excerpt(excerpt_of("deploy.sh: the release train is closed for today, try again at 09:00"))
    assert fix.startswith("Fix what line ") and "`" not in fix


RUNBOOK_NPM = Passage(text="## Symptom\nnpm ERR! enoent ENOENT: no such file or directory, open package.json\n"
                           "## Fix\nRun npm from the folder that holds package.json (`working-directory:`).",
                      score=0.7, title="npm: package.json not found", uri="runbooks/npm.md")
RUNBOOK_XCODE = Passage(text="## Symptom\nxcodebuild: error: Unable to find a destination matching the provided "
                             "destination specifier\n## Fix\nPick a simulator the runner image has: `xcrun simctl list`.",
                        score=0.7, title="Xcode destinations", uri="runbooks/xcode.md")


def test_a_runbook_fix_is_quoted_only_for_its_own_failure():
    npm = excerpt_of("npm ERR! enoent ENOENT: no such file or directory, open '/home/runner/work/a/a/package.json'")
    header = excerpt_of("src/main.cpp:3:10: fatal error: zlib.h: No such file or directory")
    assert matches(RUNBOOK_NPM, npm) and not matches(RUNBOOK_XCODE, header) and not matches(RUNBOOK_NPM, header)
    assert "(from \"npm: package.json not found\")" in retrieval_only(npm, [RUNBOOK_NPM])[1]
    fix = retrieval_only(header, [RUNBOOK_XCODE])[1]  # another toolchain's advice is not pasted
    assert "xcrun" not in fix and "zlib.h" in fix


def test_a_past_incidents_fix_for_another_test_is_not_quoted():
    log = excerpt_of("FAILED tests/test_currency.py::test_refresh_rate - ZeroDivisionError: division by zero")
    incident = Passage(text="FAILED tests/test_currency.py::test_merge_discount ZeroDivisionError\n"
                            "Resolution: Root Cause: resolve_coupon divides by zero. Fix: Run `pytest "
                            "tests/integration/test_currency.py::test_merge_discount` and fix the ZeroDivisionError "
                            "at service/views.py:223.",
                       score=0.5, title="ZeroDivisionError in resolve_coupon", uri="INC-1", kind="incident")
    assert matches(incident, log)  # same file, same runner: near, but about another test
    fix = retrieval_only(log, [incident])[1]
    assert "test_merge_discount" not in fix and "tests/test_currency.py::test_refresh_rate" in fix


def test_a_root_cause_naming_a_coordinate_the_log_does_not_show_is_set_aside():
    from bot.engine.finish import foreign_names, set_aside

    log = excerpt_of("[ERROR] Failed to execute goal on project api: Could not find artifact "
                     "com.squareup.okio:okio:jar:9.9.9 in central")
    invented = ("Maven cannot resolve org.apache.commons:commons-lang3:jar:4.23.19-SNAPSHOT", "Pin it.")
    true = ("Maven cannot find com.squareup.okio:okio:jar:9.9.9 in central", "Pin it.")
    assert foreign_names(invented[0], log.text()) == ["org.apache.commons:commons-lang3:jar:4.23.19-SNAPSHOT"]
    assert foreign_names(true[0], log.text()) == []
    assert "does not show" in set_aside(invented, log, log.text(), log_text=log.text())
    assert set_aside(true, log, log.text(), log_text=log.text()) is None


def test_a_runbook_about_this_failure_gives_the_fix_over_the_models_and_another_does_not():
    from bot.engine.finish import finish

    npm = excerpt_of("npm ERR! enoent ENOENT: no such file or directory, open '/home/runner/work/a/a/package.json'")
    done = finish(("npm cannot open package.json in the checkout.", "Run `npm install` again."), npm,
                  [RUNBOOK_XCODE, RUNBOOK_NPM])  # the matching one need not be ranked first
    assert done.problem is None and "working-directory:" in done.fix
    assert done.fix.endswith("(from \"npm: package.json not found\")")
    header = excerpt_of("src/main.cpp:3:10: fatal error: zlib.h: No such file or directory")
    kept = finish(("src/main.cpp includes zlib.h, which the runner does not have.", "Install zlib1g-dev first."),
                  header, [RUNBOOK_XCODE])
    assert kept.fix == "Install zlib1g-dev first."


def test_a_past_incident_must_share_more_with_the_failure_than_a_runbook():
    npm = excerpt_of("npm ERR! enoent ENOENT: no such file or directory, open '/home/runner/work/a/a/package.json'")
    text = "## Fix\nRun npm from the folder that holds package.json."  # shares npm, package, json
    assert matches(Passage(text=text, score=0.7, title="npm", uri="runbooks/npm.md"), npm)
    assert not matches(Passage(text=text, score=0.7, title="npm", uri="incidents#INC-1", kind="incident"), npm)
    # the words every runner prints ("exited", "done", "failed") make no match at all
    exit_log = excerpt_of('The command "./run.sh" exited with 2.\nDone. Your build exited with 1.')
    report = Passage(text="./ci.sh exited with 2, done; start again", score=0.7, title="ci", uri="incidents#2",
                     kind="incident")
    assert not matches(report, exit_log)


def test_a_neighbouring_incidents_fix_does_not_replace_the_fix_said_of_the_key_line():
    npm = excerpt_of("npm ERR! enoent ENOENT: no such file or directory, open '/home/runner/work/a/a/package.json'")
    incident = Passage(text="npm ERR! enoent ENOENT package.json during npm ci\nResolution: Root Cause: package-lock.json "
                            "was out of sync. Fix: Run `npm install` and commit package-lock.json.", score=0.7,
                       title="npm ci: lock out of sync", uri="incidents#1", kind="incident")
    assert matches(incident, npm)  # it is near this failure...
    fix = retrieval_only(npm, [incident])[1]
    assert "Make sure `package.json` exists" in fix and "lock" not in fix  # ...but the key line says more


def test_every_bundled_runbook_fix_is_quoted_whole():
    # A "Fix:" paragraph longer than the quote allows, or one the sentence splitter cuts inside
    # code (`go test ./... -update`), would be served cut off mid-sentence.
    import re
    from pathlib import Path

    from bot.engine.fallback import _FIX_PARAGRAPH, fix_section

    folder = Path(__file__).resolve().parent.parent / "retrieval" / "knowledge" / "runbooks"
    stated = 0
    for path in sorted(folder.glob("*.md")):
        for section in re.split(r"(?m)^## ", path.read_text(encoding="utf-8"))[1:]:
            paragraph = _FIX_PARAGRAPH.search(section)
            if paragraph is None:
                continue
            stated += 1
            quoted = fix_section(Passage(text="## " + section, score=1.0, title="t", uri="u", kind="runbook"))
            assert quoted.lower() == " ".join(paragraph.group(1).split()).lower(), (path.name, section[:40])
    assert stated >= 25
