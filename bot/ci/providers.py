"""The configured providers, built once at the entry point; `fetch(target)` never raises."""
from __future__ import annotations

import logging
import time

from bot.ci.fetched import Fetched, reason_of
from bot.ci.target import Hosts, Target

log = logging.getLogger(__name__)

ENV_HINT = {
    "github": "set CIBOT_GITHUB__TOKEN (scopes actions:read, contents:read)",
    "gitlab": "set CIBOT_GITLAB__URL and CIBOT_GITLAB__TOKEN (scope read_api)",
    "jenkins": "set CIBOT_JENKINS__URL, CIBOT_JENKINS__USER and CIBOT_JENKINS__TOKEN",
}


class Providers:
    def __init__(self, settings):
        self.settings = settings
        self.hosts = Hosts.from_settings(settings)
        self._clients: dict = {}

    def configured(self, provider: str) -> bool:
        section = getattr(self.settings, provider, None)
        return bool(section is not None and section.configured)

    def client(self, provider: str):
        if provider not in self._clients:
            from bot.ci.github import GitHubProvider
            from bot.ci.gitlab import GitLabProvider
            from bot.ci.jenkins import JenkinsProvider

            kind = {"github": GitHubProvider, "gitlab": GitLabProvider, "jenkins": JenkinsProvider}[provider]
            self._clients[provider] = kind(getattr(self.settings, provider), self.settings.ci)
        return self._clients[provider]

    def fetch(self, target: Target) -> Fetched:
        """The target's failed jobs with their logs; what could not be fetched is said in `problems`
        and each job's `notes`, never raised."""
        if not self.configured(target.provider):
            return Fetched(problems=[f"could not fetch the log of {target.label}: {target.provider} is not "
                                     f"configured ({ENV_HINT[target.provider]})"])
        started = time.perf_counter()
        try:
            fetched = self.client(target.provider).fetch(target)
        except Exception as exc:  # a client bug or an unexpected payload: say so, answer from the payload
            log.warning("fetch failed", extra={"provider": target.provider, "error": type(exc).__name__})
            return Fetched(problems=[f"could not fetch the log of {target.label}: "
                                     f"{reason_of(exc, target.provider, self.settings.ci.timeout_s)}"])
        log.info("fetched", extra={"provider": target.provider, "jobs": len(fetched.jobs),
                                   "seconds": round(time.perf_counter() - started, 3)})
        return fetched
