"""Excerpt extraction: formats, tools, whole blocks, first failure, pass-log diff, bad input."""
from __future__ import annotations

import gzip
import io

import pytest

from retrieval.errors import InputError
from retrieval.logs.classify import classify
from retrieval.logs.evidence import key_line
from retrieval.logs.excerpt import extract
from retrieval.logs.reader import MAX_LINE_CHARS, iter_lines
from retrieval.logs.taxonomy import IDS


def _noise(n: int, prefix: str = "[INFO] Downloading artifact") -> str:
    return "".join(f"{prefix} lib{i}-1.{i % 7}.jar\n" for i in range(n))


def _texts(ex) -> str:
    return "\n".join(ln.text for ln in ex.lines)


# -- reader -----------------------------------------------------------------------------------
def test_line_numbers_follow_crlf_cr_and_lf_like_the_scorer():
    raw = "one\r\ntwo\rthree\nfour\r\n\r\nsix"
    lines = list(iter_lines(raw.encode()))
    assert [(ln.n, ln.text) for ln in lines] == [(1, "one"), (2, "two"), (3, "three"), (4, "four"), (5, ""), (6, "six")]


def test_a_cleared_line_before_crlf_is_its_own_line_like_the_scorer():
    # Travis writes "\r\x1b[0K\r\n": without its escape code the lone \r is still a line end.
    raw = b"fold:end\r\x1b[0K\r\n\r\nnext\r\n"
    assert [(ln.n, ln.text) for ln in iter_lines(raw)] == [(1, "fold:end"), (2, ""), (3, ""), (4, "next")]


def test_an_escape_code_cut_by_the_read_block_boundary_is_still_stripped():
    from retrieval.logs import reader
    head = b"x" * (reader.SNIFF_BYTES - 3) + b"\n"  # the escape code straddles the first read
    lines = list(iter_lines(io.BytesIO(head + b"\x1b[32;1mchanges detected\x1b[0m\n")))
    assert lines[1].text == "changes detected"


def test_reader_accepts_gzip_paths_streams_and_text(tmp_path):
    p = tmp_path / "log.gz"
    p.write_bytes(gzip.compress(b"a\nb\n"))
    assert [ln.text for ln in iter_lines(p)] == ["a", "b"]
    assert [ln.text for ln in iter_lines(str(p))] == ["a", "b"]
    assert [ln.text for ln in iter_lines(io.BytesIO(b"x\r\ny"))] == ["x", "y"]
    assert [ln.text for ln in iter_lines("first line\nsecond")] == ["first line", "second"]


def test_reader_strips_ansi_and_replaces_invalid_utf8():
    lines = list(iter_lines(b"\x1b[31mred\x1b[0m \xff\xfe ok\n"))
    assert lines[0].text == "red \ufffd\ufffd ok"


def test_ten_megabyte_line_is_cut_and_counted_once():
    raw = b"start\n" + b"x" * (10 * 1024 * 1024) + b"\nerror: after the long line\n"
    lines = list(iter_lines(raw))
    assert [ln.n for ln in lines] == [1, 2, 3]
    assert len(lines[1].text) == MAX_LINE_CHARS
    assert lines[2].text == "error: after the long line"


def test_binary_junk_is_an_input_error_naming_the_file(tmp_path):
    p = tmp_path / "core.bin"
    p.write_bytes(b"\x00\x01\x02\x03" * 5000)
    with pytest.raises(InputError, match="core.bin"):
        extract(p)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="nope.log"):
        extract(tmp_path / "nope.log")


# -- bad input and no failure -------------------------------------------------------------
def test_empty_log_has_no_failure():
    ex = extract(b"")
    assert ex.has_failure is False and ex.lines == [] and ex.category == "unknown"


def test_passing_log_says_no_failure():
    log = _noise(200) + "[INFO] Tests run: 12, Failures: 0, Errors: 0, Skipped: 0\n[INFO] BUILD SUCCESS\n"
    ex = extract(log)
    assert ex.has_failure is False
    assert ex.category == "unknown"


def test_invalid_utf8_and_crlf_failure_keeps_scorer_line_numbers():
    raw = b"setup\r\nok\r" + b"\xff\xfe garbage\n" + b"Traceback (most recent call last):\r\n" \
        b'  File "app.py", line 3, in <module>\r\nZeroDivisionError: division by zero\r\n'
    ex = extract(raw)
    got = {ln.n: ln.text for ln in ex.lines}
    assert got[4] == "Traceback (most recent call last):"
    assert got[6] == "ZeroDivisionError: division by zero"


