"""What a failure looks like in CI output: weighted line patterns, continuation and noise.

Weights are rough log-odds that a line explains a failure. They were tuned on the whole LogChunks
and CiDiff development sets (never per repository): strong, tool-specific markers score high,
generic words ("error") score low, and summary/boilerplate lines that merely mention errors score
below zero.
"""
from __future__ import annotations

import re

from retrieval.logs.fastre import MultiRegex, compile_bytes, matching_lines  # noqa: F401

# A cheap gate run over whole blocks of text (as UTF-8 bytes, with RE2 when installed, whose DFA
# scans at hundreds of MB/s where Python's backtracking engine manages a few): lines it misses get
# weight 0 without a per-line look. It must stay RE2-compatible (no lookaround, no backreferences).
GATE_PATTERN = (
    r"(?i)err|fail|exception|traceback|fatal|panic|abort|denied|cannot|can't|could not|couldn't|unable"
    r"|not found|no such|missing|invalid|unexpected|undefined|undeclared|not declared|timed? ?out|killed"
    r"|exit(?:ed)? (?:code|status|with)|expected|assert|refused|forbidden|unauthori[sz]ed|violation|problem"
    r"|crash|segmentation|out of memory|no space|not ok|✖|✗|❌|does not|did not|doesn't|didn't|conflict"
    r"|unsatisf|incompatible|unresolved|mismatch|required but|not installed|issues|severity|wrong"
    r"|no rule to make|(?m:^\s*\d+\) \S)|(?m:^_{3,} )|!!|:\d+:\d+: ?warning"
    r"|illegal|unknown (?:option|switch|argument|flag)|unrecogni[sz]ed"
)


GATE = compile_bytes(GATE_PATTERN)

