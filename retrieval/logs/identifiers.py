"""The specific identifiers a log line or labelled chunk names: files, dotted names, test names,
camelCase symbols and error codes ("src/app.py:12", "com.acme.OrderTest", "TS2304").

One definition, shared by the evaluation metric (does an answer name what the labelled chunk
names?) and by the engine's extractive root cause (which names should it quote?).
"""
from __future__ import annotations

import re

from retrieval.logs.redact import entropy

# Words that look like identifiers but name nothing specific to one failure.
COMMON = frozenset({"error", "failed", "failure", "build", "test", "tests", "true", "false", "none", "null",
                    "warning", "info", "debug", "exception", "line", "file", "exit", "code", "the", "and"})
TOKEN = re.compile(r"[A-Za-z_][\w.\-/:@=]*[\w]|\b[A-Z]{1,5}\d{2,5}\b")
_CAMEL = re.compile(r"[a-z][A-Z]")
_ERROR_CODE = re.compile(r"^[A-Z]{1,5}\d{2,5}$")
_DIGIT_RUNS = re.compile(r"\d+")
_RUBY_FRAME = re.compile(r":in$")


def looks_random(tok: str) -> bool:
    """A password or key, not a name: long, no separators, digits scattered through mixed-case
    letters, high entropy ("Ss33mSpKyo2XAc"). Such strings are never named, even unredacted."""

    if len(tok) < 10 or any(c in tok for c in "._/-:"):
        return False
    digit_runs = len(_DIGIT_RUNS.findall(tok))
    upper, lower = sum(c.isupper() for c in tok), sum(c.islower() for c in tok)
    return digit_runs >= 2 and upper >= 3 and lower >= 3 and entropy(tok) >= 3.3


def identifiers(text: str) -> list[str]:
    """Specific identifiers in order of appearance, each once."""
    found: list[str] = []
    for tok in TOKEN.findall(text or ""):
        tok = _RUBY_FRAME.sub("", tok).strip(".:/-")  # "hooks:15:in `eval'" names hooks:15
        specific = any(c in tok for c in "._/") or bool(_CAMEL.search(tok)) or bool(_ERROR_CODE.match(tok))
        if (len(tok) >= 4 and tok.lower() not in COMMON and specific and tok not in found and "://" not in tok
                and not tok.startswith("REDACTED") and not looks_random(tok)):
            found.append(tok)
    return found