# -- tools and formats ------------------------------------------------------------------------
CASES = {
    "pytest": (
        "============================= FAILURES =============================\n"
        "___________________________ test_total ___________________________\n\n"
        "    def test_total():\n>       assert total([1, 2]) == 4\nE       assert 3 == 4\n"
        "E        +  where 3 = total([1, 2])\n\ntests/test_cart.py:12: AssertionError\n"
        "=========================== short test summary info ===========================\n"
        "FAILED tests/test_cart.py::test_total - assert 3 == 4\n",
        ["E       assert 3 == 4", "tests/test_cart.py:12: AssertionError"], "test"),
    "maven-surefire": (
        "[INFO] Running com.acme.CartTest\n"
        "[ERROR] Tests run: 3, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.1 s <<< FAILURE! - in com.acme.CartTest\n"
        "[ERROR] totalIncludesTax(com.acme.CartTest)  Time elapsed: 0.01 s  <<< FAILURE!\n"
        "java.lang.AssertionError: expected:<107> but was:<100>\n\tat org.junit.Assert.fail(Assert.java:88)\n"
        "\tat com.acme.CartTest.totalIncludesTax(CartTest.java:42)\n",
        ["java.lang.AssertionError: expected:<107> but was:<100>", "CartTest.java:42"], "test"),
    "gradle-compile": (
        "> Task :compileJava\n/src/main/java/App.java:12: error: cannot find symbol\n        Foo.bar();\n"
        "        ^\n  symbol:   variable Foo\n1 error\n\n> Task :compileJava FAILED\n\nFAILURE: Build failed with an exception.\n",
        ["App.java:12: error: cannot find symbol", "symbol:   variable Foo"], "compilation"),
    "npm": (
        "> app@1.0.0 build\n> tsc -p .\n\nsrc/index.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\n"
        "npm ERR! code ELIFECYCLE\nnpm ERR! errno 2\nnpm ERR! app@1.0.0 build: `tsc -p .`\n",
        ["error TS2322: Type 'string' is not assignable"], "compilation"),
    "pip": (
        "Collecting requests==99.0\n"
        "ERROR: Could not find a version that satisfies the requirement requests==99.0 (from versions: 2.31.0)\n"
        "ERROR: No matching distribution found for requests==99.0\n",
        ["No matching distribution found for requests==99.0"], "dependency"),
    "go-test": (
        "=== RUN   TestParse\n    parse_test.go:21: got \"a\", want \"b\"\n--- FAIL: TestParse (0.00s)\nFAIL\n"
        "FAIL\tgithub.com/acme/parse\t0.012s\n",
        ["--- FAIL: TestParse (0.00s)", 'parse_test.go:21: got "a", want "b"'], "test"),
    "cargo": (
        "   Compiling app v0.1.0 (/work)\nerror[E0308]: mismatched types\n --> src/main.rs:4:18\n  |\n"
        "4 |     let x: u32 = \"five\";\n  |            ---   ^^^^^^ expected `u32`, found `&str`\n\n"
        "error: could not compile `app` due to previous error\n",
        ["error[E0308]: mismatched types", "--> src/main.rs:4:18"], "compilation"),
    "jest": (
        " FAIL  src/sum.test.js\n  ● sum › adds numbers\n\n    expect(received).toBe(expected) // Object.is equality\n\n"
        "    Expected: 4\n    Received: 3\n\n      at Object.<anonymous> (src/sum.test.js:4:19)\n\n"
        "Tests:       1 failed, 3 passed, 4 total\n",
        ["FAIL  src/sum.test.js", "Expected: 4"], "test"),
    "docker-buildkit": (
        "#7 [3/5] RUN pip install -r requirements.txt\n#7 1.2 ERROR: Could not open requirements file: [Errno 2] "
        "No such file or directory: 'requirements.txt'\n#7 ERROR: process \"/bin/sh -c pip install -r requirements.txt\" "
        "did not complete successfully: exit code: 1\n------\nERROR: failed to solve: process \"/bin/sh -c pip install\" "
        "did not complete successfully: exit code: 1\n",
        ["No such file or directory: 'requirements.txt'"], None),
    "terraform": (
        "Terraform v1.5.0\n\x1b[31m╷\x1b[0m\n\x1b[31m│\x1b[0m \x1b[1m\x1b[31mError: \x1b[0mInvalid reference\n"
        "│ \n│   on main.tf line 12, in resource \"aws_s3_bucket\" \"b\":\n│   12:   bucket = var.nme\n╵\n",
        ["Error: Invalid reference", "on main.tf line 12"], None),
    "kubectl": (
        "$ kubectl apply -f deploy.yaml\n"
        "error: error validating \"deploy.yaml\": error validating data: ValidationError(Deployment.spec): "
        "unknown field \"replica\" in io.k8s.api.apps.v1.DeploymentSpec\n",
        ["unknown field \"replica\""], None),
    "dotnet": (
        "  Determining projects to restore...\n/src/App/Program.cs(10,13): error CS0103: The name 'foo' does not "
        "exist in the current context [/src/App/App.csproj]\nBuild FAILED.\n",
        ["error CS0103: The name 'foo' does not exist"], "compilation"),
    "rspec": (
        "Failures:\n\n  1) Cart#total includes tax\n     Failure/Error: expect(cart.total).to eq(107)\n\n"
        "       expected: 107\n            got: 100\n     # ./spec/cart_spec.rb:8:in `block (3 levels) in <top (required)>'\n\n"
        "Finished in 0.01 seconds\n1 example, 1 failure\n",
        ["Failure/Error: expect(cart.total).to eq(107)", "expected: 107"], "test"),
    "unittest": (
        "======================================================================\nFAIL: test_add (test_math.TestMath)\n"
        "----------------------------------------------------------------------\nTraceback (most recent call last):\n"
        '  File "test_math.py", line 6, in test_add\n    self.assertEqual(add(1, 2), 4)\nAssertionError: 3 != 4\n',
        ["FAIL: test_add (test_math.TestMath)", "AssertionError: 3 != 4"], "test"),
}