_RULES: list[tuple[float, str]] = [
    # Test frameworks
    (8, r"^(?:FAIL|fail|Fail)\b|stack traceback:|^\s*\*\* \("),
    # A test runner's per-test status at the end of the line, after the name and its padding
    # (tasty "tables:   FAIL (0.06s)", ctest "Test #3: io ....***Failed", R CMD check "... ERROR")
    (8, r"\S(?::|\s{2,}|\s?\.{3,}\**)\s*(?:FAIL(?:ED)?|ERROR|\*{3}Failed)(?:\s+\(?[\d.]+\s*(?:m?s|sec)\)?)?\s*$"),
    (9, r"^\s*(?:---|===) FAIL:|^FAIL\s+\S+|^FAIL:|^\s*FAILED\s|\bFAILED\b|\bFAILURES?!|^\s*not ok\b"),
    (8, r"^\s*E\s{2,}\S|^_{3,} .* _{3,}$|AssertionError|AssertError|assert(?:ion)? failed|Assertion failed"),
    (8, r"expected:? ?<.*> but was:? ?<|[Ee]xpected .{0,80} (?:to (?:equal|be|have|contain)|but (?:got|was|received))"),
    (7, r"^\s*\d+\) \S|^\s*[✖✗×]\s|\d+ failing\b|^\s*Failed tests?:|^Tests (?:in error|run:.*Failures: [1-9])"),
    # xcpretty, fastlane, swiftlint and many CLIs mark an error with a red cross and no word "error"
    (8, r"❌\s"),
    (6, r"Tests run:.*(?:Failures: [1-9]|Errors: [1-9])|^\s*Failures?:\s*$|^\s*Errors?:\s*$|<<< (?:FAILURE|ERROR)!"),
    (6, r"Failed asserting|^\s*(?:expected|actual|got|want|received)\s*[:=]"),
    # Exceptions and traces
    (8, r"^Traceback \(most recent call last\)|^\s*[\w.$]+(?:Error|Exception|Failure)(?::|$)|^\s*Caused by:"),
    (6, r"\b(?:panic|fatal error):|^panic\b|Segmentation fault|core dumped|^\s*\*\* \(\w+Error\)|=ERROR REPORT="),
    (4, r"\bException\b|\bError:|\bERROR:|^\s*\w*Error\b"),
    # Compilers and build tools
    (9, r":\d+:\d+:?\s*(?:fatal )?error\b|:\[\d+,\d+\]|\.\w{1,5} ?\(\d+,\d+\): |\berror(?:\[E\d+\])?:|\berror [A-Z]{2,}\d{3,}:|^\s*--> \S+:\d+"),
    (8, r"\[ERROR\]|^\[error\]|^ERROR\b|^Error\b|npm ERR!|^error\b|##\[error\]|^\s*fatal:|^FATAL|^E: |^\s*\*\*\* "),
    (7, r"BUILD FAILED|BUILD FAILURE|Build failed|FAILURE: Build failed|Compilation failed|compilation failed"
        r"|Failed to execute goal|What went wrong|Execution failed for task|error: command .* failed"),
    (7, r"undefined reference|cannot find symbol|has no member|not declared|undeclared|undefined:|is not defined"
        r"|cannot resolve|unresolved (?:import|reference|external)|No rule to make target|SyntaxError|ParseError"),
    (6, r"[Cc]ould not (?:find|resolve|transfer|get|create|install|load|open|connect|read|download)"
        r"|[Cc]an(?:no|')t (?:find|resolve|open|load|locate|connect)|[Uu]nable to (?:find|resolve|locate|access|load|connect|open|compile)"),
    (6, r"No matching distribution|ResolutionImpossible|ERESOLVE|ETARGET|E404|ENOENT|EACCES|ModuleNotFoundError"
        r"|ImportError|No module named|Package .* (?:not found|required but not available)|requires .* but"),
    # A command-line tool refusing its arguments prints its usage next: the refusal is the cause
    (7, r"[Ii]llegal (?:switch|option|argument)|[Uu]nknown (?:option|switch|argument|flag)|[Uu]nrecogni[sz]ed (?:option|argument|arguments|command)"),
    (6, r"command not found|No such file or directory|[Pp]ermission denied|[Aa]ccess denied|not permitted"
        r"|Connection (?:refused|reset|timed out)|Could not resolve host|unable to access|returned error: \d{3}"),
    (6, r"[Oo]ut of memory|OutOfMemoryError|No space left on device|\b[Kk]illed\b|[Tt]imed out|[Tt]ime ?out(?:Exception|Error)"
        r"|[Tt]ime ?out(?: after| exceeded| while| waiting|!|:\s*\D)|TIMEOUT|deadline exceeded"
        r"|exceeded the maximum|took longer than|no output has been received"),
    (5, r"rake aborted|Aborting|aborted!|Problem \d+|Your requirements could not be resolved|conflicts? with"),
    (5, r"^\s*\d+:\d+\s+error\s|\(Severity: \d\)|\berror\s{2,}|^\s*✘|issues? found|[1-9]\d* (?:errors?|problems?|failures?)\b"),
    (4, r"[Mm]issing|[Ii]nvalid|[Uu]nexpected|not found|[Ff]ailed|FAILURE|\bfails?\b|\bdoes not\b|\bdid not\b"),
    (5, r":\d+:\d+:\s*[Ww]arning\b"),
    (3, r"[Ww]arning:|\bWARN(?:ING)?\b|deprecated"),
    # Exit lines: they end the failing command, so they mark where the cause is (just above)
    (5, r"exited with [1-9]|exit (?:code|status) [1-9]|returned (?:non-zero|a non-zero|exit) |Process completed with exit code [1-9]"
        r"|status code [1-9]|Error \d+$|make: \*\*\*|failed with exit code|npm ERR! code"),
]
RULES = [(w, re.compile(p)) for w, p in _RULES]
WEIGHTS = [w for w, _ in _RULES]

