"""How an answer is finished after generation, per route. On the hybrid route a model's answer
about a log is kept, citing the log's key line and the names it left out, or set aside for the key
line and the best runbook's fix; the rag route falls back to quoting the best passage; a rewrite
(finetune) falls back to the earlier answer or the key line.

Pure, so the engine and `cibot eval` (its "as served" figures) run the very same steps.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from bot.engine import fallback
from retrieval.logs import evidence as ev
from retrieval.logs.grounding import SENTENCE, grounded_sentences
from retrieval.logs.wording import complete_quotes, snap, unknown_words
from retrieval.types import Excerpt, Passage


@dataclass
class Finished:
    cause: str
    fix: str
    problem: str | None   # why the model's answer was set aside (a note for the reader), or None
    passages: list        # the passages the answer now rests on
    fix_note: str | None = None  # what was taken out of the model's fix, and why


# Below this share of its identifiers found in the log/context, an answer counts as unsure.
GROUNDED = 0.2

_FILE_NAME = re.compile(r"[\w./-]*\w\.(?:py|js|jsx|ts|tsx|rb|go|rs|java|kt|cs|cpp|cc|c|h|hpp|php|swift|scala"
                        r"|yml|yaml|json|toml|xml|gradle|lock|cfg|ini|sh|ps1|md|txt)\b")


def foreign_files(cause: str, log_text: str) -> list[str]:
    """File names a root cause gives that the log (and CI config) never mention: a cause copied
    from a retrieved incident about another failure names that failure's files."""
    seen = log_text.lower()
    return [f for f in dict.fromkeys(_FILE_NAME.findall(cause or ""))
            if f.lower() not in seen and f.rsplit("/", 1)[-1].lower() not in seen]


_QUALIFIED = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/:@#]*[A-Za-z0-9_]")
# A code name in quotes ("cannot find 'schedulePayment' in scope"): camelCase or snake_case.
_QUOTED_CODE = re.compile(r"""[`'"‘“]([A-Za-z_]\w*(?:[a-z][A-Z]|_[A-Za-z])\w*)[`'"’”]""")


def foreign_names(cause: str, log_text: str) -> list[str]:
    """Qualified names a root cause gives (two or more of `.`, `:`, `/`: Maven coordinates,
    module paths, test ids with their class), and code names it quotes, that the log never
    mentions. A small model writes a plausible coordinate with a made-up version, or a symbol the
    compiler "cannot find" that it made up, and a reader would go looking for it."""
    seen = log_text.lower()
    qualified = [t for t in _QUALIFIED.findall(cause or "") if len(t) >= 10 and sum(t.count(c) for c in ".:/") >= 2]
    quoted = [t for t in _QUOTED_CODE.findall(cause or "") if len(t) >= 6]
    return [t for t in dict.fromkeys(qualified + quoted) if t.lower() not in seen]


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
    if log_text is not None and foreign_names(parsed[0], log_text):
        return "the model's answer named things the log does not show; this is the log's key line"
    if unknown_words(parsed[0], support):
        return "the model's answer had words that are in neither the log nor English; this is the log's key line"
    if logprob is not None and min_logprob is not None and logprob < min_logprob:
        return "the model was unsure of its answer; this is the log's key line"
    if ev.made_up(" ".join(parsed), support):
        return "the model's answer named things the log does not show; this is the log's key line"
    if not ev.anchored(parsed[0], excerpt.lines, before=excerpt.post_build):
        return "the model's answer did not name the failing lines; this is the log's key line"
    return None


def finish(parsed: tuple[str, str] | None, excerpt: Excerpt, passages: Sequence[Any],
           logprob: float | None = None, min_logprob: float | None = None, ci_config: str = "") -> Finished:
    """The answer as shown for a parsed model answer (or None), the excerpt and the passages that
    were in the prompt (Passage objects; plain str/dict notes count as support only)."""
    support = excerpt.text() + "\n" + "\n".join(_text(p) for p in passages) + "\n" + (ci_config or "")
    if parsed is not None:  # a name the model misspelt is written as the log writes it
        parsed = (snap(parsed[0], support)[0], snap(parsed[1], support)[0])
    problem = set_aside(parsed, excerpt, support, logprob, min_logprob,
                        log_text=excerpt.text() + "\n" + (ci_config or ""))
    if problem is None and parsed is not None:
        # A log line the model quoted cut short ("fails with `Could not find .travis..`") is
        # written out from the log; only once the answer is kept: the checks judge what it wrote.
        lines = [ln.text for ln in excerpt.lines]
        parsed = (complete_quotes(parsed[0], lines), complete_quotes(parsed[1], lines))
    cited = [p for p in passages if isinstance(p, Passage)]
    if problem is not None:
        # An answer that invents names, only repeats itself, explains some other failure than
        # the log's failing lines or was a guess is worse than the log's own key line.
        cause, fix = fallback.retrieval_only(excerpt, cited)
        return Finished(cause, fix, problem, cited[:1])  # the one passage the fix came from
    cause, fix = parsed
    if excerpt.has_failure:
        cause = fallback.with_names(cause, excerpt)
    known = fallback.runbook_fix(excerpt, cited, curated=True) if excerpt.has_failure else None
    if known is not None:
        # A runbook section about this very failure (its tool and error) that states its fix knows
        # it better than a small model's paraphrase: knowledge is the retrieval half's job.
        return Finished(cause, known, None, cited)
    fix, fix_note = ground_fix(fix, excerpt, cited, support)
    return Finished(cause, fix, None, cited, fix_note)


