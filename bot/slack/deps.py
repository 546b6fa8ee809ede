"""What the Slack listeners and the HTTP server share, built once at the entry point."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from bot.engine.answer import Answer, AnswerRequest
from bot.slack.pool import WorkPool
from bot.slack.ratelimit import RateLimiter


class Engine(Protocol):
    def answer(self, request: AnswerRequest) -> Answer: ...


@dataclass
class SlackDeps:
    settings: Any  # bot.settings.Settings
    store: Any  # bot.store.Store
    engine: Callable[[], Engine]  # blocks until the engine has loaded
    feedback: Any = None  # bot.learning.feedback.FeedbackService; by default one without an index
    pool: WorkPool | None = None
    user_limit: RateLimiter | None = None
    channel_limit: RateLimiter | None = None
    readiness: Any = None  # bot.server.observability.Readiness
    watcher: Any = None  # bot.learning.hotswap.AdapterWatcher, once the engine has loaded
    ci: Any = None  # bot.ci.providers.Providers: fetches job logs from the configured CI providers

    def __post_init__(self) -> None:
        slack = self.settings.slack
        if self.feedback is None:
            from bot.learning.feedback import FeedbackService

            self.feedback = FeedbackService(self.store, None, self.settings)
        if self.ci is None:
            from bot.ci.providers import Providers

            self.ci = Providers(self.settings)
        if self.pool is None:
            self.pool = WorkPool(self.settings.server.workers, slack.max_pending)
        if self.user_limit is None:
            self.user_limit = RateLimiter(slack.user_rate_per_min)
        if self.channel_limit is None:
            self.channel_limit = RateLimiter(slack.channel_rate_per_min)

    @property
    def bot_token(self) -> str | None:
        token = self.settings.slack.bot_token
        return token.get_secret_value() if token is not None else None