# Lines that mention failure words but report success, configuration or boilerplate.
NOISE = re.compile(
    r"(?i)\b0 (?:errors?|failures?|failed)\b|(?:errors?|failures?|failed):? 0\b|\bno errors?\b|-W?error|error_reporting"
    r"|--fail|fail-fast|failfast|ignore[_-]?errors?|\bon_?error|errorformat|\berror_log\b|\berror\.(?:js|py|log|h|c)"
    r"|^\s*(?:\$ )?(?:echo|export|set|shopt)\b|allow_failures|fast_finish|\bif\b.*\bthen\b"
    r"|Downloading|Downloaded|Progress|Receiving objects|Resolving deltas|Unpacking objects|Installing|Collecting"
    r"|Requirement already|Already installed|Using cached|Get:\d+|Hit:\d+|Ign:\d+|Selecting previously|Preparing to unpack"
    r"|Setting up|Processing triggers|^\s*[A-Z][\w ]*time-?out\s*[:=]\s*[\d.]+\s*(?:minutes?|seconds?|secs?|ms|s|m)?\s*$"
    r"|^/home/travis/\.travis/functions: eval:|License Exception TSU|Export Administration Regulations|\bok\b\s*$|\bPASS(?:ED)?\b|\bpassed\b|✓|✔|BUILD SUCCESS|Tests run:.*Failures: 0, Errors: 0"
)
# Summaries that a tool prints after the real failure ("BUILD FAILED", "FAILURES!", "1 failing"):
# evidence that something failed, but the detail above them explains it better.
SUMMARY = re.compile(
    r"BUILD FAIL|Build failed|What went wrong|Execution failed for task|There were failing tests|FAILURES!"
    r"|^> Task \S+ FAILED|^:\S+ FAILED$|tests? completed, \d+ failed|Tests run:.*Failures|\d+ failing\b|\d+ failed\b"
    r"|ERR! code ELIFECYCLE|ERR! errno|exited with \d|make: \*\*\*|Process completed with exit code|Error: Process completed"
    r"|Tests: +\d+ failed|^FAILED \(|^Ran \d+ tests?|Test Suites: \d+ failed|^ERROR: Job failed|Your build exited"
    r"|To see the full stack trace|Re-run Maven|For more information about the errors|\[Help 1\]|See the report at"
    r"|^Test suite \S+: FAIL|^FAIL\s*$|^FAIL\s+\S+\s+[\d.]+s\s*$|(?i:one or more tests? failed|\d+ of \d+ test tasks? failed)"
)
SUMMARY_WEIGHT = 5.0
# A line a tool itself files as a warning ("[warn] ...", "[WARNING] ...", "warning: ...") is not the
# failure, whatever words follow ("Could not find any member to link"): it is capped low.
WARN_PREFIX = re.compile(r"^\s*(?:\[(?:warn|WARN|WARNING|warning)\]|(?:warning|WARNING|Warning|WARN|W):\s)")
WARN_WEIGHT = 3.0
_NOISE_INDEX = len(_RULES)
_SUMMARY_INDEX = len(_RULES) + 1
_EXIT_INDEX = len(_RULES) + 2
_RETRY_INDEX = len(_RULES) + 3
_WARN_INDEX = len(_RULES) + 4

# Lines that carry on a failure block (traces, indented detail, diffs), so a block keeps them whole.
CONTINUATION = re.compile(
    r"^\s+\S|^\s*at\s|^\s*File \"|^\s*Caused by|^\s*\.\.\. \d+ more|^[-+]{1,3}[^-+]|^@@|^\s*[|│^~]|^\s*\d+\s*[|│]"
    r"|^\s*(?:E|>)\s|^\s*#\d+\s|^\s*\[?\d+[,:]\d+\]?|^\s*(?:expected|actual|got|want|received|Diff)"
    r"|^\s*(?:Caused|Reason|Stack|Traceback|Message|Error|Exception)"
)
# CI scaffolding that marks the start of a new command or step; a block never crosses one.
BOUNDARY = re.compile(
    r"^\$ |^\+ \S|^##\[(?:group|endgroup)\]|^travis_(?:fold|time)|^section_(?:start|end):|^\[Pipeline\]"
    r"|^Step \d+/\d+|^#\d+ \[|^> Task |^\[INFO\] --- |^Run |^==> |^-{5,}$|^={5,}$"
)
# A test that passed: indented like detail, but the end of a failure's output, not part of it.
PASSED = re.compile(r"^\s*(?:[✓✔√]|ok\b)|\bPASS(?:ED)?\b")
# Retry evidence: a failure that went away on its own.
RETRY = re.compile(r"(?i)\bretry(?:ing)?\b|\brerun\b|\battempt \d+ of \d+|flaky|Retrying, \d of \d")

