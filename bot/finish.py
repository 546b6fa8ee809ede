"""How the hybrid route finishes a model's answer about a log: keep it, citing the log's key line
and the names it left out, or set it aside for the key line and the best runbook's fix.

Pure, so the engine and `cibot eval` (its "as served" figures) run the very same steps.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from bot import evidence as ev
from bot import fallback
from retrieval.logs.grounding import grounded_sentences
from retrieval.types import Excerpt, Passage


@dataclass
class Finished:
    cause: str
    fix: str
    problem: str | None   # why the model's answer was set aside (a note for the reader), or None
    passages: list        # the passages the answer now rests on
    fix_note: str | None = None  # what was taken out of the model's fix, and why


_FILE_NAME = re.compile(r"[\w./-]*\w\.(?:py|js|jsx|ts|tsx|rb|go|rs|java|kt|cs|cpp|cc|c|h|hpp|php|swift|scala"
                        r"|yml|yaml|json|toml|xml|gradle|lock|cfg|ini|sh|ps1|md|txt)\b")


def foreign_files(cause: str, log_text: str) -> list[str]:
    """File names a root cause gives that the log (and CI config) never mention: a cause copied
    from a retrieved incident about another failure names that failure's files."""
    seen = log_text.lower()
    return [f for f in dict.fromkeys(_FILE_NAME.findall(cause or ""))
            if f.lower() not in seen and f.rsplit("/", 1)[-1].lower() not in seen]


def set_aside(parsed: tuple[str, str] | None, excerpt: Excerpt, support: str,
              logprob: float | None = None, min_logprob: float | None = None, log_text: str | None = None,
              ) -> str | None:
    """Why a model's answer about a log cannot be shown, or None."""
    if parsed is None:
        return "the model's answer could not be used; this is the log's key line"
    if not excerpt.has_failure:
        return None
    if log_text is not None and foreign_files(parsed[0], log_text):
        return "the model's answer named files this log does not show; this is the log's key line"
    if logprob is not None and min_logprob is not None and logprob < min_logprob:
        return "the model was unsure of its answer; this is the log's key line"
    if ev.made_up(" ".join(parsed), support):
        return "the model's answer named things the log does not show; this is the log's key line"
    if not ev.anchored(parsed[0], excerpt.lines):
        return "the model's answer did not name the failing lines; this is the log's key line"
    return None


def finish(parsed: tuple[str, str] | None, excerpt: Excerpt, passages: Sequence[Any],
           logprob: float | None = None, min_logprob: float | None = None, ci_config: str = "") -> Finished:
    """The answer as shown for a parsed model answer (or None), the excerpt and the passages that
    were in the prompt (Passage objects; plain str/dict notes count as support only)."""
    support = excerpt.text() + "\n" + "\n".join(_text(p) for p in passages) + "\n" + (ci_config or "")
    problem = set_aside(parsed, excerpt, support, logprob, min_logprob,
                        log_text=excerpt.text() + "\n" + (ci_config or ""))
    cited = [p for p in passages if isinstance(p, Passage)]
    if problem is not None:
        # An answer that invents names, only repeats itself, explains some other failure than
        # the log's failing lines or was a guess is worse than the log's own key line.
        cause, fix = fallback.retrieval_only(excerpt, cited)
        return Finished(cause, fix, problem, cited[:1])  # the one passage the fix came from
    cause, fix = parsed
    if excerpt.has_failure:
        cause = fallback.with_names(cause, excerpt)
    fix, fix_note = ground_fix(fix, excerpt, cited, support)
    return Finished(cause, fix, None, cited, fix_note)


def ground_fix(fix: str, excerpt: Excerpt, cited: Sequence[Passage], support: str) -> tuple[str, str | None]:
    """The model's fix less its sentences that name a command, file or flag found in none of the
    log, the CI config, the notes or the standard tools; when nothing is left, the best runbook's
    fix (or the key line's). Returns (fix, a note saying what was left out, or None)."""
    kept, invented = grounded_sentences(fix, support)
    if not invented:
        return fix, None
    named = ", ".join(f"`{n}`" for n in invented[:3])
    if kept:
        return kept, f"the model's fix also named {named}, which nothing here shows; that part was left out"
    _, fallback_fix = fallback.retrieval_only(excerpt, cited)
    return fallback_fix, f"the model's fix named {named}, which nothing here shows; this fix is from the log and notes"


def _text(passage: Any) -> str:
    if isinstance(passage, str):
        return passage
    if isinstance(passage, dict):
        return str(passage.get("text") or "")
    return str(getattr(passage, "text", "") or "")
