"""Name the failing step and the failure category (ids from taxonomy.CATEGORIES).

`StepTracker` follows CI step markers as lines stream past (GitHub Actions groups, GitLab sections,
Travis folds and commands, Jenkins pipeline stages, CircleCI, Gradle tasks, Maven plugin goals).
`classify` votes over the excerpt's lines with weighted patterns; the first-matching strong signal
in the failure block counts most, since later lines are often consequences.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from retrieval.logs.fastre import compile_bytes
from retrieval.logs.signals import strip_timestamp

# (category, weight, pattern). Specific causes outrank the generic "a test failed" signal.
_RULES: list[tuple[str, float, str]] = [
    ("resources", 9, r"(?i)out of memory|OutOfMemoryError|Cannot allocate memory|No space left on device|disk (?:quota|full)"
                     r"|ENOSPC|\bOOM\b|oom-?kill|exit code 137|\bKilled\b|MemoryError|heap space|GC overhead"),
    ("timeout", 9, r"(?i)timed? ?out|timeout|no output has been received|took longer than|exceeded the (?:maximum )?time"
                   r"|deadline exceeded|job exceeded|maximum execution time"),
    ("auth", 8, r"(?i)permission denied|access denied|unauthori[sz]ed|\b401\b|\b403\b|forbidden|authentication (?:failed|required)"
                r"|invalid (?:credentials|token|api key)|bad credentials|not authorized|EACCES|requires authentication"
                r"|secret .* not (?:found|set)|could not read Username"),
    ("container", 8, r"(?i)docker(?:file)?|buildkit|\bimage\b.*(?:not found|pull)|manifest unknown|failed to solve"
                     r"|executor failed running|container .* (?:exited|failed)|kubectl|ImagePullBackOff|CrashLoopBackOff"),
    ("infrastructure", 7, r"(?i)could not resolve host|connection (?:refused|reset|timed out)|network is unreachable"
                          r"|temporary failure in name resolution|\b50[0234]\b|service unavailable|bad gateway"
                          r"|error cloning|unable to access|remote end hung up|TLS handshake|protocol_version"
                          r"|rate limit|runner .* (?:lost|system failure)|The operation was canceled|ECONNRESET|ETIMEDOUT"
                          r"|ssl|certificate verify failed|fatal: Remote branch .* not found|could not create connection"),
    ("dependency", 7, r"(?i)could not (?:resolve|find|transfer) (?:artifact|dependenc|dependencies|plugin)|failed to resolve"
                      r"|No matching distribution|ResolutionImpossible|ERESOLVE|ETARGET|E404|npm ERR! 404|ModuleNotFoundError"
                      r"|No module named|ImportError|cannot find module|package .* (?:not found|required but not available)"
                      r"|requirements could not be resolved|unsatisfiable|version solving failed|could not find a version"
                      r"|conflicting dependencies|dependency (?:resolution|conflict)|lock ?file|go: .*(?:missing|unknown revision)"
                      r"|gem .* not found|bundler|Could not find gem|The requested package|Missing library|cannot be resolved"),
    ("lint", 7, r"(?i)checkstyle|eslint|tslint|stylelint|flake8|pylint|rubocop|ktlint|golint|gofmt|staticcheck|prettier"
                r"|black would reformat|would reformat|isort|mypy|clippy|shellcheck|lint|code style|style (?:check|violation)"
                r"|formatting|\[checkstyle\]|\(Severity: \d\)|not properly formatted|spotless|perlcritic|trailing whitespace"
                r"|no-missing-eof-newline|line longer than|\bPMD\b|findbugs|spotbugs|codenarc"),
    ("docs", 8, r"(?i)javadoc|sphinx|docstring|documentation|mkdocs|jekyll|readme|broken link|\b404\b.*http|dead link"
                r"|doc(?:s)? build|rustdoc|spelling|markdown"),
    ("configuration", 6, r"(?i)invalid (?:configuration|config|yaml|option|workflow)|unknown (?:option|flag|property|argument)"
                         r"|yaml|\.travis\.yml|workflow is not valid|no such option|unrecognized (?:option|arguments)"
                         r"|command not found|No Rakefile found|No such file or directory|not installed|is not set"
                         r"|undefined variable|environment variable|Task .* not found|Task never defined|missing script"),
    ("compilation", 7, r"(?i)compil(?:e|ation|er)|cannot find symbol|undefined reference|syntax ?error|\berror\[E\d+\]"
                       r"|\berror (?:CS|TS|C)\d+|:\d+:\d+: (?:fatal )?error|:\[\d+,\d+\]|undeclared|not declared|\btype error\b"
                       r"|incompatible types|does not compile|build failed|linker|ld returned|make: \*\*\*|undefined: "
                       r"|cannot be applied to|has no member|expected .* before|could not compile|javac|tsc\b"),
    ("test", 5, r"(?i)\btests?\b.*(?:fail|error)|FAILED|FAIL[: ]|assert|expected|but was|failing|not ok|Failures?:|"
                r"^\s*\d+\) |pytest|unittest|junit|surefire|jest|mocha|rspec|phpunit|--- FAIL|Tests run:|spec"),
]
RULES = [(cat, w, re.compile(p)) for cat, w, p in _RULES]
# Tool names also appear in file paths and package names (a project called checkstyle, a docs/
# folder): for these categories only words outside paths vote.
_NAMED_ONLY = {"lint", "docs"}
# Paths and dotted names are blanked before the rules that must not match inside a name. Done per
# token (one linear pass), because a pattern like [\w.-]*/ backtracks quadratically on a 60k-char
# run with no '/' in it.
_TOKEN = re.compile(r"[\w.@~/-]+")
_DOTTED = re.compile(r"\w+(?:\.\w+){2,}")


def strip_paths(text: str) -> str:
    return _TOKEN.sub(lambda m: " " if "/" in m.group() or (m.group().count(".") >= 2 and _DOTTED.search(m.group()))
                      else m.group(), text)
_FLAKY = re.compile(r"(?i)flaky|rerun(?:ning)? failed|passed on (?:re)?try|attempt \d+ of \d+ (?:passed|succeeded)"
                    r"|retry \d+/\d+")

_STEP_PATTERNS = [
    re.compile(r"^##\[group\](?P<name>.+)$"),                                    # GitHub Actions
    re.compile(r"^(?P<job>[^\t]{1,120})\t(?P<name>[^\t]{1,200})\t\d{4}-\d\d-\d\dT"),  # GHA UI download
    re.compile(r"^section_start:\d+:(?P<name>[\w.-]+)"),                          # GitLab
    re.compile(r"^travis_fold:start:(?P<name>[\w.-]+)"),                         # Travis
    re.compile(r"^\[Pipeline\] \{ \((?P<name>[^)]+)\)"),                          # Jenkins stage
    re.compile(r"^\[Pipeline\] (?:stage|node) ?\((?P<name>[^)]+)\)"),
    re.compile(r"^> Task (?P<name>:\S+)"),                                       # Gradle
    re.compile(r"^\[INFO\] --- (?P<name>[\w.-]+:[\w.-]+:[\w.-]+)"),               # Maven plugin goal
    re.compile(r"^#!/bin/(?:ba)?sh -eo pipefail$"),                               # CircleCI step shell
    re.compile(r"^\$ (?P<name>.{1,200})"),                                        # Travis command
    re.compile(r"^Step \d+/\d+ : (?P<name>.{1,200})"),                            # docker build
]
# A line that names the failed step outright beats the tracker's guess.
_FAILED_STEP = [
    re.compile(r"The command \"(?P<name>.{1,300})\" (?:exited with [1-9]\d*|failed)"),  # Travis
    re.compile(r"^> Task (?P<name>:\S+) FAILED"),                                       # Gradle
    re.compile(r"Execution failed for task '(?P<name>[^']+)'"),
    re.compile(r"Failed to execute goal (?P<name>\S+)"),                                # Maven
    re.compile(r"ERROR: Job failed|ERROR: Step ‘(?P<name>[^’]+)’ failed"),                # GitLab / Jenkins
]
STEP_TRIGGER = compile_bytes(
    r"(?m)^(?:\s*\d{4}-\d\d-\d\dT[\d:.]+Z )?(?:\$ |##\[group\]|Step \d+/\d+ :|section_start:|travis_fold:start:"
    r"|\[Pipeline\] [{sn]|> Task :|\[INFO\] --- |#!/bin/(?:ba)?sh -eo pipefail)"
    r"|^[^\t\n]{1,120}\t[^\t\n]{1,200}\t\d{4}-|The command \"|Execution failed for task|Failed to execute goal|ERROR: Step"
)


def _clean(name: str) -> str:
    name = name.strip()
    return name[4:].strip() if name.startswith("Run ") else name


def _combine(patterns: list[re.Pattern]) -> re.Pattern:
    """One alternation with numbered groups, so a line costs one search, not one per format."""
    parts = []
    for i, rx in enumerate(patterns):
        parts.append(f"(?P<p{i}>{rx.pattern.replace('(?P<name>', f'(?P<name{i}>').replace('(?P<job>', f'(?P<job{i}>')})")
    return re.compile("|".join(parts))


_STEP_RX = _combine(_STEP_PATTERNS)
_FAILED_RX = _combine(_FAILED_STEP)


def _name(m: re.Match) -> str | None:
    i = m.lastgroup[1:] if m.lastgroup else ""
    return m.groupdict().get(f"name{i}")


class StepTracker:
    """Knows the step a line belongs to, from the markers seen so far."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.failed: str | None = None

    def feed(self, text: str) -> None:
        body = strip_timestamp(text)
        if self.failed is None:
            m = _FAILED_RX.search(body)
            if m:
                name = _name(m)
                self.failed = _clean(name) if name else self.current
                return
        m = _STEP_RX.search(body) or _STEP_RX.match(text)
        if m:
            name = _name(m)
            self.current = _clean(name) if name else "CircleCI step"


def classify(lines: Iterable[str], retried: bool = False) -> str:
    """The taxonomy id that best explains the given failure lines."""
    scores: dict[str, float] = {}
    texts = [strip_timestamp(t) for t in lines]
    for pos, text in enumerate(texts):
        # Earlier lines in the excerpt are closer to the cause; later ones are often fallout.
        decay = 1.0 / (1.0 + pos / 10)
        bare = strip_paths(text)
        for cat, w, rx in RULES:
            if rx.search(bare if cat in _NAMED_ONLY else text):
                scores[cat] = scores.get(cat, 0.0) + w * decay
    if retried and any(_FLAKY.search(t) for t in texts):
        return "flaky"
    if not scores:
        return "unknown"
    return max(scores.items(), key=lambda kv: kv[1])[0]