def ground_fix(fix: str, excerpt: Excerpt, cited: Sequence[Passage], support: str) -> tuple[str, str | None]:
    """The model's fix less its sentences that name a command, file or flag found in none of the
    log, the CI config, the notes or the standard tools; when nothing is left, the best runbook's
    fix (or the key line's). Returns (fix, a note saying what was left out, or None)."""
    whole = " ".join(s for s in SENTENCE.split(fix.strip()) if s and not _CUT_SHORT.search(s))
    if len(whole.split()) < 3:
        # All of it was copied from a note or log line that the prompt had cut short ("... und..."),
        # or the token cap left a stub ("Run").
        _, fallback_fix = fallback.retrieval_only(excerpt, cited)
        return fallback_fix, "the model's fix was cut short; this fix is from the log and notes"
    fix = whole
    kept, invented = grounded_sentences(fix, support, words=True)
    if not invented:
        return fix, None
    named = ", ".join(f"`{n}`" for n in invented[:3])
    if kept:
        return kept, f"the model's fix also named {named}, which nothing here shows; that part was left out"
    _, fallback_fix = fallback.retrieval_only(excerpt, cited)
    return fallback_fix, f"the model's fix named {named}, which nothing here shows; this fix is from the log and notes"


# A word cut off by an ellipsis ("root und...", "-scheme Swifty…`"): text the prompt had
# shortened, copied as if whole.
_CUT_SHORT = re.compile(r"\w(?:\.\.\.|…)")


def _text(passage: Any) -> str:
    if isinstance(passage, str):
        return passage
    if isinstance(passage, dict):
        return str(passage.get("text") or "")
    return str(getattr(passage, "text", "") or "")


# ---- per route: (cause, fix, note for the reader or None, grounding[, the passages it rests on]) --

def finish_hybrid(parsed: tuple[str, str] | None, excerpt: Excerpt, sources: list[Passage], findings: Sequence[Any],
                  logprob: float | None, min_logprob: float | None, ci_config: str = ""):
    """A model answer about a log: a strong CI-config finding wins; else `finish`, with notes on
    what is missing (no log, no failure, nothing retrieved and an unsure model)."""
    support = excerpt.text() + "\n" + "\n".join(p.text for p in sources)
    ground = ev.grounding(" ".join(parsed), support) if parsed else 0.0
    unsure = parsed is None or ground < GROUNDED
    strongest = findings[0] if findings else None
    if strongest is not None and (strongest.strength >= 0.9 or (unsure and strongest.strength >= 0.5)):
        return strongest.root_cause, strongest.fix, None, 1.0, sources
    done = finish(parsed, excerpt, sources, logprob, min_logprob, ci_config=ci_config)
    notes = [n for n in (done.problem, done.fix_note) if n]
    if not excerpt.lines:
        notes.append("no log was attached; attach the failing job's log for a grounded answer")
    elif not excerpt.has_failure:
        notes.append("no failure was found in the log; these are its last lines")
    if unsure and not done.passages:
        notes.append("nothing relevant was found in the knowledge base"
                     + ("" if parsed is None else " and the model is unsure") + ": check the evidence")
    return done.cause, done.fix, "; ".join(notes) or None, ground, done.passages


def finish_rag(parsed: tuple[str, str] | None, question: str, sources: list[Passage]):
    """A question for the knowledge base: the model's answer if the passages ground it, else the
    best passage quoted."""
    if not sources:
        return ("nothing relevant was found in the knowledge base for this question",
                "Ask the team that owns it, then add the answer as a runbook so cibot can cite it.",
                "nothing relevant retrieved", 0.0, [])
    support = "\n".join(p.text for p in sources)
    ground = ev.grounding(" ".join(parsed), support) if parsed else 0.0
    if parsed is None or ground < GROUNDED:
        best = sources[0]
        cause, fix = fallback.from_passage(best, question)
        return cause, fix, f"quoted from \"{best.title}\"", ev.grounding(cause, support), [best]
    return parsed[0], parsed[1], None, ground, sources


def finish_finetune(parsed: tuple[str, str] | None, excerpt: Excerpt, question: str, history: list[dict]):
    """A rewrite of an earlier answer: the model's if it parsed, else the earlier answer, else the
    log's key line."""
    earlier = earlier_fields(history)
    if parsed is not None:
        return parsed[0], parsed[1], None, 1.0 if earlier else ev.grounding(" ".join(parsed), excerpt.text())
    if earlier is not None:
        return earlier[0], earlier[1], "the rewrite could not be used; this is the earlier answer", 0.5
    if excerpt.lines:
        cause, fix = fallback.from_excerpt(excerpt)
        return cause, fix, "the model's answer could not be used; this is the log's key line", 0.0
    return (question, "(no rewrite available)", "the model's answer could not be used", 0.0)


def earlier_fields(history: list[dict]) -> tuple[str, str] | None:
    """The root cause and fix of the thread's latest answer, if any."""
    for turn in reversed(history or []):
        doc = turn.get("answer_json") if isinstance(turn.get("answer_json"), dict) else turn
        if doc.get("root_cause") and doc.get("fix"):
            return str(doc["root_cause"]), str(doc["fix"])
    return None
