"""From an ask to a posted answer: admit it, then (in the pool) think visibly and reply in the thread.

Every surface (mention, DM, /ci-why, shortcut, watched alert, CI webhook) becomes an `Ask` and
comes through `submit`, so de-duplication, the allow-list, rate limits and error handling live in
one place. `submit` only decides and enqueues: it is on the acknowledgement path.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from bot.ci import answers as joblogs
from bot.ci.target import Target
from bot.engine.answer import AnswerRequest
from bot.server.observability import ERRORS, REQUESTS, STAGE_SECONDS, redact_text
from bot.slack.attachments import fetch_files
from bot.slack.blocks import (
    APOLOGY_TEXT,
    WORKING_TEXT,
    SlackMessage,
    answer_messages,
    draft_message,
    notice,
)
from bot.slack.deps import SlackDeps
from bot.slack.inputs import parse_message
from bot.slack.sanitize import escape, mentions_in
from retrieval.errors import CibotError
from retrieval.types import Scope

log = logging.getLogger(__name__)

NOT_ALLOWED_TEXT = "I'm not enabled in this channel. Ask me in a channel where I'm set up, or in a DM."
RATE_LIMITED_TEXT = "You're asking faster than I can keep up. Please try again in a minute."
BUSY_TEXT = "I'm answering a lot of questions right now. Please try again in a few minutes."
EMPTY_TEXT = ("I didn't find a log to look at. Paste the failing part of the log (in a ``` block) "
              "or attach the log file, and mention me again.")
STORED_EXCERPT_CHARS = 20_000


@dataclass
class Ask:
    surface: str  # mention | dm | slash | shortcut | alert | webhook
    channel: str
    request_key: str  # claimed once: a second delivery of the same ask is dropped
    question: str = ""
    log: str | None = None
    user: str | None = None
    team: str | None = None
    thread_ts: str | None = None  # None: post `root_text` first and answer in its thread
    message_ts: str | None = None  # the asking message itself, when there is one
    root_text: str | None = None
    asker_text: str = ""  # the asker's own words; only mentions found here may be echoed
    files: list[dict] = field(default_factory=list)
    route: str | None = None
    ci_config: str | None = None
    ci_config_name: str | None = None
    explicit: bool = True  # someone asked (vs. an alert we noticed): refusals are worth a reply
    target: Target | None = None  # a CI job or run whose own logs the provider layer fetches
    fetch_notes: list[str] = field(default_factory=list)  # logs that could not be fetched, and why


def is_direct(channel: str) -> bool:
    return channel.startswith("D")


def submit(deps: SlackDeps, client, ask: Ask) -> str:
    """Admit and enqueue an ask. Returns what happened: queued, duplicate, not_allowed, rate_limited, busy."""
    allowed = deps.settings.slack.allowed_channels
    if allowed and ask.channel not in allowed and not is_direct(ask.channel):
        if ask.explicit and ask.user:
            _ephemeral(client, ask, NOT_ALLOWED_TEXT)
        return "not_allowed"
    if not _claim(deps, ask.request_key):
        return "duplicate"
    if ask.user and not deps.user_limit.allow(ask.user) or not deps.channel_limit.allow(ask.channel):
        if ask.explicit and ask.user:
            _ephemeral(client, ask, RATE_LIMITED_TEXT)
        return "rate_limited"
    if not deps.pool.submit(lambda: run(deps, client, ask)):
        if ask.explicit:
            _post(client, ask.channel, ask.thread_ts, notice(BUSY_TEXT))
        return "busy"
    return "queued"


def _claim(deps: SlackDeps, key: str) -> bool:
    try:
        return deps.store.claim(key)
    except Exception:  # a store outage must not silence the bot; a rare duplicate is the lesser harm
        log.exception("claim failed; answering anyway", extra={"key": key})
        return True


def run(deps: SlackDeps, client, ask: Ask) -> None:
    """The slow part: placeholder, gather the log, ask the engine, store, replace the placeholder."""
    started = time.perf_counter()
    placeholder = None
    fetched = None
    try:
        thread_ts = ask.thread_ts or _post(client, ask.channel, None, notice(ask.root_text or "CI failure"))
        placeholder = _post(client, ask.channel, thread_ts, notice(WORKING_TEXT))
        if ask.target is not None:
            fetched, _ = joblogs.fetch(deps, ask.target)
            if any(job.log is not None for job in fetched.jobs):
                answer_jobs(deps, client, ask, thread_ts, placeholder, fetched)
                STAGE_SECONDS.labels(stage="slack_total").observe(time.perf_counter() - started)
                return
            ask = joblogs.with_fetch_problems(ask, fetched)
        request, excerpt = build_request(deps, client, ask, thread_ts)
        if request is None:
            text = EMPTY_TEXT if not ask.fetch_notes else escape("I " + "; ".join(ask.fetch_notes) + ".")
            _update(client, ask.channel, placeholder, notice(text))
            return
        answer = joblogs.with_note(answer_with_draft(deps, client, ask.channel, placeholder, request),
                                   "; ".join(ask.fetch_notes))
        answer_id = deps.store.save_answer(
            request_key=ask.request_key, answer=answer, question=ask.question, excerpt=excerpt,
            channel=ask.channel, thread_ts=thread_ts, user=ask.user, team=ask.team,
        )
        post_answer(deps, client, ask, thread_ts, placeholder, answer, answer_id)
        REQUESTS.labels(route=answer.route, surface=ask.surface).inc()
        STAGE_SECONDS.labels(stage="slack_total").observe(time.perf_counter() - started)
    except CibotError as exc:  # the engine's word on this input (empty log, unreadable file)
        log.warning("could not answer: %s", exc)
        _apologise(client, ask, placeholder, f"I couldn't analyse this: {escape(str(exc))}")
    except Exception:
        log.exception("answering failed", extra={"surface": ask.surface, "channel": ask.channel})
        ERRORS.labels(surface=ask.surface).inc()
        _apologise(client, ask, placeholder, APOLOGY_TEXT)
    finally:
        if fetched is not None:
            fetched.close()  # the raw logs leave the disk with the answer


def answer_jobs(deps: SlackDeps, client, ask: Ask, thread_ts: str, placeholder: str, fetched) -> None:
    """One answer per fetched job log, all in the failure's thread; the first replaces the placeholder."""
    missing = joblogs.problems(fetched)
    jobs = [job for job in fetched.jobs if job.log is not None]
    for index, job in enumerate(jobs):
        slot = placeholder if index == 0 else _post(client, ask.channel, thread_ts, notice(WORKING_TEXT))
        request = joblogs.job_request(job, question=ask.question, scope=Scope(channel=ask.channel, team=ask.team),
                                      route=ask.route)
        answer = answer_with_draft(deps, client, ask.channel, slot, request)
        answer = joblogs.with_note(answer, joblogs.job_note(job, missing if index == 0 else []))
        answer_id = deps.store.save_answer(
            request_key=joblogs.job_key(ask.request_key, job, index), answer=answer, question=ask.question,
            excerpt=joblogs.evidence_excerpt(answer), channel=ask.channel, thread_ts=thread_ts,
            user=ask.user, team=ask.team,
        )
        heading = f"Job {job.name}" if len(fetched.jobs) > 1 else None
        post_answer(deps, client, ask, thread_ts, slot, answer, answer_id, heading=heading)
        REQUESTS.labels(route=answer.route, surface=ask.surface).inc()