# CiDiff-style normalisation: digits, hashes, timestamps and durations differ between runs.
_MASK = re.compile(
    r"\d{4}-\d\d-\d\d[T ][\d:.]+Z?|\b[0-9a-f]{7,64}\b|0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:ms|s|m|h|KB|MB|GB|kB|B)?\b"
    r"|/tmp/\S+|/var/folders/\S+"
)
_GHA_TS = re.compile(r"^\s*\d{4}-\d\d-\d\dT[\d:.]+Z\s?")
# Test-runner progress dots in front of a message ("......E...PHP Fatal error: ...") differ between
# repeats of the same message, so they are not part of its identity.
_PROGRESS = re.compile(r"^[.EFSIRW]*\.\.\.[.EFSIRW]*")
_PROGRESS_M = re.compile(r"^[.EFSIRW]*\.\.\.[.EFSIRW]*", re.M)
_GHA_TS_M = re.compile(r"^\s*\d{4}-\d\d-\d\dT[\d:.]+Z\s?", re.M)
# The end of a failing command: its cause is in the lines just above.
EXIT = re.compile(
    r"exited with [1-9]|exit (?:code|status) [1-9]|Process completed with exit code [1-9]"
    r"|ERROR: Job failed|failed with exit code|BUILD FAILURE|BUILD FAILED|FAILURE: Build failed"
    r"|npm ERR! code ELIFECYCLE|Exited with code|returned (?:a )?non-zero exit"
)
# A run that reports success at its end.
SUCCESS = re.compile(
    r"BUILD SUCCESS|BUILD SUCCESSFUL|exited with 0\.|Job succeeded|Finished: SUCCESS|Process completed with exit code 0"
    r"|\b\d+ passed\b(?!.*\b(?:failed|error))|^OK\b|^ok\s+\S|All tests passed|Tests passed"
)
# The first line of a command or step: a failure's output never reaches back past one.
SEGMENT_START = re.compile(
    r"^\$ |^##\[group\]|^section_start:|^\[Pipeline\] \{ \(|^travis_fold:start:|^> Task :|^Step \d+/\d+ :"
)
# Scaffolding lines that carry no evidence (Travis timers and folds, GitLab sections, group ends).
SCAFFOLD = re.compile(r"^travis_(?:time|fold):|^section_(?:start|end):|^##\[endgroup\]|^\s*$")


def normalise(text: str) -> str:
    """The form of a line that survives a rerun: compared between failing and passing logs."""
    return " ".join(_MASK.sub("#", _PROGRESS.sub("", _GHA_TS.sub("", text))).split())


def normalise_block(text: str) -> list[str]:
    """normalise() for every line of a "\n"-joined block, with one regex pass over the block."""
    masked = _MASK.sub("#", _PROGRESS_M.sub("", _GHA_TS_M.sub("", text)))
    return [" ".join(line.split()) for line in masked.split("\n")]


# A line's timestamp prefix as GitHub Actions, Jenkins ("[2024-01-19T06:18:50.996Z] ") and
# GitLab's raw trace ("2024-11-27T12:12:20.030223Z 00O ") write it.
_TS_PREFIX = re.compile(r"^\s*(?:\[\d{4}-\d\d-\d\d[T ][\d:.]+Z?\]|\d{4}-\d\d-\d\dT[\d:.]+Z)\s?(?:\d\d[OE]\+?\s)?")


def strip_prefix(text: str) -> str:
    """The line without a leading CI timestamp (GitHub Actions, Jenkins, GitLab)."""
    if not text or not (text[0] in "[0123456789" or text[0].isspace()):
        return text
    return _TS_PREFIX.sub("", text, count=1)


def strip_timestamp(text: str) -> str:
    """The line without a leading GitHub Actions timestamp."""
    if not text or not (text[0].isdigit() or text[0].isspace()):
        return text  # the common case, without a regex call
    return _GHA_TS.sub("", text, count=1)


_LINE_SET = MultiRegex([p for _, p in _RULES]
                       + [NOISE.pattern, SUMMARY.pattern, EXIT.pattern, RETRY.pattern, WARN_PREFIX.pattern])


def analyse(text: str) -> tuple[float, bool, bool]:
    """(weight, ends a failing command, shows a retry) for one line, in one multi-pattern pass."""
    body = strip_timestamp(text)
    if not body.strip() or len(body) > 5000:
        return 0.0, False, False
    hits = _LINE_SET.matches(body)
    if not hits:
        return 0.0, False, False
    best = max((WEIGHTS[i] for i in hits if i < _NOISE_INDEX), default=0.0)
    if best and _NOISE_INDEX in hits:
        best = best * 0.3 if best < 8 else best * 0.6
    if _SUMMARY_INDEX in hits:
        best = min(best, SUMMARY_WEIGHT)
    if _WARN_INDEX in hits:
        best = min(best, WARN_WEIGHT)
    is_exit = _EXIT_INDEX in hits and "Your build exited" not in body
    return best, is_exit, _RETRY_INDEX in hits


def line_weight(text: str) -> float:
    """How strongly one line suggests the failure's cause (0 = not at all)."""
    return analyse(text)[0]
