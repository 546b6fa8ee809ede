"""Make model text safe to post: nothing it writes may ping people or break Slack's markup.

Slack treats `<...>` as control sequences (mentions, links, <!channel>), so model text is escaped
(&, <, >) and only the mentions the asker wrote themselves are put back. Plain "@here"/"@channel"
get a zero-width joiner so clients that still link names never turn them into a broadcast.
"""
from __future__ import annotations

import re

_CONTROL = re.compile(r"<([@!#][^<>\s]+)>")
_BROADCAST_WORDS = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_ESCAPED_CONTROL = re.compile(r"&lt;([@!#][^<>\s&]*(?:&amp;[^<>\s&]*)*)&gt;")
ZWJ = "\u2060"  # word joiner: invisible, and breaks "@here" as a keyword


def escape(text: str) -> str:
    """Slack's three mrkdwn escapes; & first so the others are not double-escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slack's escapes undone, for text that arrives from Slack (a pasted log)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentions_in(text: str | None) -> set[str]:
    """The control sequences (user/group mentions, broadcasts) a message contains, id part only."""
    return {_key(m) for m in _CONTROL.findall(text or "")}


def _key(inner: str) -> str:
    # "<@U123|alice>" and "<@U123>" are the same mention.
    return inner.split("|", 1)[0]


def sanitize(text: str, allowed: set[str] | frozenset[str] = frozenset()) -> str:
    """Model text made inert: escaped, broadcasts defused, asker's own mentions restored."""
    safe = escape(text)

    def restore(match: re.Match[str]) -> str:
        inner = unescape(match.group(1))
        return f"<{inner}>" if _key(inner) in allowed else match.group(0)

    if allowed:
        safe = _ESCAPED_CONTROL.sub(restore, safe)
    return _defuse_broadcast_words(safe, allowed)


def _defuse_broadcast_words(text: str, allowed: set[str] | frozenset[str]) -> str:
    def defuse(match: re.Match[str]) -> str:
        if f"!{match.group(1).lower()}" in allowed:
            return match.group(0)
        return f"@{ZWJ}{match.group(1)}"

    return _BROADCAST_WORDS.sub(defuse, text)


def code_safe(text: str) -> str:
    """Text for inside a ``` block: escaped, and a fence in the text cannot close ours."""
    return escape(text).replace("```", "`\u200b``")


def inline_code(text: str) -> str:
    """A user-supplied name as inline code: escaped, and a backtick in it cannot end the span
    (so `<!channel>` or `` ` `` in a file name neither pings nor breaks out)."""
    return "`" + escape(str(text)).replace("`", "\u02cb").replace("\n", " ")[:200] + "`"


def link(uri: str, title: str) -> str:
    """A mrkdwn link for http(s) URIs; anything else (a runbook path) is shown as plain text."""
    label = escape(title or uri).replace("|", "¦")
    if re.match(r"https?://[^\s<>|]+$", uri or ""):
        return f"<{uri}|{label}>"
    return f"{label} ({escape(uri)})" if uri and uri != title else label
