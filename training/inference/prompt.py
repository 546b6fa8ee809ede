"""The one prompt format: training examples and the engine's live prompts both go through here.

The model is small, so the prompt is short and fixed in shape; any drift between what the
adapter saw in training and what it sees at answer time costs more than any wording could gain.
"""
from __future__ import annotations

import json
import re
from typing import Annotated, Any, Iterable

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from retrieval.logs.signals import line_weight, strip_prefix

SYSTEM_PROMPT = (
    "You are cibot, a CI failure analyst. Read the CI log excerpt and any reference notes, "
    "then say why the build failed and how to fix it. Name the exact file, package, test or "
    "error code from the log. Be brief."
)

_Said = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class ModelAnswer(BaseModel):
    """What the model writes when asked for JSON: one object, a non-blank root cause and fix,
    nothing else. The one definition: its JSON schema guides decoding (ANSWER_SCHEMA) and
    `parse` is the one validity check (the engine's retry, the generator's repair)."""

    model_config = ConfigDict(extra="forbid")

    root_cause: _Said
    fix: _Said

    @classmethod
    def parse(cls, text: str | None) -> "ModelAnswer | None":
        """The answer if `text` is exactly such an object, else None."""
        try:
            return cls.model_validate_json((text or "").strip())
        except ValidationError:
            return None


ANSWER_SCHEMA: dict = ModelAnswer.model_json_schema()

TEXT_INSTRUCTION = "Answer in two lines:\nRoot Cause: <why it failed>\nFix: <what to change>"
JSON_INSTRUCTION = 'Answer with JSON only: {"root_cause": "<why it failed>", "fix": "<what to change>"}'

# A reference note is a hint, not the log: a few hundred characters carry the fix line of a runbook.
SNIPPET_CHARS = 300
# The embedded model reads a few hundred tokens well and a thousand badly: the log is cut to its
# most failure-like lines (with their neighbours) and loses its timestamps, which carry no cause.
# Training examples and live prompts both pass through here, so both see the same cut.
LOG_MAX_LINES = 16
MAX_PASSAGES = 3
ELISION = "\n[...]\n"


