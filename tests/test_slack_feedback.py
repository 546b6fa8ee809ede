"""Votes on answers: buttons, thumbs reactions, retraction, and the thumbs-down reason modal."""
from __future__ import annotations

import json

import pytest
from slack_fakes import BOT_USER, Harness

from bot.slack.listeners.feedback import THANKS_UP


@pytest.fixture
def slack():
    h = Harness(thumbs_up=["+1", "rocket"], thumbs_down=["-1"])
    yield h
    h.close()


def answered(slack) -> tuple[str, str, str]:
    """Ask once; return (answer_id, channel, answer message ts)."""
    ts, _ = slack.mention("```\nE: fail\n```")
    slack.answered()
    record = slack.store.thread_answers("C1", ts)[0]
    return record.answer_id, "C1", record.message_ts


def reaction(slack, kind: str, name: str, user: str, channel: str, ts: str, item_user: str = BOT_USER):
    return slack.event({"type": kind, "user": user, "reaction": name, "item_user": item_user,
                        "item": {"type": "message", "channel": channel, "ts": ts}, "event_ts": slack.next_ts()})


def standing(slack, answer_id: str) -> dict:
    return {v.user: v.value for v in slack.store.votes_for(answer_id)}


def wait_votes(slack, answer_id, expected, timeout=5.0):
    import time

    deadline = time.monotonic() + timeout
    while standing(slack, answer_id) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return standing(slack, answer_id)


