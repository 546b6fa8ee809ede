"""Pure formatters: sanitising, splitting, Block Kit, reading asks, recognising alerts, webhooks."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from slack_fakes import ANSWER

from bot.server.webhooks import (
    WebhookRejected,
    hmac_sha256,
    parse_generic,
    parse_github,
    parse_gitlab,
)
from bot.slack.alerts import is_ci_failure_alert
from bot.slack.blocks import MAX_BLOCKS, SECTION_LIMIT, answer_messages, split_text
from bot.slack.inputs import parse_message
from bot.slack.modal import read_submission, reason_view
from bot.slack.sanitize import ZWJ, mentions_in, sanitize
from retrieval.errors import InputError
from retrieval.types import LogLine


def test_sanitize_escapes_broadcasts_and_mentions():
    out = sanitize("<!channel> <!here> <!everyone> <@U1> <!subteam^S1|@devs> a & b")
    assert "<" not in out and ">" not in out
    assert "&lt;!channel&gt;" in out and "a &amp; b" in out


def test_sanitize_defuses_plain_at_here_and_at_channel():
    out = sanitize("ping @here and @channel")
    assert "@here" not in out and f"@{ZWJ}here" in out and f"@{ZWJ}channel" in out


def test_sanitize_restores_only_the_askers_own_mentions():
    allowed = mentions_in("thanks <@U1|alice>, cc <!here>")
    out = sanitize("<@U1> broke it; <@U2> reviewed; <!here> see <!channel>", allowed)
    assert "<@U1>" in out and "<@U2>" not in out and "<!here>" in out and "<!channel>" not in out


def test_split_text_respects_limit_and_keeps_everything():
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(200))
    pieces = split_text(text, 3000)
    assert all(len(p) <= 3000 for p in pieces) and len(pieces) > 1
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_split_text_hard_cuts_a_single_huge_word():
    pieces = split_text("y" * 7000, 3000)
    assert [len(p) for p in pieces] == [3000, 3000, 1000]


def test_long_answer_splits_into_messages_within_slack_limits():
    huge = replace(ANSWER, fix="step. " * 4000, evidence=[LogLine(i, "E" * 150) for i in range(1, 400)])
    messages = answer_messages(huge, "a1")
    assert len(messages) > 1
    for m in messages:
        assert len(m.blocks) <= MAX_BLOCKS
        assert len(json.dumps(m.blocks)) < 40_000 and len(m.text) <= 3000
        for b in m.blocks:
            if b["type"] == "section":
                assert len(b["text"]["text"]) <= SECTION_LIMIT
    assert messages[-1].blocks[-1]["block_id"] == "feedback"
    assert all(b.get("block_id") != "feedback" for m in messages[:-1] for b in m.blocks)


def test_evidence_is_numbered_code_and_cannot_break_the_fence():
    answer = replace(ANSWER, evidence=[LogLine(7, "echo ``` <!here>"), LogLine(120, "boom")])
    blocks = json.dumps(answer_messages(answer, "a1")[0].blocks)
    assert "  7 | echo `\\u200b`` &lt;!here&gt;" in blocks and "120 | boom" in blocks


def test_non_http_sources_are_plain_text_not_links():
    from bot.engine.answer import SourceRef

    answer = replace(ANSWER, sources=[SourceRef("Runbook", "runbooks/node.md", 0.5)])
    blocks = json.dumps(answer_messages(answer, "a1")[0].blocks)
    assert "Runbook (runbooks/node.md)" in blocks and "<runbooks" not in blocks


def test_parse_message_reads_code_block_question_and_route():
    ask = parse_message({"text": "<@UBOT> rag: why &lt;this&gt;?\n```\nE: a &amp; b\n```"}, "UBOT")
    assert ask.question == "why <this>?" and ask.log == "E: a & b" and ask.route == "rag"


def test_parse_message_treats_a_long_paste_as_log():
    ask = parse_message({"text": "npm ERR! one\nnpm ERR! two\nnpm ERR! three\nnpm ERR! four"})
    assert ask.question == "" and "npm ERR! four" in ask.log


def test_parse_message_reads_forwarded_alert_attachments():
    event = {"text": "", "attachments": [{"is_share": True, "fallback": "x", "title": "CI #12 failed",
                                          "text": "Error: tests failed", "fields": [{"title": "Job", "value": "unit"}]}]}
    log = parse_message(event).log
    assert "CI #12 failed" in log and "Error: tests failed" in log and "Job: unit" in log


@pytest.mark.parametrize("event, expected", [
    ({"bot_id": "B9", "bot_profile": {"name": "GitHub"}, "text": "",
      "attachments": [{"color": "danger", "text": "Workflow CI failed on main"}]}, True),
    ({"bot_id": "B9", "username": "Jenkins", "text": "Build #41 FAILURE after 3 min"}, True),
    ({"bot_id": "B9", "bot_profile": {"name": "CircleCI"}, "text": ":red_circle: Job test failed"}, True),
    ({"bot_id": "B9", "bot_profile": {"name": "GitLab"}, "text": "Pipeline #9 has failed"}, True),
    ({"bot_id": "B9", "bot_profile": {"name": "GitHub"}, "text": "",
      "attachments": [{"color": "good", "text": "Workflow CI succeeded"}]}, False),
    ({"bot_id": "B9", "username": "Jenkins", "text": "Build #42 back to normal (was failing)"}, False),
    ({"user": "U5", "text": "my tests failed, help"}, False),  # a person, not an integration
    ({"user": "UALERT", "text": "deploy job failed"}, True),  # configured sender
    ({"bot_id": "BBOT", "bot_profile": {"name": "GitHub"}, "text": "failed"}, False),  # our own
    ({"bot_id": "B9", "bot_profile": {"name": "GitHub"}, "text": "failed", "thread_ts": "1.0", "ts": "1.5"}, False),
])
def test_alert_recognition(event, expected):
    assert is_ci_failure_alert(event, alert_senders=["UALERT"], own_ids={"UBOT", "BBOT"}) is expected


def test_modal_round_trip_and_other_needs_text():
    view = reason_view("a1", "C1", "1.0")
    state = {"values": {"reason": {"choice": {"selected_option": {"value": "incomplete"}}}}}
    meta, reason, detail, errors = read_submission({**view, "state": state})
    assert meta["answer_id"] == "a1" and reason == "incomplete" and detail is None and errors == {}
    state = {"values": {"reason": {"choice": {"selected_option": {"value": "other"}}}}}
    assert "detail" in read_submission({**view, "state": state})[3]


GH_BODY = json.dumps({"workflow_job": {"name": "test", "conclusion": "failure", "html_url": "https://gh/x/1",
                                       "head_branch": "main", "steps": [{"number": 3, "name": "pytest", "conclusion": "failure"}]},
                      "repository": {"full_name": "acme/api"}}).encode()


def test_github_signature_verified_and_failure_parsed():
    headers = {"X-Hub-Signature-256": hmac_sha256("s3", GH_BODY), "X-GitHub-Event": "workflow_job",
               "X-GitHub-Delivery": "d-1"}
    failure = parse_github(headers, GH_BODY, "s3")
    assert (failure.repo, failure.job, failure.claim_key) == ("acme/api", "test", "github:delivery:d-1")
    assert "pytest: failure" in failure.log
    with pytest.raises(WebhookRejected):
        parse_github({**headers, "X-Hub-Signature-256": hmac_sha256("wrong", GH_BODY)}, GH_BODY, "s3")


def test_github_success_is_ignored():
    body = GH_BODY.replace(b'"failure"', b'"success"')
    headers = {"X-Hub-Signature-256": hmac_sha256("s3", body), "X-GitHub-Event": "workflow_job"}
    assert parse_github(headers, body, "s3") is None


def test_gitlab_token_and_pipeline_failure():
    body = json.dumps({"object_kind": "pipeline", "object_attributes": {"status": "failed", "ref": "main", "id": 7},
                       "project": {"path_with_namespace": "grp/app"},
                       "builds": [{"name": "lint", "stage": "test", "status": "failed", "failure_reason": "script_failure"}]}).encode()
    failure = parse_gitlab({"X-Gitlab-Token": "t", "X-Gitlab-Event-UUID": "u-1"}, body, "t")
    assert failure.repo == "grp/app" and failure.job == "lint" and failure.claim_key == "gitlab:delivery:u-1"
    with pytest.raises(WebhookRejected):
        parse_gitlab({"X-Gitlab-Token": "nope"}, body, "t")


def test_generic_needs_fields_and_json():
    def signed(body: bytes) -> dict:
        return {"X-Cibot-Signature-256": hmac_sha256("g", body)}

    with pytest.raises(InputError):
        parse_generic(signed(b"{oops"), b"{oops", "g")
    body = json.dumps({"repo": "acme/api"}).encode()
    with pytest.raises(InputError, match="job"):
        parse_generic(signed(body), body, "g")
    with pytest.raises(WebhookRejected):
        parse_generic({}, body, "g")


def test_rate_limiter_window_slides():
    from bot.slack.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.allow("U1") and limiter.allow("U1") and not limiter.allow("U1")
    assert limiter.allow("U2")  # keys are independent
    now[0] = 60.0
    assert limiter.allow("U1")
