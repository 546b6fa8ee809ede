"""Block Kit for answers: root cause, fix, numbered evidence, sources, a context line, feedback.

Pure: an Answer in, a list of Slack messages (dicts with `text` and `blocks`) out. Long answers are
split to Slack's limits: 3000 characters per section, 50 blocks per message, and well under the
40k characters Slack accepts per message.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.engine.answer import Answer
from bot.slack.sanitize import code_safe, link, sanitize

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
MESSAGE_CHARS = 12000  # a screenful per message; Slack's hard cap (~40k) stays far away
FALLBACK_LIMIT = 3000
WORKING_TEXT = "Looking into it… :hourglass_flowing_sand:"
APOLOGY_TEXT = "Sorry, something went wrong while I was looking into this. The error has been logged."


@dataclass
class SlackMessage:
    text: str
    blocks: list[dict] = field(default_factory=list)


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Pieces of at most `limit` chars, cut at a newline, else a space, else hard."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def titled_sections(title: str, body: str) -> list[dict]:
    """"*Title*\\nbody" as one or more sections, each within the section limit."""
    head = f"*{title}*\n"
    pieces = split_text(body, SECTION_LIMIT - len(head))
    return [section(head + pieces[0])] + [section(p) for p in pieces[1:]]


def evidence_sections(answer: Answer) -> list[dict]:
    """Evidence lines in code blocks, each line with its number; a block never exceeds the limit."""
    if not answer.evidence:
        return []
    width = max(len(str(ln.at)) for ln in answer.evidence)
    lines = [f"{ln.at:>{width}} | {code_safe(ln.text)}" for ln in answer.evidence]
    fence_room = SECTION_LIMIT - len("*Evidence*\n```\n\n```")
    chunks, current = [], []
    for line in lines:
        line = line[:fence_room]
        if current and len("\n".join(current + [line])) > fence_room:
            chunks.append(current)
            current = []
        current.append(line)
    chunks.append(current)
    blocks = []
    for i, chunk in enumerate(chunks):
        head = "*Evidence*\n" if i == 0 else ""
        blocks.append(section(head + "```\n" + "\n".join(chunk) + "\n```"))
    return blocks


def sources_section(answer: Answer) -> list[dict]:
    if not answer.sources:
        return []
    items = [f"• {link(s.uri, s.title)}" for s in answer.sources]
    return titled_sections("Sources", "\n".join(items))


def context_line(answer: Answer) -> dict:
    model = answer.model or {}
    adapter = model.get("adapter") or "no adapter"
    parts = [f"route: {answer.route}", f"model: {model.get('base') or 'unknown'} · adapter {adapter}"]
    if answer.category and answer.category != "unknown":
        parts.append(f"category: {answer.category}")
    total = (answer.timings or {}).get("total")
    if total:
        parts.append(f"{total:.1f} s")
    elements = [{"type": "mrkdwn", "text": _safe_line(" · ".join(parts))}]
    if answer.note:
        elements.append({"type": "mrkdwn", "text": "_" + sanitize(answer.note)[:2900] + "_"})
    return {"type": "context", "elements": elements}


def _safe_line(text: str) -> str:
    return sanitize(text)[:SECTION_LIMIT]


def feedback_actions(answer_id: str) -> dict:
    return {
        "type": "actions",
        "block_id": "feedback",
        "elements": [
            {"type": "button", "action_id": "feedback_up", "value": answer_id,
             "text": {"type": "plain_text", "text": ":thumbsup: Helpful", "emoji": True}},
            {"type": "button", "action_id": "feedback_down", "value": answer_id,
             "text": {"type": "plain_text", "text": ":thumbsdown: Not helpful", "emoji": True}},
        ],
    }


def fallback_text(answer: Answer, allowed: set[str] | frozenset[str] = frozenset()) -> str:
    text = f"Root cause: {answer.root_cause}\nFix: {answer.fix}"
    return sanitize(text, allowed)[:FALLBACK_LIMIT]


def answer_messages(answer: Answer, answer_id: str, allowed: set[str] | frozenset[str] = frozenset(),
                    heading: str | None = None) -> list[SlackMessage]:
    """The answer as one or more messages; the last carries the context line and feedback buttons.
    `heading` names the job when one failure's thread answers several jobs."""
    body = (
        ([section(f"*{sanitize(heading)}*")] if heading else [])
        + titled_sections("Root cause", sanitize(answer.root_cause or "(none found)", allowed))
        + titled_sections("Fix", sanitize(answer.fix or "(no fix suggested)", allowed))
        + evidence_sections(answer)
        + sources_section(answer)
    )
    tail = [context_line(answer), feedback_actions(answer_id)]
    return pack(body, tail, fallback_text(answer, allowed))


def pack(body: list[dict], tail: list[dict], text: str) -> list[SlackMessage]:
    """Blocks into messages under the block and character caps; `tail` stays together at the end."""
    messages: list[SlackMessage] = [SlackMessage(text=text)]
    chars = 0
    for block in body:
        size = _block_chars(block)
        current = messages[-1]
        if current.blocks and (len(current.blocks) + 1 > MAX_BLOCKS - len(tail) or chars + size > MESSAGE_CHARS):
            messages.append(SlackMessage(text=f"{_first_line(text)} (continued)"))
            chars = 0
        messages[-1].blocks.append(block)
        chars += size
    messages[-1].blocks.extend(tail)
    return messages


def _block_chars(block: dict) -> int:
    text = block.get("text")
    return len(text["text"]) if isinstance(text, dict) else 200


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0][:200]


DRAFT_NOTE = "From the log's own lines; the model's answer replaces this in a moment… :hourglass_flowing_sand:"


def draft_message(answer: Answer) -> SlackMessage:
    """A first answer from the log alone, shown while the model writes: no feedback buttons (it is
    not the answer to vote on), and it says the real one is coming."""
    body = (titled_sections("Root cause", sanitize(answer.root_cause or "(none found)"))
            + titled_sections("Fix", sanitize(answer.fix or "(no fix suggested)")) + evidence_sections(answer))
    body = body[:MAX_BLOCKS - 1] + [{"type": "context", "elements": [{"type": "mrkdwn", "text": f"_{DRAFT_NOTE}_"}]}]
    return SlackMessage(text=f"Root cause (draft): {sanitize(answer.root_cause or '')}"[:3000], blocks=body)


def notice(text: str) -> SlackMessage:
    """A short message from the bot itself (working state, apology, polite refusal)."""
    return SlackMessage(text=text, blocks=[section(text)])