def answer_with_draft(deps: SlackDeps, client, channel: str, placeholder: str, request: AnswerRequest):
    """The engine's answer. With a model loaded (seconds of generation on a CPU), the log's own
    extractive answer replaces the placeholder first, so the thread holds the cause and evidence in
    well under a second; the model's answer then replaces the draft (post_answer)."""
    engine = deps.engine()
    if deps.settings.slack.progressive_answers and getattr(engine, "generator", None) is not None \
            and hasattr(engine, "without_model") and request.log is not None:
        started = time.perf_counter()
        try:
            draft = engine.without_model().answer(request)
            _update(client, channel, placeholder, draft_message(draft))
            STAGE_SECONDS.labels(stage="draft").observe(time.perf_counter() - started)
        except CibotError:
            pass  # the full answer below says why
        except Exception:  # a draft is a courtesy; the real answer must still come
            log.exception("draft answer failed")
    return engine.answer(request)


def build_request(deps: SlackDeps, client, ask: Ask, thread_ts: str) -> tuple[AnswerRequest | None, str]:
    """The engine's request: this ask's log (pasted, attached, or the thread's), plus thread history."""
    logs = [ask.log] if ask.log else []
    ci_config, ci_name = ask.ci_config, ask.ci_config_name
    if ask.files:
        fetched = fetch_files(ask.files, deps.bot_token, deps.settings.slack.max_attachment_bytes,
                              hosts=file_hosts(deps.settings.slack))
        logs.extend(fetched.logs)
        ci_config, ci_name = ci_config or fetched.ci_config, ci_name or fetched.ci_config_name
        if fetched.notes:
            _post(client, ask.channel, thread_ts, notice("\n".join(fetched.notes)))
    earlier = deps.store.thread_answers(ask.channel, thread_ts)
    history = thread_history(earlier)
    if not logs and earlier:
        logs = [earlier[0].excerpt]  # a follow-up: the thread's log is the context
    if not logs and ask.message_ts and thread_ts != ask.message_ts:
        root = root_message_log(client, ask.channel, thread_ts)
        logs = [root] if root else []
    if not logs and not ci_config:
        return None, ""
    text = "\n".join(logs)
    route = ask.route or deps.settings.slack.channel_routes.get(ask.channel)
    request = AnswerRequest(
        question=ask.question, log=text or None, ci_config=ci_config, ci_config_name=ci_name,
        scope=Scope(channel=ask.channel, team=ask.team), route=route, history=history,
    )
    return request, stored_excerpt(text)


