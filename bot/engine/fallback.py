"""Deterministic answers for when the model is missing or its output is unusable.

They are built only from what was seen: the excerpt's key line, a retrieved passage's key section,
a config check's finding. Also the baselines the answer bench compares against.
"""
from __future__ import annotations

import re
from typing import Sequence

from retrieval.logs import naming
from retrieval.logs.evidence import BRACKET_TS, key_line, terms
from retrieval.logs.grounding import STANDARD_LOWER, grounded_sentences
from retrieval.logs.identifiers import identifiers
from retrieval.logs.signals import strip_timestamp
from retrieval.types import Excerpt, LogLine, Passage

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
# A wrapped line (one not starting a bullet, heading or numbered item) continues the one above.
_WRAP = re.compile(r"\n(?![ \t]*(?:[-*#]|\d+\.|\n))[ \t]*")
_FIX_WORDS = re.compile(r"(?i)\b(fix|run|set|add|pin|use|upgrade|downgrade|rotate|retry|re-?run|remove|"
                        r"install|update|ask|contact|open|raise|restart|increase)\b")


# A runbook section's "Fix:" paragraph (or the text under a "## Fix" heading), up to the next blank
# line or heading.
_FIX_PARAGRAPH = re.compile(r"(?ims)^(?:[ \t]*fix[ \t]*:[ \t]*|#+[ \t]*fix[ \t]*\n)(\S.*?)(?:\n[ \t]*\n|\n[ \t]*#|\Z)")
_RESOLUTION = re.compile(r"(?is)root cause\s*:\s*(?P<cause>.*?)\s*fix\s*:\s*(?P<fix>.*)$")


def from_excerpt(excerpt: Excerpt, *, names: bool = True, weights=None) -> tuple[str, str]:
    """The excerpt's key line as the root cause, followed by the identifiers that the lines most
    likely to name the failure quote (retrieval.logs.naming): the key line often only says *that* a step
    failed, the file or test that failed is beside it."""
    line, said, found = _key_and_found(excerpt, "", 240, weights if names else None, 4 if names else 0)
    if line is None:
        return ("no failure line was found in the log",
                "Check that the whole log of the failing job was attached.")
    named = _listed(found)
    cause = f"the log fails at line {line.at}: {said}" + (f"; the failing lines name {named}" if named else "")
    return cause, fix_from_log(line, said, found)


# What to do about a failure, by what its key line says. Each names only what the key line
# itself shows (its file, test or package), so it is specific without inventing anything; a kind
# the key line does not show gets the plain sentence. The classifier's category is not used: it is
# right four times in five, and a fix for the wrong kind of failure misleads.
_QUOTED = re.compile(r"""['"‘“]([^'"’”]{2,120})['"’”]""")
_FILE_LINE = re.compile(r":\d+(?::\d+)?$")
_TEST_NAME = re.compile(r"(?i)(?:^|[/_.])(?:test|spec)s?(?:[/_.]|$)|[a-z]Tests?\b|\bTest[A-Z]")
_FIXES: tuple[tuple[re.Pattern, str, str], ...] = (
    # (key line pattern, which name to use, the fix); names: path, file_line, test, package, none
    (re.compile(r"(?i)no such file or directory|ENOENT|\": not found|does not exist|cannot find the path"),
     "path", "Make sure `{name}` exists where the job looks for it (line {n}): commit it, or create it in "
             "an earlier step, and check the path and the working directory."),
    (re.compile(r"(?i)could not (?:resolve|find artifact|transfer)|no matching distribution|ERESOLVE|\bE404\b"
                r"|unable to resolve|could not be resolved|no module named|cannot find module|not found in registry"),
     "package", "Make `{name}` resolvable: check its name and version, pin a version the registry has, and "
                "refresh the lock file or the dependency cache."),
    (re.compile(r":\d+(?::\d+)?:? (?:fatal )?error\b|\berror(?:\[E\d+\])?:|\berror [A-Z]{2,}\d{3,}:|cannot find symbol"),
     "file_line", "Fix the code at `{name}` that line {n} reports so that it compiles, and build locally "
                  "before pushing."),
    (re.compile(r"^\s*(?:---\s*)?FAIL(?:ED)?\b|\bFAILED\b.*(?:::|#|\.)\w|::\S+ FAILED\b|^_{3,} \S+ _{3,}$"
                r"|^\s*\d+\) \S|Tests? (?:failed|failures)"
                r"|AssertionError|assert(?:ion)? failed|expected .* (?:but|to)"),
     "test", "Run the failing test `{name}` locally and fix the code or the test's expectation so that they "
             "agree, then push."),
    (re.compile(r"(?i)timed? ?out|no output has been received|deadline exceeded|took longer than"),
     "none", "Find what ran long or hung before line {n}; raise the step's time limit only if it is "
             "legitimately slow."),
    (re.compile(r"(?i)out of memory|OutOfMemoryError|no space left on device|\bkilled\b|exit code 137"),
     "none", "Lower the job's memory or disk use (fewer parallel workers, smaller caches) or give it a "
             "larger runner."),
    (re.compile(r"(?i)permission denied|unauthori[sz]ed|\b40[13]\b|authentication (?:failed|required)|bad credentials"),
     "none", "Check the credentials or permissions that line {n} is refused with: the secret is set for this "
             "job, has not expired and has the scope it needs."),
)
# The checkout's own folder on GitHub Actions, Travis, GitLab and Jenkins runners.
_WORKSPACE = re.compile(r"^/?(?:home/\w+/(?:work|build)/[^/]+/[^/]+/|builds/[^/]+/[^/]+/|var/lib/jenkins/workspace/[^/]+/"
                        r"|Users/\w+/(?:work|build)/[^/]+/[^/]+/)")