@pytest.mark.parametrize("tool", sorted(CASES))
def test_tool_failure_block_is_found(tool):
    body, wanted, category = CASES[tool]
    log = _noise(300) + body + "The command \"make ci\" exited with 1.\n" + _noise(20, "uploading cache")
    ex = extract(log)
    text = _texts(ex)
    assert ex.has_failure
    for w in wanted:
        assert w in text, (w, text)
    if category:
        assert ex.category == category
    assert ex.category in IDS
    assert [ln.n for ln in ex.lines] == sorted(ln.n for ln in ex.lines)


def test_github_actions_step_and_timestamps():
    log = (
        "2024-05-01T10:00:00.0000000Z ##[group]Run actions/checkout@v4\n2024-05-01T10:00:01.0000000Z ok\n"
        "2024-05-01T10:00:02.0000000Z ##[endgroup]\n2024-05-01T10:00:03.0000000Z ##[group]Run npm test\n"
        + "".join(f"2024-05-01T10:00:04.0000000Z   ✓ case {i}\n" for i in range(50))
        + "2024-05-01T10:00:05.0000000Z   ● api › returns 200\n"
        "2024-05-01T10:00:05.0000000Z     Expected: 200\n2024-05-01T10:00:05.0000000Z     Received: 500\n"
        "2024-05-01T10:00:06.0000000Z ##[error]Process completed with exit code 1.\n"
    )
    ex = extract(log)
    assert ex.step == "npm test"
    assert "Received: 500" in _texts(ex)


def test_gitlab_travis_jenkins_steps():
    gitlab = "section_start:1700000000:build_script\r\x1b[0KRunning build\nerror: foo.c:3:1: expected ';'\nmake: *** [all] Error 2\n"
    assert extract(gitlab).step == "build_script"
    travis = "$ pytest -q\nE   assert 1 == 2\nFAILED t.py::test_x\nThe command \"pytest -q\" exited with 1.\n"
    assert extract(travis).step == "pytest -q"
    jenkins = "[Pipeline] stage\n[Pipeline] { (Unit tests)\n+ ./gradlew test\nFAILED: tests failed\n"
    assert extract(jenkins).step == "Unit tests"


