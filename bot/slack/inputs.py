"""Read what a Slack message asks: the question, the pasted log, attached files, a forced route.

Pure. Slack sends text escaped (&lt; &gt; &amp;) with mentions as <@U…>; logs arrive in ``` blocks,
as plain multi-line pastes, inside a forwarded alert's attachments or blocks, or as files.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.slack.sanitize import unescape

_FENCE = re.compile(r"```(.*?)```", re.DOTALL)
_ROUTE_PREFIX = re.compile(r"^\s*(finetune|rag|hybrid)\s*:\s*", re.IGNORECASE)
# A paste this long without a fence is a log, not a question.
PASTE_LINES = 4


@dataclass
class SlackAsk:
    question: str
    log: str | None
    files: list[dict] = field(default_factory=list)
    route: str | None = None


def parse_message(event: dict, bot_user_id: str | None = None) -> SlackAsk:
    """The ask in a message event (or a shortcut's `message`): text, fenced logs, files."""
    text = event.get("text") or ""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    logs = [unescape(m).strip("\n") for m in _FENCE.findall(text)]
    prose = _FENCE.sub(" ", text)
    extra = alert_text(event)
    if not logs and prose.count("\n") + 1 >= PASTE_LINES:
        logs, prose = [unescape(prose).strip()], ""
    if extra:
        logs.append(extra)
    question = " ".join(unescape(prose).split())
    route = None
    match = _ROUTE_PREFIX.match(question)
    if match:
        route = match.group(1).lower()
        question = question[match.end():]
    return SlackAsk(
        question=question,
        log="\n".join(part for part in logs if part) or None,
        files=list(event.get("files") or []),
        route=route,
    )


def alert_text(event: dict) -> str:
    """Text from legacy attachments and Block Kit blocks (how CI integrations post alerts)."""
    parts: list[str] = []
    for att in event.get("attachments") or []:
        for key in ("pretext", "author_name", "title", "text"):
            if att.get(key):
                parts.append(str(att[key]))
        for f in att.get("fields") or []:
            parts.append(f"{f.get('title', '')}: {f.get('value', '')}".strip(": "))
        if not any(att.get(k) for k in ("title", "text")) and att.get("fallback"):
            parts.append(str(att["fallback"]))
        for block in att.get("message_blocks") or []:
            parts.extend(_block_texts(block.get("message", {}).get("blocks") or []))
    parts.extend(_block_texts(event.get("blocks") or [], skip_rich_text=True))
    return unescape("\n".join(p for p in parts if p.strip()))


def _block_texts(blocks: list, skip_rich_text: bool = False) -> list[str]:
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "rich_text" and skip_rich_text:
            continue  # the same words as the message's own `text`
        if kind in ("section", "header") and isinstance(block.get("text"), dict):
            out.append(block["text"].get("text", ""))
        for f in block.get("fields") or []:
            out.append(f.get("text", ""))
        if kind == "context":
            out.extend(e.get("text", "") for e in block.get("elements") or [] if isinstance(e, dict))
        if kind == "rich_text":
            out.append(_rich_text(block))
    return [t for t in out if t]


def _rich_text(node: dict | list) -> str:
    if isinstance(node, list):
        return "".join(_rich_text(n) for n in node)
    if node.get("type") == "text":
        return node.get("text", "")
    if node.get("type") == "link":
        return node.get("text") or node.get("url", "")
    inner = _rich_text(node.get("elements") or [])
    return inner + "\n" if node.get("type") in ("rich_text_section", "rich_text_preformatted") else inner


def links_in(event: dict) -> str:
    """Every link a message carries, one per line: in its text, its attachments' title and action
    links, and its blocks' buttons (CI apps put the job link there, not in the text)."""
    found: list[str] = [event.get("text") or ""]
    for att in event.get("attachments") or []:
        found += [att.get(k) or "" for k in ("title_link", "author_link", "from_url", "original_url", "text")]
        found += [a.get("url") or "" for a in att.get("actions") or [] if isinstance(a, dict)]
    _block_links(event.get("blocks") or [], found)
    return "\n".join(unescape(x) for x in found if isinstance(x, str) and x)


def _block_links(node, out: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _block_links(item, out)
    elif isinstance(node, dict):
        if isinstance(node.get("url"), str):
            out.append(node["url"])
        for key in ("elements", "accessory", "text", "fields"):
            if isinstance(node.get(key), (dict, list)):
                _block_links(node[key], out)
            elif key == "text" and isinstance(node.get(key), str):
                out.append(node[key])