GENERIC_FIX_START = "Fix what line "  # the fix for a key line of no kind fix_from_log knows


def fix_from_log(line: LogLine, said: str, found: Sequence[naming.Named] = ()) -> str:
    """A fix for the key line's kind of failure that names its file, test or package (or, for a
    test whose key line names neither, the failing lines' first file:line or test); for a key line
    that only says which command failed, that command; the plain "fix what line N reports" when
    the key line shows no kind we know or no such name."""
    for pattern, kind, fix in _FIXES:
        if pattern.search(said):
            name = _name(said, kind)
            if name is None and kind == "test":
                name = next((n.text for n in found if _FILE_LINE.search(n.text) or _TEST_NAME.search(n.text)), None)
            if name is not None or kind == "none":
                return fix.format(n=line.at, name=name)
            if kind == "test":
                return fix.replace(" `{name}`", "").format(n=line.at)
    command = _COMMAND_FAILED.search(said)
    if command is not None:
        # Which of the names above is that error is the model's call (or the evidence's): the
        # ranker's first pick is right too rarely to be put in an instruction.
        return (f"{GENERIC_FIX_START}{line.at} reports, the first error `{command.group(1)}` printed above it: "
                f"run `{command.group(1)}` locally to see it whole.")
    return f"{GENERIC_FIX_START}{line.at} reports; the evidence below shows its context."


# A key line that only says which command failed (Travis, the shell): what failed is above it.
_COMMAND_FAILED = re.compile(r"""The command ["'](.{1,120}?)["'] (?:exited|failed) with""")


def _name(said: str, kind: str) -> str | None:
    found = [_WORKSPACE.sub("", x) for x in identifiers(said)]
    if kind == "path":
        paths = [x for x in found + _QUOTED.findall(said) if ("/" in x or "." in x) and not _FILE_LINE.search(x)
                 and " " not in x]
        return _WORKSPACE.sub("", paths[-1].strip("/")) if paths else None
    if kind == "package":
        quoted = [q for q in _QUOTED.findall(said) if " " not in q]
        return quoted[-1] if quoted else (found[-1] if found else None)
    if kind == "file_line":
        return next((x for x in found if _FILE_LINE.search(x)), None)
    if kind == "test":
        return next((x for x in found if "::" in x or "#" in x or _TEST_NAME.search(x)), None)
    return None


