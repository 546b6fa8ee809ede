"""The "why was this unhelpful?" modal opened on a thumbs-down, and reading its submission. Pure."""
from __future__ import annotations

import json

CALLBACK_ID = "feedback_reason"
REASON_BUTTON = "feedback_reason_open"
REASONS = {
    "wrong_cause": "Wrong cause",
    "wrong_fix": "Right cause, but wrong fix",
    "incomplete": "Incomplete",
    "other": "Other",
}
DETAIL_LIMIT = 1000


def reason_view(answer_id: str, channel: str | None, thread_ts: str | None) -> dict:
    options = [{"text": {"type": "plain_text", "text": label}, "value": key} for key, label in REASONS.items()]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": json.dumps({"answer_id": answer_id, "channel": channel, "thread_ts": thread_ts}),
        "title": {"type": "plain_text", "text": "What was wrong?"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Skip"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn",
             "text": "Thanks, your vote is recorded. Telling us why helps the next answer."}},
            {"type": "input", "block_id": "reason",
             "label": {"type": "plain_text", "text": "The answer had"},
             "element": {"type": "radio_buttons", "action_id": "choice", "options": options}},
            {"type": "input", "block_id": "detail", "optional": True,
             "label": {"type": "plain_text", "text": "Details"},
             "element": {"type": "plain_text_input", "action_id": "text", "multiline": True,
                         "max_length": DETAIL_LIMIT}},
        ],
    }


def read_submission(view: dict) -> tuple[dict, str | None, str | None, dict[str, str]]:
    """(metadata, reason, detail, errors) from a view_submission's `view`."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        meta = {}
    values = (view.get("state") or {}).get("values") or {}
    selected = ((values.get("reason") or {}).get("choice") or {}).get("selected_option") or {}
    reason = selected.get("value")
    detail = (((values.get("detail") or {}).get("text") or {}).get("value") or "").strip() or None
    errors: dict[str, str] = {}
    if reason not in REASONS:
        errors["reason"] = "Pick one of the choices."
    elif reason == "other" and not detail:
        errors["detail"] = "Tell us a little more for \"Other\"."
    return meta, reason, detail[:DETAIL_LIMIT] if detail else None, errors


def reason_prompt(answer_id: str) -> list[dict]:
    """Ephemeral blocks after a thumbs-down reaction (reactions carry no trigger_id for a modal)."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Thanks for the feedback. Want to tell us what was wrong?"}},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": REASON_BUTTON, "value": answer_id,
             "text": {"type": "plain_text", "text": "Tell us why"}},
        ]},
    ]
