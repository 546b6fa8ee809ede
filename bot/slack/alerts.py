"""Recognise CI failure alerts that integrations post into a watched channel.

Pure. GitHub, GitLab, Jenkins and CircleCI post as bots (bot_profile.name / username) with the
outcome in the text, in attachments (often colour-coded) or in blocks. A message counts as an alert
when it comes from a known integration or a configured sender AND reads as a failure.
"""
from __future__ import annotations

import re

from bot.slack.inputs import alert_text

INTEGRATIONS = ("github", "gitlab", "jenkins", "circleci", "circle ci")
_FAILURE = re.compile(
    r"\b(failed|failure|failing|failed\s+after|broken|errored|timed\s*out|build\s+fail\w*)\b"
    r"|:x:|:red_circle:|:rotating_light:|❌|🔴",
    re.IGNORECASE,
)
# A recovery notice ("Back to normal", "Fixed") mentions the earlier failure but is not one.
_RECOVERED = re.compile(r"\b(fixed|back\s+to\s+normal|recovered)\b|:white_check_mark:|✅", re.IGNORECASE)
_FAILURE_COLOURS = {"danger", "#a30200", "#d00000", "#e01e5a", "#ff0000", "#db3737", "#cc0000"}
_SUCCESS_COLOURS = {"good", "#2eb886", "#36a64f", "#41aa58", "#1a7f37"}
_IGNORED_SUBTYPES = {"message_changed", "message_deleted", "channel_join", "channel_leave", "bot_add"}


def sender_names(event: dict) -> list[str]:
    profile = event.get("bot_profile") or {}
    names = [profile.get("name"), event.get("username")]
    return [n.lower() for n in names if n]


def is_from_integration(event: dict, alert_senders: list[str]) -> bool:
    ids = {event.get("bot_id"), event.get("user"), (event.get("bot_profile") or {}).get("app_id")}
    configured = {s.lower() for s in alert_senders}
    if ids & set(alert_senders) or any(n in configured for n in sender_names(event)):
        return True
    return any(any(known in name for known in INTEGRATIONS) for name in sender_names(event))


def reads_as_failure(event: dict) -> bool:
    """Failure words or a red attachment, and not a success notice."""
    colours = {str(a.get("color", "")).lower() for a in event.get("attachments") or []}
    if colours & _SUCCESS_COLOURS and not colours & _FAILURE_COLOURS:
        return False
    text = f"{event.get('text') or ''}\n{alert_text(event)}"
    if colours & _FAILURE_COLOURS:
        return True
    return bool(_FAILURE.search(text)) and not _RECOVERED.search(text)


def is_ci_failure_alert(event: dict, *, alert_senders: list[str], own_ids: set[str]) -> bool:
    """True for a top-level failure alert from an integration or configured sender, never our own."""
    if event.get("subtype") in _IGNORED_SUBTYPES or event.get("thread_ts") not in (None, event.get("ts")):
        return False
    if own_ids & {event.get("bot_id"), event.get("user")}:
        return False
    if not is_from_integration(event, alert_senders):
        return False
    return reads_as_failure(event)