def with_names(cause: str, excerpt: Excerpt, at_most: int = 4) -> str:
    """A model's root cause followed by the log's key line and the identifiers the failing lines
    name that it leaves out: the reader sees the line that proves it and which file or test to
    open even when the model only paraphrased (or, being small, garbled a name)."""
    line, said, named = _key_and_names(excerpt, cause, 200, None, at_most)
    parts = [f"line {line.at}: {said}"] if line is not None and said and said.lower() not in cause.lower() else []
    parts += [f"the failing lines name {named}"] if named else []
    return f"{cause.rstrip('. ')} ({'; '.join(parts)})" if parts else cause


def _key_and_names(excerpt: Excerpt, said_already: str, limit: int, weights, at_most: int):
    """(key line, its text as quoted, "a (line n), b (line m)" for the names neither quote has)."""
    line, said, found = _key_and_found(excerpt, said_already, limit, weights, at_most)
    return line, said, _listed(found)


def _key_and_found(excerpt: Excerpt, said_already: str, limit: int, weights, at_most: int):
    """(key line, its text as quoted, the names neither quote has)."""
    line = key_line(excerpt.lines, excerpt.post_build)
    said = BRACKET_TS.sub("", strip_timestamp(line.text)).strip()[:limit] if line is not None else ""
    found = naming.named(excerpt, skip=f"{said_already}\n{said}", at_most=at_most, weights=weights) if at_most else []
    return line, said, found


def _listed(found: Sequence[naming.Named]) -> str:
    return ", ".join(f"{n.text} (line {n.line})" for n in found)


def body(passage: Passage) -> str:
    """A passage's text without the heading line the index puts first."""
    text = passage.text or ""
    first, _, rest = text.partition("\n")
    if rest and (first.strip() == passage.title.strip() or " > " in first or first.strip() in passage.heading_path):
        text = rest
    return _WRAP.sub(" ", text.strip())


def resolution(passage: Passage) -> tuple[str, str] | None:
    """(cause, fix) written in an incident's "Resolution: Root Cause: ... Fix: ..." section."""
    _, found, tail = (passage.text or "").rpartition("Resolution:")
    match = _RESOLUTION.search(tail if found else "")
    if not match:
        return None
    return " ".join(match.group("cause").split()), " ".join(match.group("fix").split())


def key_section(passage: Passage, question: str, max_chars: int = 320) -> str:
    """The sentences of a passage that share most words with the question, in their order."""
    sentences = [s.strip() for s in _SENTENCE.split(body(passage)) if s and s.strip()]
    sentences = [s.lstrip("#-* ").strip() for s in sentences]
    sentences = [s for s in sentences if len(s) > 2]
    if not sentences:
        return ""
    wanted = terms(question)
    scored = sorted(range(len(sentences)),
                    key=lambda i: (-len(terms(sentences[i]) & wanted), i))
    keep, used = [], 0
    for i in scored:
        if used + len(sentences[i]) > max_chars and keep:
            break
        keep.append(i)
        used += len(sentences[i]) + 1
    return " ".join(sentences[i] for i in sorted(keep))[:max_chars]


def fix_section(passage: Passage, max_chars: int = 320) -> str:
    """What a passage says to do (for the fix field): an incident's resolution, a section's "Fix:"
    paragraph, else its first sentences that read like an instruction; whole sentences only."""
    known = resolution(passage)
    if known:
        return _whole_sentences([known[1]], max_chars)
    labelled = _FIX_PARAGRAPH.search(passage.text or "")  # on the raw text: body() joins paragraphs
    text = _WRAP.sub(" ", labelled.group(1).strip()) if labelled else body(passage)
    sentences = [s.strip().lstrip("#-* ").strip() for s in _SENTENCE.split(text) if s.strip()]
    steps = sentences if labelled else [s for s in sentences if _FIX_WORDS.search(s)]
    return _whole_sentences(steps or sentences[:2], max_chars)


def _whole_sentences(sentences: list[str], max_chars: int) -> str:
    """As many of `sentences` as fit in `max_chars`; at least the first (cut at a word if it must be)."""
    kept, used = [], 0
    for sentence in sentences:
        if kept and used + len(sentence) + 1 > max_chars:
            break
        kept.append(sentence)
        used += len(sentence) + 1
    text = " ".join(kept)
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0].rstrip(",;: ") + "…"
    first = text.split(" ", 1)[0]
    # "pick a simulator" reads as a sentence once capitalised; "npm ci" or `make` must stay as typed
    return text[:1].upper() + text[1:] if first.isalpha() and first.lower() not in STANDARD_LOWER else text


