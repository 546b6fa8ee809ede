"""Reference answers: "Root Cause: … Fix: …" text or the JSON form, phrased a few ways."""
from __future__ import annotations

import json

from .case import Case
from .vocab import Vocab

MAX_WORDS = 48
# Openers that keep the answer one sentence per field while varying the wording.
_PLAIN_WORDS = {"The", "A", "An", "This", "All", "Conflicting", "Cloning", "Linking", "Compilation", "Type", "Tests",
                "Testing", "No", "Lint", "Formatting", "Some", "Pushing", "Building", "Test", "Coverage", "Cloning",
                "Release", "All", "Deployment", "Tests", "Type", "Compilation", "Conflicting", "Integration"}
_CAUSE_LEADS = ["", "", "", "", "The job failed because ", "The failure is in the {step} step: ", "In the {step} step, ",
                "The pipeline is red because "]
# Occasional closers; only used when the answer stays short.
_FIX_TAILS = ["", "", "", "", "", "", " Then rerun the job.", " Push the fix and rerun the pipeline.", " Then re-run the failed job."]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _lead(v: Vocab, case: Case, cause: str) -> str:
    lead = v.pick(_CAUSE_LEADS).format(step=case.step)
    if not lead:
        return cause
    # Only ordinary words lose their capital; identifiers (TestFoo, RuboCop, ...) keep their case.
    if cause.split(" ", 1)[0] in _PLAIN_WORDS:
        cause = cause[0].lower() + cause[1:]
    return lead + cause


def pick_answer(v: Vocab, case: Case, fix_override: str | None = None) -> tuple[str, str]:
    """(root_cause, fix) for one example; `fix_override` is the fix a retrieved runbook prescribes."""
    cause = _sentence(_lead(v, case, v.pick(case.causes)))
    fix = _sentence(fix_override or v.pick(case.fixes))
    if _words(cause, fix) > MAX_WORDS:  # the embedded model is tiny: keep answers short
        cause = _sentence(min(case.causes, key=len))
    if _words(cause, fix) > MAX_WORDS and not fix_override:
        fix = _sentence(min(case.fixes, key=len))
    tail = v.pick(_FIX_TAILS)
    if tail and not fix_override and "rerun" not in fix.lower() and "re-run" not in fix.lower() and _words(cause, fix, tail) <= MAX_WORDS - 6:
        fix += tail
    return cause, fix


def _words(*parts: str) -> int:
    return sum(len(p.split()) for p in parts) + 4  # + "Root Cause:" / "Fix:"


def render(root_cause: str, fix: str, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"root_cause": root_cause, "fix": fix}, ensure_ascii=False)
    return f"Root Cause: {root_cause} Fix: {fix}"