def test_whole_block_keeps_assertion_and_top_of_trace():
    trace = "".join(f"\tat com.acme.Frame{i}.call(Frame{i}.java:{i})\n" for i in range(40))
    log = _noise(100) + "java.lang.IllegalStateException: cart is empty\n" + trace + "[INFO] BUILD FAILURE\n"
    ex = extract(log, max_lines=10)
    text = _texts(ex)
    assert "IllegalStateException: cart is empty" in text
    assert "Frame0.call" in text and "Frame1.call" in text


def test_first_real_failure_beats_the_noise_that_follows():
    log = (_noise(100) + "src/db.c:42:7: error: 'conn' undeclared (first use in this function)\n"
           + _noise(50, "make[1]: Leaving directory")
           + "".join(f"warning: cascading failure {i}: skipped target\n" for i in range(40))
           + "make: *** [all] Error 1\n")
    ex = extract(log, max_lines=5)
    assert "'conn' undeclared" in _texts(ex)


def test_pass_log_removes_lines_that_also_fail_in_passing_runs():
    common = "WARNING: deprecated API used in build.gradle line 3\nerror: flaky network probe failed (ignored)\n"
    fail = _noise(50) + common + _noise(50) + "ERROR: migration 0042 failed: column \"email\" already exists\n"
    passing = _noise(50) + common.replace("3", "7") + _noise(50) + "migrations applied\n"
    ex = extract(fail, max_lines=2, pass_log=passing)
    text = _texts(ex)
    assert "migration 0042 failed" in text
    assert "flaky network probe" not in text


def test_excerpt_lines_are_redacted_including_multiline_keys():
    token = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    log = (_noise(20) + f"fatal: could not push with GITHUB_TOKEN={token}\n"
           "-----BEGIN RSA PRIVATE KEY-----\n  MIIEowIBAAKCAQEA7x\n-----END RSA PRIVATE KEY-----\n"
           "error: key rejected\n")
    ex = extract(log)
    text = _texts(ex)
    assert token not in text and "MIIEowIBAAKCAQEA7x" not in text
    assert ex.redactions >= 2


def test_budget_is_respected_and_lines_are_in_log_order():
    log = "".join(f"ERROR: failure number {i}\n{_noise(5)}" for i in range(100))
    ex = extract(log, max_lines=30)
    assert 0 < len(ex.lines) <= 30
    assert [ln.n for ln in ex.lines] == sorted({ln.n for ln in ex.lines})


def test_lines_repeated_by_retries_are_packed_once():
    # A restore retried four times prints the same errors each time; the copies would fill the
    # budget before the final failure and its location below them.
    errors = "".join(f"/w/src/app.csproj : error NU1605: Detected package downgrade: Lib{i}\n" for i in range(6))
    retries = (errors + "Failed to restore /w/src/app, retrying...\n") * 4
    log = (_noise(40) + "$ ./build.sh\n" + retries
           + "Execution of { dotnet restore } by build.psm1: line 519 failed with exit code 1\n"
           + "At /w/build.psm1:2038 char:17\n+   throw $errorMessage\n" + _noise(3)
           + 'The command "./build.sh" exited with 1.\n')
    ex = extract(log, max_lines=20)
    texts = [ln.text for ln in ex.lines]
    assert "Lib5" in _texts(ex) and "build.psm1:2038" in _texts(ex)
    assert len(texts) == len(set(texts))


@pytest.mark.parametrize("lines,expected", [
    (["java.lang.OutOfMemoryError: Java heap space"], "resources"),
    (["No space left on device"], "resources"),
    (["The job exceeded the maximum time limit for jobs, and has been terminated."], "timeout"),
    (["remote: Permission to org/repo.git denied to bot.", "fatal: unable to access: The requested URL returned error: 403"], "auth"),
    (["[ERROR] src/Foo.java:[3,1] (imports) UnusedImports: Unused import - java.util.List. [checkstyle]"], "lint"),
    (["ERROR: failed to solve: dockerfile parse error line 3: unknown instruction: RUNN"], "container"),
    (["fatal: unable to access 'https://github.com/x/y.git/': Could not resolve host: github.com"], "infrastructure"),
    (["Could not resolve dependencies for project com.acme:app: Could not find artifact com.acme:lib:jar:1.0"], "dependency"),
    (["[ERROR] javadoc: error - invalid flag: -Xdoclint:none"], "docs"),
    (["Error: .travis.yml: invalid configuration: unknown key 'scipt'"], "configuration"),
    (["test_api FAILED", "Retrying, 2 of 3", "rerun failed test: passed on retry"], "flaky"),
    ([], "unknown"),
])
def test_classify_maps_evidence_to_taxonomy(lines, expected):
    assert classify(lines, retried=any("Retrying" in x for x in lines)) == expected


