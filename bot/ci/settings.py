"""Where each CI provider lives and how to reach it. Tokens are secrets: masked in `config show`.

Environment names (kept exactly; other tools set them): CIBOT_GITHUB__TOKEN, CIBOT_GITHUB__API_URL,
CIBOT_GITLAB__TOKEN, CIBOT_GITLAB__URL, CIBOT_JENKINS__URL, CIBOT_JENKINS__USER, CIBOT_JENKINS__TOKEN.
Read-only scopes are enough: GitHub `actions:read` + `contents:read`, GitLab `read_api`.
"""
from __future__ import annotations

from typing import Annotated, Optional
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

GITHUB_API = "https://api.github.com"


def _http_url(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    if parts.username or parts.password:
        raise ValueError("put credentials in the token setting, not in the URL")
    return value.rstrip("/")


HttpUrl = Annotated[Optional[str], AfterValidator(_http_url)]


class GitHubSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: SecretStr | None = None
    # GitHub Enterprise Server: https://HOST/api/v3
    api_url: HttpUrl = GITHUB_API
    # Where people see runs (job links in alerts); derived from api_url when empty.
    web_url: HttpUrl = None

    @property
    def configured(self) -> bool:
        return self.token is not None and bool(self.token.get_secret_value())

    @property
    def web_host(self) -> str:
        if self.web_url:
            return urlsplit(self.web_url).netloc.lower()
        host = urlsplit(self.api_url).netloc.lower()
        return "github.com" if host == "api.github.com" else host


class GitLabSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: SecretStr | None = None
    url: HttpUrl = None  # e.g. https://gitlab.com or https://gitlab.example.com

    @property
    def configured(self) -> bool:
        return bool(self.url) and self.token is not None and bool(self.token.get_secret_value())


class JenkinsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl = None
    user: str | None = None
    token: SecretStr | None = None  # an API token of `user`

    @property
    def configured(self) -> bool:
        return bool(self.url)


class CiFetchSettings(BaseModel):
    """Limits shared by every provider."""

    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(20.0, gt=0, le=600)
    retries: int = Field(3, ge=0, le=10)
    # Longest wait honoured from Retry-After / X-RateLimit-Reset; beyond it the fetch fails.
    max_rate_limit_wait_s: float = Field(60.0, ge=0)
    # A log beyond this keeps its tail: failures are nearly always at the end.
    max_log_bytes: int = Field(64 * 1024 * 1024, ge=64 * 1024)
    # Failed jobs of one run answered (each in the run's thread).
    max_jobs: int = Field(5, ge=1, le=50)
    fetch_passing_log: bool = True
    fetch_ci_config: bool = True
