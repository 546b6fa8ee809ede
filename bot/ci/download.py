"""Stream a log download into a capped `LogFile`, with retries, backoff and Retry-After honoured."""
from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from bot.ci.fetched import FetchFailed, http_reason
from bot.ci.logfile import LogFile, save_stream

CHUNK = 64 * 1024
RETRY_STATUSES = (429, 500, 502, 503, 504)


def session(retries: int, max_wait_s: float) -> requests.Session:
    retry = Retry(
        total=retries, connect=retries, read=retries, status=retries, backoff_factor=0.5,
        status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True, retry_after_max=max_wait_s, raise_on_status=False,
    )
    s = requests.Session()
    s.trust_env = False  # a proxy from the environment must not see provider tokens by surprise
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def download(s: requests.Session, url: str, *, provider: str, cap: int, timeout_s: float,
             headers: dict | None = None, name: str = "job.log", allow_redirects: bool = True) -> LogFile:
    with s.get(url, headers=headers or {}, stream=True, timeout=timeout_s, allow_redirects=allow_redirects) as resp:
        if resp.status_code >= 400:
            raise FetchFailed(http_reason(resp.status_code, provider, rate_limited=is_rate_limited(resp)))
        return save_stream(resp.iter_content(CHUNK), cap, name)


def is_rate_limited(resp) -> bool:
    if resp.status_code == 429:
        return True
    return resp.status_code == 403 and (
        "Retry-After" in resp.headers or resp.headers.get("X-RateLimit-Remaining") == "0"
    )