# -- signals added for warnings, sbt/TypeScript errors and progress dots --------------------------
def test_a_tool_warning_does_not_outrank_the_real_error():
    warnings = "".join(f"[warn] /src/lib/M{i}.scala:{i}:3: Could not find any member to link for \"x{i}\".\n"
                       for i in range(40))
    log = (_noise(50) + warnings + _noise(50)
           + "[error] Test suite com.acme.ParserSpec failed: expected 3 but got 4\n" + _noise(30))
    ex = extract(log, max_lines=10)
    assert "ParserSpec failed" in _texts(ex)
    assert "Could not find any member" not in _texts(ex)


def test_a_located_compiler_warning_is_evidence_when_nothing_else_is():
    log = (_noise(200) + "src/Text/Writer.hs:38:1: Warning:\n    The import of Control.Monad is redundant\n"
           + _noise(80) + "The command \"make test\" exited with 1.\n")
    ex = extract(log, max_lines=10)
    assert "Writer.hs:38:1: Warning:" in _texts(ex)
    assert "The import of Control.Monad is redundant" in _texts(ex)


def test_typescript_location_errors_form_the_block():
    log = (_noise(100) + "[16:40:38] E/launcher - Error: TSError: Unable to compile TypeScript\n"
           + "e2e/app.e2e-spec.ts (5,1): Cannot find name 'describe'. (2304)\n"
           + "e2e/app.e2e-spec.ts (7,13): Argument of type '() => void' is not assignable. (2345)\n"
           + _noise(100) + "Done. Your build exited with 1.\n")
    text = _texts(extract(log, max_lines=10))
    assert "Cannot find name 'describe'" in text and "Unable to compile TypeScript" in text


def test_an_assertion_error_is_not_mistaken_for_on_error_configuration():
    from retrieval.logs.signals import line_weight
    # "AssertionError" contains "onError"; only the word on_error/onError is configuration.
    assert line_weight("      AssertionError: wanted viewColumn:1 but got viewColumn:2") >= 8
    assert line_weight("error_logger: started ErrorLogger with onError=ignore") < 4
    assert line_weight("unexpected logger message: {log,error_logger,crash}") >= 4


def test_double_spaced_output_forms_one_block():
    # Some CI output puts an empty line after every line; a trace must still read as one block.
    frames = "".join(f"\tframe{i}.lua:{i}: in function 'f{i}'\n\n\n" for i in range(6))
    log = (_noise(60) + "# Starting Test: dns - resolve\n\n\n"
           + "  tap.lua:83: Missing 1 expected call\n\n\n  stack traceback:\n\n\n" + frames
           + _noise(60) + "make: *** [test] Error 1\n")
    text = _texts(extract(log, max_lines=12))
    assert "Missing 1 expected call" in text
    assert "frame0.lua" in text and "frame5.lua" in text
    assert "Starting Test: dns - resolve" in text  # the title above, across its blank lines


def test_a_clear_block_is_followed_by_the_next_block_before_the_exit_tail():
    # The tail above the exit mostly repeats a clear compiler block, so the goal failure after
    # BUILD FAILURE comes next instead of the build chatter above the block.
    sep = "[INFO] " + "-" * 60 + "\n"
    log = (_noise(80) + "[INFO] Changes detected - recompiling the module!\n"
           + "[INFO] Compiling 80 source files to /w/target/classes\n" + sep
           + "[ERROR] COMPILATION ERROR : \n" + sep
           + "[ERROR] /w/src/A.java:[3,13] cannot find symbol\n  symbol:   class Foo\n  location: class A\n"
           + "[INFO] 1 error\n" + sep + sep + "[INFO] BUILD FAILURE\n" + sep
           + "[INFO] Total time:  3.1 s\n[INFO] Finished at: 2021-09-28T10:23:17+02:00\n" + sep
           + "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.1:compile"
           + " (default-compile) on project app: Compilation failure\n"
           + "".join(f"[ERROR] /w/src/A{i}.java:[3,13] cannot find symbol\n" for i in range(12))
           + "[ERROR] -> [Help 1]\n")
    text = _texts(extract(log, max_lines=30))
    assert "COMPILATION ERROR" in text and "Failed to execute goal" in text and "A11.java" in text


