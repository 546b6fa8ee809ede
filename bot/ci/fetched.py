"""What a fetch returns, and how a provider's failure reads in an answer."""
from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field

from bot.ci.logfile import LogFile


@dataclass
class JobLogs:
    """One failed job: its log, the last passing log of the same job, and its CI config."""

    name: str
    url: str | None = None
    log: LogFile | None = None
    pass_log: LogFile | None = None
    ci_config: str | None = None
    ci_config_name: str | None = None
    notes: list[str] = field(default_factory=list)  # what could not be fetched, and why

    def close(self) -> None:
        for part in (self.log, self.pass_log):
            if part is not None:
                part.close()


@dataclass
class Fetched:
    jobs: list[JobLogs] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # nothing at all could be fetched: why

    def close(self) -> None:
        for job in self.jobs:
            job.close()


class FetchFailed(Exception):
    """A provider call failed; `reason` is short and safe to show (no token, no URL query)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


HINTS = {
    401: "unauthorized: check the token",
    403: "forbidden: the token lacks read access, or the rate limit was hit",
    404: "not found: the log may have expired, or the token cannot see this project",
    410: "gone: the log has expired",
    429: "rate limited",
}


def http_reason(status: int | None, provider: str, rate_limited: bool = False) -> str:
    if rate_limited:
        return f"{provider} API {status or 403}: rate limit exceeded"
    if status is None:
        return f"{provider} API: no response"
    hint = HINTS.get(status) or ("server error" if status >= 500 else "request refused")
    return f"{provider} API {status}: {hint}"


def reason_of(exc: BaseException, provider: str, timeout_s: float) -> str:
    """A one-line reason for a failed call, whatever the client library raised."""
    if isinstance(exc, FetchFailed):
        return exc.reason
    import requests

    if isinstance(exc, (requests.Timeout, socket.timeout, TimeoutError)):
        return f"{provider} API: timed out after {timeout_s:g}s"
    if isinstance(exc, requests.exceptions.RetryError):  # retries and waits spent on error answers
        found = re.search(r"too many (\d{3}) error", str(exc))
        status = int(found.group(1)) if found else None
        return http_reason(status, provider, rate_limited=status in (403, 429)) + " (after retries)"
    if isinstance(exc, requests.ConnectionError):
        return f"{provider} API: cannot connect"
    name = type(exc).__name__
    if "Timeout" in name:  # python-jenkins wraps timeouts in its own exception
        return f"{provider} API: timed out after {timeout_s:g}s"
    status = _status_of(exc)
    rate = "RateLimit" in name
    if status is not None or rate:
        return http_reason(status, provider, rate_limited=rate)
    return f"{provider} API: {name}"


def _status_of(exc: BaseException) -> int | None:
    for attr in ("status", "response_code", "status_code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    if isinstance(value, int):
        return value
    if "NotFound" in type(exc).__name__:
        return 404
    found = re.search(r"\[(\d{3})\]", str(exc))  # python-jenkins: "... authentication failed [401]: ..."
    return int(found.group(1)) if found else None