def build_messages(
    *,
    excerpt: str,
    question: str | None = None,
    context: Iterable[Any] | None = None,
    fmt: str = "text",
    ci_config: str | None = None,
    budget_chars: int | None = None,
) -> list[dict]:
    """System + user messages for one request. `context` holds Passages, dicts with title/text,
    or plain strings. `budget_chars` caps the user message; context is cut before the excerpt."""
    if fmt not in ("text", "json"):
        raise ValueError(f"fmt must be 'text' or 'json', not {fmt!r}")
    head = []
    if question and question.strip() and not (excerpt and generic_question(question)):
        head.append(f"Question: {_one_line(question, 300)}")
    if ci_config and ci_config.strip():
        head.append("CI config:\n" + _clip(ci_config.strip(), 600))
    tail = TEXT_INSTRUCTION if fmt == "text" else JSON_INSTRUCTION
    notes = [_snippet(i, p) for i, p in enumerate(list(context or [])[:MAX_PASSAGES], 1)]
    notes = [n for n in notes if n]
    log = focus_log(excerpt or "") or "(no log given)"

    if budget_chars is not None:
        fixed = sum(len(h) + 1 for h in head) + len(tail) + 32
        room = max(budget_chars - fixed, 200)
        # The log explains the failure; reference notes only help, so they give way first.
        log = _clip(log, max(room * 2 // 3, 200))
        notes = _fit_notes(notes, room - len(log))

    parts = list(head)
    if notes:
        parts.append("Reference notes:\n" + "\n".join(notes))
    parts.append("Log:\n" + log)
    parts.append(tail)
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


# Words of a question that only asks why the attached log failed ("why did this CI job fail?"):
# it adds nothing to the log, and the models were trained on logs without such a line.
_GENERIC_WORDS = frozenset("""
why what did does do is was has made make this the my our a ci job build pipeline workflow run step
check checks test tests fail failed fails failing failure break broke broken red happened happen here
go went wrong explain please can you tell me us cibot bot log it with going on
""".split())


def generic_question(question: str) -> bool:
    """True when `question` only asks why the log failed (no file, tool or detail of its own)."""
    words = re.findall(r"[a-z0-9']+", re.sub(r"<[@#!][^>]*>", " ", question.lower()))
    return bool(words) and all(w in _GENERIC_WORDS for w in words)


def focus_log(text: str, max_lines: int = LOG_MAX_LINES) -> str:
    """The log without timestamps or blank lines, cut to its `max_lines` most failure-like lines
    (each with its neighbours, in log order; later lines win ties since errors sit near the end)."""

    lines = [ln.rstrip() for ln in (strip_prefix(raw) for raw in text.splitlines()) if ln.strip()]
    if len(lines) <= max_lines:
        return "\n".join(lines)
    order = sorted(range(len(lines)), key=lambda i: (-line_weight(lines[i]), -i))
    keep: set[int] = set()
    for i in order:
        for j in (i, i + 1, i - 1):
            if 0 <= j < len(lines) and len(keep) < max_lines:
                keep.add(j)
        if len(keep) >= max_lines:
            break
    return "\n".join(lines[i] for i in sorted(keep))


def format_answer(root_cause: str, fix: str, fmt: str = "text") -> str:
    """The target text the model is trained to produce for `fmt`."""
    root_cause, fix = root_cause.strip(), fix.strip()
    if fmt == "json":
        return json.dumps({"root_cause": root_cause, "fix": fix}, ensure_ascii=False)
    return f"Root Cause: {root_cause}\nFix: {fix}"


_JSON_OBJECT = re.compile(r"\{.*\}", re.S)
_LABELS = re.compile(
    r"(?im)^[\s>*_#-]*(?:\*\*)?\s*(root[\s_-]*cause|cause|fix|solution|resolution)\s*(?:\*\*)?\s*[:\-]\s*(?:\*\*)?"
)


def parse_answer(text: str | None, need_fix: bool = True) -> tuple[str, str] | None:
    """(root_cause, fix) from a model's answer, JSON or "Root Cause: ... Fix: ...", else None.
    With need_fix=False, an answer whose fix was not written ("Root Cause: ...\nFix:") parses
    with an empty fix."""
    if not text or not text.strip():
        return None
    found = _parse_json(text)
    if found is None:
        found = _parse_labelled(text)
    if found is None:
        return None
    root_cause, fix = (_residue(" ".join(s.split())) for s in found)
    return (root_cause, fix) if root_cause and (fix or not need_fix) else None


_JSON_RESIDUE = re.compile(r'(?:\s*["\'`]?\s*[}\]]+\s*)+$|^\s*[{\[]\s*["\']?')


def _residue(text: str) -> str:
    """A labelled answer's tail of half-written JSON (`... restart the job."}`) is not part of it."""
    if text.count("{") >= text.count("}") and text.count("[") >= text.count("]"):
        return text
    return _JSON_RESIDUE.sub("", text).strip()


def _parse_json(text: str) -> tuple[str, str] | None:
    match = _JSON_OBJECT.search(text)
    if not match:
        return None
    try:
        obj = json.loads(match.group(0))
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    cause, fix = obj.get("root_cause"), obj.get("fix")
    if isinstance(cause, str) and isinstance(fix, str):
        return cause, fix
    return None


def _parse_labelled(text: str) -> tuple[str, str] | None:
    # Labels may share a line ("Root Cause: x Fix: y"), so split them onto their own lines first.
    text = re.sub(r"(?i)\s+(?=(?:\*\*)?fix\s*(?:\*\*)?\s*:)", "\n", text)
    marks = list(_LABELS.finditer(text))
    fields: dict[str, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        key = "fix" if m.group(1).lower() in ("fix", "solution", "resolution") else "cause"
        fields.setdefault(key, text[m.end():end].strip().strip("*").strip())
    if "cause" in fields and "fix" in fields:
        return fields["cause"], fields["fix"]
    return None


# retrieval.sources.incident_chunk: "title\n\nFailure:\n<log>\n\nResolution:\n<answer>"
_RESOLVED = re.compile(r"(?s)^.{0,400}?\n\s*Failure:\s*\n.*?\n\s*Resolution:\s*\n")


def _snippet(i: int, passage: Any) -> str:
    if isinstance(passage, str):
        title, text = "", passage
    elif isinstance(passage, dict):
        title, text = str(passage.get("title") or ""), str(passage.get("text") or "")
    else:
        title, text = str(getattr(passage, "title", "") or ""), str(getattr(passage, "text", "") or "")
    resolved = _RESOLVED.search(text)
    if resolved:  # an incident or resolved thread: how it was resolved, not the head of its log
        text = text[resolved.end():]
    text = " ".join(text.split())
    if not text:
        return ""
    label = f"[{i}] {_one_line(title, 80)}: " if title.strip() else f"[{i}] "
    return label + _cut(text, SNIPPET_CHARS)


def _fit_notes(notes: list[str], room: int) -> list[str]:
    kept, used = [], 0
    for note in notes:
        if used + len(note) + 1 > room:
            left = room - used - 1
            if left >= 80:
                kept.append(_cut(note, left))
            break
        kept.append(note)
        used += len(note) + 1
    return kept


def _clip(text: str, limit: int) -> str:
    """Keep a long log's first third and last two thirds: the error usually sits near the end."""
    if len(text) <= limit:
        return text
    keep = limit - len(ELISION)
    head = keep // 3
    return text[:head].rstrip() + ELISION + text[len(text) - (keep - head):].lstrip()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)].rstrip() + "..."


def _one_line(text: str, limit: int) -> str:
    return _cut(" ".join(text.split()), limit)