def from_passage(passage: Passage, question: str) -> tuple[str, str]:
    """Quote a retrieved passage's key section, citing it (the rag route's fallback)."""
    known = resolution(passage)
    section = (known[0] if known else key_section(passage, question)) or passage.title
    return (f"{section} (from \"{passage.title}\")",
            f"See \"{passage.title}\" ({passage.uri}) for the full procedure.")


def retrieval_only(excerpt: Excerpt, passages: Sequence[Passage]) -> tuple[str, str]:
    """The excerpt's key line as the cause and, when the best passage is about this failure, its
    instructions as the fix; else a fix for the log's kind of failure (fix_from_log)."""
    cause, fix = from_excerpt(excerpt)
    curated = runbook_fix(excerpt, passages, curated=True)
    if curated is not None:
        return cause, curated
    if not fix.startswith(GENERIC_FIX_START):  # the key line's own kind of fix names what failed
        return cause, fix
    return cause, runbook_fix(excerpt, passages) or fix


def runbook_fix(excerpt: Excerpt, passages: Sequence[Passage], curated: bool = False) -> str | None:
    """The instructions of the first passage that is about this failure (`matches`), quoted and
    credited, or None. With `curated`, only a runbook section that states its "Fix:" outright: a
    section of bullets or a past incident may be about a neighbour of this failure (a lock file out
    of sync for a missing package.json), and its fix would mislead."""
    for passage in passages:
        stated = passage.kind == "runbook" and _FIX_PARAGRAPH.search(passage.text or "") is not None
        if (curated and not stated) or not matches(passage, excerpt):
            continue
        # A past incident's fix names its own files, tests and versions: when it names anything this
        # log does not show (beyond the ecosystems' standard commands), it was the fix of another
        # failure, and what is left of it without those sentences is no fix either.
        # A runbook's advice is general (a flag, a setting to change): it is its own support.
        quoted, foreign = grounded_sentences(fix_section(passage), excerpt.text() + "\n" + (
            passage.text if passage.kind == "runbook" else ""))
        if quoted and not foreign and (stated or _FIX_WORDS.search(quoted)):
            return f"{quoted} (from \"{passage.title}\")"
    return None


def matches(passage: Passage, excerpt: Excerpt, at_least: int = 2) -> bool:
    """Whether a passage is about this failure, not only near it: it shares at least `at_least`
    identifier-like words with the log's key line and the lines around it (the tool, the error
    code, the file). A runbook for another toolchain (Xcode advice for a C++ header, travis_wait
    for a missing script) shares one word at most, and its fix would mislead."""
    line = key_line(excerpt.lines, excerpt.post_build)
    if line is None:
        return False
    near = " ".join(ln.text for ln in excerpt.lines if abs(ln.n - line.n) <= 2)
    # A past incident is one team's one failure: it must share more than a runbook does.
    wanted = at_least + (1 if passage.kind == "incident" else 0)
    return len((terms(near) & terms(passage.text or "")) - _GENERIC) >= wanted


# Words of error messages in every ecosystem ("No such file or directory", "could not find"):
# sharing them says nothing about sharing a toolchain.
_GENERIC = frozenset(
    "such file files directory found open cannot could unable find resolve missing permission denied command "
    "module package version expected unexpected invalid option argument exist exists does fatal warning test "
    "tests timeout time process completed status returned non-zero output input access connection refused host "
    "network memory space left device killed script task target project dependency dependencies install "
    "installed requires required name value type object null undefined defined declared scope member named class "
    "function method call read write path home runner work travis usr lib src main "
    # ... and the words every runner's and test tool's report has: sharing "exited", "done" or
    # "assertion failures" with a past incident does not make it the same failure
    "done exited exit start started equal equals fails failing failure failures all first info execution "
    "halted running run after out timed http https github www assertion assertions "
    "sync error errors true false line lines log logs build failed".split()
)