def file_hosts(slack) -> list[str]:
    """Hosts the bot token may be sent to for a file: slack.file_hosts and the Web API's own host."""
    from urllib.parse import urlsplit

    return [*slack.file_hosts, urlsplit(slack.api_url).hostname or ""]


def thread_history(records) -> list[dict]:
    history: list[dict] = []
    for rec in records:
        if rec.question:
            history.append({"role": "user", "content": rec.question})
        history.append({"role": "assistant", "content": f"Root cause: {rec.root_cause}\nFix: {rec.fix}"})
    return history


def root_message_log(client, channel: str, thread_ts: str) -> str | None:
    """The log in a thread's first message (a forwarded alert, a paste), for a mention in its thread."""
    try:
        replies = client.conversations_replies(channel=channel, ts=thread_ts, limit=1)
    except Exception as exc:  # no history scope in this channel: answer from what we have
        log.info("cannot read thread root: %s", exc)
        return None
    messages = replies.get("messages") or []
    return parse_message(messages[0]).log if messages else None


def stored_excerpt(text: str) -> str:
    """Redacted, and the tail only: a failure is nearly always at the end of a log."""
    return redact_text(text[-STORED_EXCERPT_CHARS:])


def post_answer(deps: SlackDeps, client, ask: Ask, thread_ts: str, placeholder: str, answer, answer_id: str,
                heading: str | None = None) -> None:
    started = time.perf_counter()
    messages = answer_messages(answer, answer_id, allowed=mentions_in(ask.asker_text), heading=heading)
    # Linked before it shows, so a reaction on the fresh answer always finds it.
    deps.store.set_answer_message(answer_id, ask.channel, placeholder)
    _update(client, ask.channel, placeholder, messages[0])
    for message in messages[1:]:
        _post(client, ask.channel, thread_ts, message)
    STAGE_SECONDS.labels(stage="post").observe(time.perf_counter() - started)


def _post(client, channel: str, thread_ts: str | None, message: SlackMessage) -> str:
    response = client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, text=message.text, blocks=message.blocks,
        unfurl_links=False, unfurl_media=False,
    )
    return response["ts"]


def _update(client, channel: str, ts: str, message: SlackMessage) -> None:
    client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)


def _ephemeral(client, ask: Ask, text: str) -> None:
    try:
        client.chat_postEphemeral(channel=ask.channel, user=ask.user, text=text, thread_ts=ask.thread_ts)
    except Exception as exc:  # e.g. the bot is not in the channel: nothing more we can say
        log.info("ephemeral reply failed: %s", exc)


def _apologise(client, ask: Ask, placeholder: str | None, text: str) -> None:
    try:
        if placeholder:
            _update(client, ask.channel, placeholder, notice(text))
        elif ask.thread_ts:
            _post(client, ask.channel, ask.thread_ts, notice(text))
    except Exception:
        log.exception("could not post the apology")