def test_passing_tests_end_a_failure_block():
    # Mocha lists "1) title" among the passing tests, then prints the failure's detail later;
    # the ticks after the title are not its detail, so they must not fill the budget.
    passing = "".join(f"  ✓ passes case {i}\n" for i in range(30))
    log = (_noise(40) + "$ npm test\n  cart\n  1) computes the total\n" + passing
           + "\n  30 passing\n  1 failing\n\n  1) cart computes the total:\n"
           + "     AssertionError: expected 2 to equal 3\n      at Context.<anonymous> (test/cart.js:9:5)\n"
           + _noise(3) + 'The command "npm test" exited with 1.\n')
    text = _texts(extract(log, max_lines=12))
    assert "AssertionError: expected 2 to equal 3" in text
    assert "passes case 10" not in text


def test_repeats_behind_progress_dots_count_as_one_message():
    # The same fatal error printed after different runs of progress dots is noise repeated, not
    # fresh evidence; the one assertion failure explains the run.
    fatal = "".join(f"{'.' * (5 + i)}PHP Fatal error:  Call to undefined method Case::expect() in /t/x.php\n"
                    + _noise(8) for i in range(30))
    log = (_noise(40) + "1) Acme\\Tests\\DumperTest::testDefaultSettings\n"
           + "Failed asserting that format description matches text.\n" + _noise(40) + fatal)
    assert "Failed asserting that format description" in _texts(extract(log, max_lines=30))


@pytest.mark.parametrize("lines,expected", [
    # Python's TypeError is a runtime failure, not a type checker's "type error"
    (["tests/test_api.py::test_parse FAILED", "E   TypeError: unsupported operand type(s)"], "test"),
    # a project whose packages are named after a lint tool is not failing lint
    (["Tests run: 4, Failures: 1, Errors: 0 <<< FAILURE! - in com.puppycrawl.tools.checkstyle.MainTest",
      "testMain(com.puppycrawl.tools.checkstyle.MainTest)  Time elapsed: 0.1 sec  <<< FAILURE!"], "test"),
])
def test_classify_ignores_words_that_only_look_like_evidence(lines, expected):
    assert classify(lines) == expected


def test_a_number_in_parentheses_is_not_a_numbered_test_list():
    lines = ["ANTLR Parser Generator   Version 2.7.7 (20060906)   1989-2005",
             "[INFO] PMD Failure: com.acme.Check:378 Rule:CyclomaticComplexity Priority:3 too complex"]
    assert classify(lines) == "lint"


def test_the_failure_block_outvotes_setup_lines_that_filled_the_budget():
    # A mirror's "timed out" line, early in the log, is in the excerpt only because the budget
    # had room; the test failure (the best block) decides the category.
    log = ("Connection timed out while fetching https://mirror.example/list; using the next mirror\n"
           + _noise(100) + "$ python -m unittest\n"
           + "FAIL: test_total (tests.test_cart.CartTest)\nTraceback (most recent call last):\n"
           + '  File "tests/test_cart.py", line 9, in test_total\n    self.assertEqual(cart.total(), 3)\n'
           + "AssertionError: 2 != 3\n" + _noise(5) + 'The command "python -m unittest" exited with 1.\n')
    ex = extract(log, max_lines=30)
    assert "Connection timed out" in _texts(ex)
    assert ex.category == "test"


