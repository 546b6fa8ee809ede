"""Wire the Bolt app: a Web API client with rate-limit retries, event de-duplication, listeners."""
from __future__ import annotations

import logging

from bot.server.observability import new_request_id
from bot.slack.deps import SlackDeps
from bot.slack.listeners import commands, feedback, mentions, messages, shortcuts

log = logging.getLogger(__name__)
SURFACES = (mentions, messages, commands, shortcuts, feedback)


def web_client(settings):
    """The Web API client everything posts with: the configured base URL, and 429s retried."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
    )

    token = settings.slack.bot_token.get_secret_value() if settings.slack.bot_token else None
    client = WebClient(token=token, base_url=settings.slack.api_url)
    client.retry_handlers.extend([RateLimitErrorRetryHandler(max_retry_count=3), ConnectionErrorRetryHandler()])
    return client


def build_app(deps: SlackDeps, *, client=None, process_before_response: bool = False):
    """The Bolt app. Listeners run after the ack (process_before_response=False): this is a
    long-running server, not a FaaS function, and answers go to our own pool anyway. (True is
    only for FaaS hosts, and for the bench's naive baseline.)"""
    from slack_bolt import App

    secret = deps.settings.slack.signing_secret
    app = App(
        client=client or web_client(deps.settings),
        signing_secret=secret.get_secret_value() if secret else "",
        process_before_response=process_before_response,
        name="cibot",
        # Bolt otherwise copies the root logger's level at this moment onto its "cibot" logger and
        # keeps it, so a later configure_logging() could not change what Bolt's logs show.
        logger=logging.getLogger(__name__),
    )
    app.use(dedup_middleware(deps))
    for surface in SURFACES:
        surface.register(app, deps)
    return app


def dedup_middleware(deps: SlackDeps):
    """Drop a second delivery of the same event (Slack retries, or one event sent to two replicas).

    Keyed on event_id in the shared store, so it holds across replicas; X-Slack-Retry-Num alone
    would not catch a retry that reaches another pod.
    """
    from slack_bolt import BoltResponse

    def dedup_events(body: dict, request, next):
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        new_request_id(event_id)
        if event_id and not _claim(deps, f"slack:event:{event_id}"):
            retry = (request.headers.get("x-slack-retry-num") or [None])[0]
            log.info("duplicate event dropped", extra={"event_id": event_id, "retry_num": retry})
            return BoltResponse(status=200, body="")
        return next()

    return dedup_events


def _claim(deps: SlackDeps, key: str) -> bool:
    try:
        return deps.store.claim(key)
    except Exception:  # fail open: a duplicate answer is better than none
        log.exception("event claim failed")
        return True