def wait_reason(slack, answer_id, timeout=5.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        votes = slack.store.votes_for(answer_id)
        if votes and votes[0].reason:
            return votes[0]
        time.sleep(0.01)
    return slack.store.votes_for(answer_id)[0]


def button(slack, action_id: str, answer_id: str, user: str = "U2", trigger: str = "trig-1"):
    return slack.interact({
        "type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "trigger_id": trigger,
        "channel": {"id": "C1"}, "container": {"type": "message", "channel_id": "C1", "message_ts": "1.1", "thread_ts": "1.0"},
        "actions": [{"action_id": action_id, "block_id": "feedback", "value": answer_id, "type": "button"}],
        "api_app_id": "A1", "token": "legacy",
    })


def test_reactions_vote_last_wins_and_removal_retracts(slack):
    answer_id, channel, ts = answered(slack)
    reaction(slack, "reaction_added", "+1::skin-tone-3", "U2", channel, ts)
    assert wait_votes(slack, answer_id, {"U2": 1}) == {"U2": 1}
    reaction(slack, "reaction_added", "-1", "U2", channel, ts)
    assert wait_votes(slack, answer_id, {"U2": -1}) == {"U2": -1}
    reaction(slack, "reaction_removed", "+1", "U2", channel, ts)  # not the standing vote
    slack.api.settle()
    assert standing(slack, answer_id) == {"U2": -1}
    reaction(slack, "reaction_removed", "-1", "U2", channel, ts)
    assert wait_votes(slack, answer_id, {}) == {}


def test_configured_alias_counts_and_thanks_privately(slack):
    answer_id, channel, ts = answered(slack)
    reaction(slack, "reaction_added", "rocket", "U3", channel, ts)
    assert wait_votes(slack, answer_id, {"U3": 1}) == {"U3": 1}
    [thanks] = slack.api.wait_for("chat.postEphemeral")
    assert thanks.params["user"] == "U3" and thanks.params["text"] == THANKS_UP
    posted = [c for c in slack.api.called("chat.postMessage")]
    assert len(posted) == 1  # only the placeholder: no channel message for a vote


def test_votes_by_the_bot_and_on_other_messages_are_ignored(slack):
    answer_id, channel, ts = answered(slack)
    reaction(slack, "reaction_added", "+1", BOT_USER, channel, ts)
    reaction(slack, "reaction_added", "+1", "U2", channel, "1699999999.000001", item_user="U9")
    reaction(slack, "reaction_added", "+1", "U2", channel, "1699999999.000002")  # ours, but not an answer
    reaction(slack, "reaction_added", "tada", "U2", channel, ts)
    slack.api.settle()
    assert standing(slack, answer_id) == {}
    assert slack.api.called("chat.postEphemeral") == []


def test_thumbs_down_reaction_offers_the_reason_modal(slack):
    answer_id, channel, ts = answered(slack)
    reaction(slack, "reaction_added", "-1", "U2", channel, ts)
    [prompt] = slack.api.wait_for("chat.postEphemeral")
    assert wait_votes(slack, answer_id, {"U2": -1}) == {"U2": -1}
    assert "feedback_reason_open" in json.dumps(prompt.params["blocks"])
    slack.interact({"type": "block_actions", "user": {"id": "U2"}, "trigger_id": "trig-9", "channel": {"id": "C1"},
                    "actions": [{"action_id": "feedback_reason_open", "value": answer_id, "type": "button"}],
                    "api_app_id": "A1", "team": {"id": "T1"}, "token": "legacy"})
    [opened] = slack.api.wait_for("views.open")
    assert opened.params["trigger_id"] == "trig-9"


def test_button_vote_up_is_stored_and_thanked(slack):
    answer_id, _, _ = answered(slack)
    assert button(slack, "feedback_up", answer_id).status == 200
    assert wait_votes(slack, answer_id, {"U2": 1}) == {"U2": 1}
    assert slack.api.wait_for("chat.postEphemeral")
    assert slack.api.called("views.open") == []


def test_modal_flow_opens_view_and_stores_reason(slack):
    answer_id, _, _ = answered(slack)
    button(slack, "feedback_down", answer_id, trigger="trig-down")
    [opened] = slack.api.wait_for("views.open")
    assert wait_votes(slack, answer_id, {"U2": -1}) == {"U2": -1}  # recorded before the modal
    view = json.loads(opened.params["view"]) if isinstance(opened.params["view"], str) else opened.params["view"]
    assert opened.params["trigger_id"] == "trig-down"
    submit = {**view, "id": "V1", "state": {"values": {
        "reason": {"choice": {"type": "radio_buttons", "selected_option": {"value": "wrong_fix"}}},
        "detail": {"text": {"type": "plain_text_input", "value": "the fix pins the wrong package"}}}}}
    resp = slack.interact({"type": "view_submission", "user": {"id": "U2"}, "team": {"id": "T1"},
                           "view": submit, "api_app_id": "A1", "token": "legacy"})
    assert resp.status == 200 and resp.body == ""  # an empty ack closes the modal
    vote = wait_reason(slack, answer_id)
    assert (vote.value, vote.reason, vote.detail) == (-1, "wrong_fix", "the fix pins the wrong package")


def test_modal_other_without_text_is_refused_with_field_error(slack):
    answer_id, _, _ = answered(slack)
    from bot.slack.modal import reason_view

    view = {**reason_view(answer_id, "C1", None), "id": "V2", "state": {"values": {
        "reason": {"choice": {"selected_option": {"value": "other"}}}, "detail": {"text": {"value": ""}}}}}
    resp = slack.interact({"type": "view_submission", "user": {"id": "U2"}, "team": {"id": "T1"},
                           "view": view, "api_app_id": "A1", "token": "legacy"})
    assert resp.status == 200 and json.loads(resp.body)["response_action"] == "errors"
    assert slack.store.votes_for(answer_id) == []


def test_expired_trigger_still_keeps_the_vote(slack):
    answer_id, _, _ = answered(slack)
    slack.api.fail("views.open", status=200, body={"ok": False, "error": "expired_trigger_id"})
    button(slack, "feedback_down", answer_id)
    assert slack.api.wait_for("views.open")
    assert slack.api.wait_for("chat.postEphemeral")  # the thank-you still comes
    assert standing(slack, answer_id) == {"U2": -1}


def test_forged_button_for_unknown_answer_is_ignored(slack):
    button(slack, "feedback_up", "no-such-answer")
    slack.api.settle()
    assert slack.store.votes_for("no-such-answer") == []
    assert slack.api.called("chat.postEphemeral") == []