def test_a_settings_dump_and_what_travis_runs_after_the_result_are_not_the_failure():
    # sudo -V prints "... timeout: 15.0 minutes"; after_failure's log dump has a quoting slip that
    # Travis's own functions report; after_script's docs report fails. None of them failed the job.
    log = ("Authentication timestamp timeout: 15.0 minutes\nPassword prompt timeout: 0.0 minutes\n"
           + _noise(60) + "$ mix test\n  1) test renders errors (Phoenix.RenderErrorsTest)\n"
           + "     test/render_errors_test.exs:146\n     Assertion with == failed\n"
           + "17 doctests, 656 tests, 1 failure\n" + 'The command "mix test" exited with 1.\n'
           + "travis_fold:start:after_failure.1\n$ find logs -name suite.log | awk '{print $0}\n"
           + "/home/travis/.travis/functions: eval: line 105: syntax error: unexpected end of file\n"
           + "travis_fold:end:after_failure.1\ntravis_fold:start:after_script.1\n$ mix inch.report\n"
           + "** (InchEx.Docs.Retriever.Error) module Mix.Phoenix.Context was not compiled with flag --docs\n"
           + "travis_fold:end:after_script.1\n\nDone. Your build exited with 1.\n")
    ex = extract(log, max_lines=30)
    assert "RenderErrorsTest" in key_line(ex.lines, ex.post_build).text  # the failure the job failed on
    inch = next(ln.n for ln in ex.lines if "InchEx" in ln.text)
    assert ex.focus_span[1] < inch
    assert "timestamp timeout" not in _texts(ex)
    assert "InchEx" in _texts(ex)  # still shown below it: the budget had room


def test_the_runner_summary_above_the_exit_votes_even_when_cut_from_the_excerpt():
    frames = "".join(f'  File "pkg/parser.py", line {i}, in parse_{i}\n    x = step_{i}()\n' for i in range(10))
    log = (_noise(50) + "$ coverage run test_nml.py\n" + "=" * 70 + "\nERROR: parse_index (__main__.Parse)\n"
           + "-" * 70 + "\nTraceback (most recent call last):\n" + frames
           + "ValueError: invalid literal for int() with base 10: '-'\n" + "-" * 70 + "\n"
           + "Ran 48 cases in 0.166s\n\nFAILED (failures=2, errors=2)\n"
           + 'The command "coverage run test_nml.py" exited with 1.\n')
    ex = extract(log, max_lines=8)
    assert "FAILED (failures=2" not in _texts(ex)
    assert ex.category == "test"


def test_a_command_retried_until_it_failed_is_not_flaky():
    # travis_retry retrying a command is not evidence that the failure went away
    lines = ["The command \"mvn install\" failed. Retrying, 3 of 3.",
             "[ERROR] src/Foo.java:[3,1] (imports) UnusedImports: Unused import. [checkstyle]"]
    assert classify(lines, retried=True) == "lint"


def test_a_latin1_log_is_read_not_refused_as_binary(tmp_path):
    from retrieval.logs.reader import iter_lines

    lines = [f"Übersetze Datei {i}: Größe {i} Bytes, Prüfung läuft" for i in range(200)]
    lines += ["FEHLER: Prüfsumme für paket-ä.tar.gz stimmt nicht", "Build fehlgeschlagen (Exit-Code 2)"]
    path = tmp_path / "latin1.log"
    path.write_bytes("\n".join(lines).encode("latin-1"))  # ~10% of the bytes are not UTF-8
    read = [ln.text for ln in iter_lines(path)]
    assert read[-2] == "FEHLER: Prüfsumme für paket-ä.tar.gz stimmt nicht"
    assert "\ufffd" not in "".join(read)


def test_nul_heavy_data_is_still_binary(tmp_path):
    from retrieval.errors import InputError
    from retrieval.logs.reader import iter_lines

    path = tmp_path / "core.dump"
    path.write_bytes(b"\x00\x01\x02ELF" * 5000)
    with pytest.raises(InputError, match="binary"):
        list(iter_lines(path))


def test_answers_give_the_line_numbers_an_editor_shows_when_a_log_redraws_with_a_lone_cr():
    # Travis and docker progress bars redraw with a lone \r: the scorer counts each redraw as a
    # line, an editor or the CI's log viewer does not. Evidence keeps both numbers.
    log = ("$ npm ci\r\n" + "".join(f"\rprogress {i}%" for i in range(0, 100, 10)) + "\r\n"
           + "npm ERR! enoent ENOENT: no such file or directory, open '/app/package.json'\r\n"
           + "Error: Process completed with exit code 1.\r\n").encode()
    lines = {ln.text: ln for ln in extract(log, max_lines=30).lines}
    err = lines["npm ERR! enoent ENOENT: no such file or directory, open '/app/package.json'"]
    assert err.n == 13 and err.shown == 3 and err.at == 3
    from bot.engine.fallback import from_excerpt

    cause, fix = from_excerpt(extract(log, max_lines=30))
    assert cause.startswith("the log fails at line 3:") and "(line 3)" in fix
