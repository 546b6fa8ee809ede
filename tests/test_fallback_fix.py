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
