"""The root configuration: defaults, then cibot.toml, then CIBOT_* (and SLACK_*) environment variables.

Built once at an entry point (`load_settings`) and passed down; nothing reads the environment at
import time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.ci.settings import CiFetchSettings, GitHubSettings, GitLabSettings, JenkinsSettings
from retrieval.errors import ConfigError
from retrieval.settings import RetrievalSettings
from training.settings import ModelSettings, TrainSettings

CONFIG_FILENAME = "cibot.toml"


class SlackSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    # Web API base URL; GovSlack and test servers set it (CIBOT_SLACK_API_URL).
    api_url: str = "https://slack.com/api/"
    # Channels where forwarded CI alerts are analysed without a mention.
    watch_channels: list[str] = Field(default_factory=list)
    # Empty means every channel may use the bot.
    allowed_channels: list[str] = Field(default_factory=list)
    # Extra bot ids or user ids whose messages count as CI alerts.
    alert_senders: list[str] = Field(default_factory=list)
    thumbs_up: list[str] = Field(default_factory=lambda: ["+1", "thumbsup", "white_check_mark"])
    thumbs_down: list[str] = Field(default_factory=lambda: ["-1", "thumbsdown"])
    max_attachment_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    # The only hosts an attachment is downloaded from with the bot token (GovSlack: add its file host).
    file_hosts: list[str] = Field(default_factory=lambda: ["files.slack.com", "files.slack-gov.com"])
    user_rate_per_min: int = Field(10, ge=1)
    channel_rate_per_min: int = Field(30, ge=1)
    # Leading-keyword overrides ("rag: ...") are always on; this maps channel id -> route.
    channel_routes: dict[str, Literal["finetune", "rag", "hybrid"]] = Field(default_factory=dict)
    # Channel for retrain reports; empty means do not post.
    report_channel: str = ""
    # Where a thumbs-up answer is found again as a resolved incident: its own channel, or the whole team.
    incident_visibility: Literal["channel", "team"] = "channel"
    # Post the log's own extractive answer at once, then replace it with the model's answer.
    progressive_answers: bool = True
    # Answers waiting or in generation beyond this get a polite "busy" reply.
    max_pending: int = Field(64, ge=1)


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    github_secret: SecretStr | None = None
    gitlab_token: SecretStr | None = None
    generic_secret: SecretStr | None = None
    # "owner/repo" (or GitLab path) -> Slack channel id.
    repo_channels: dict[str, str] = Field(default_factory=dict)
    default_channel: str = ""
    # An identical body delivered again (new or no delivery id) within this window is not answered again.
    dedupe_window_s: int = Field(3600, ge=0)


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "0.0.0.0"
    port: int = Field(3000, ge=0, le=65535)
    mode: Literal["socket", "http"] = "socket"
    workers: int = Field(2, ge=1, le=64)
    log_format: Literal["json", "console"] = "json"


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Empty means SQLite at $CIBOT_HOME/cibot.db.
    url: SecretStr | None = None


class SchedulerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    cron: str = "0 3 * * *"
    timezone: str = "UTC"
    min_new_examples: int = Field(20, ge=1)
    # Starter rows replayed beside the thumbs-up rows (a seeded sample over the whole corpus), so a
    # retrain that continues from the current adapter keeps what it knew; 0 replays all of it.
    replay_rows: int = Field(160, ge=0)
    # A retrain continues from the serving adapter, so it takes small steps: the [train] rate is for
    # training from zero. On SmolLM2, 30 steps at 2e-4 are meant to learn a new failure type from 40 thumbs-up
    # rows while held-out recall stays within the gate margin (README, "Where it stands").
    retrain_learning_rate: float = Field(2e-4, gt=0.0, lt=1.0)
    retrain_max_steps: int = Field(30, ge=1)
    # Then the trained weights are averaged with the serving adapter's, this share of each
    # (LoraConfig.mix_with_parent): most of the new failure type is kept, most of the drift undone.
    retrain_parent_mix: float = Field(0.6, ge=0.0, lt=1.0)
    misfire_grace_s: int = Field(3600, ge=1)
    # A candidate is promoted only if no gated metric drops by more than this.
    gate_margin: float = Field(0.02, ge=0.0, le=1.0)
    # Metrics the gate checks ("suite.metric" or "metric"); empty means every score both report.
    gate_metrics: list[str] = Field(default_factory=list)
    # `cibot eval` suites both adapters are scored on, plus the held-out thumbs-up slice.
    eval_suites: list[str] = Field(default_factory=lambda: ["heldout", "json"])
    eval_limit: int = Field(100, ge=1)  # examples per suite, to bound the gate's run time
    # The newest thumbs-up examples kept out of training to test the candidate on.
    holdout_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    # A retrain holds a database lease this long, renewed while it runs; a killed run's expires.
    lock_ttl_s: int = Field(600, ge=5)
    train_timeout_s: int = Field(6 * 3600, ge=10)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CIBOT_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    home: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("cibot")))
    slack: SlackSettings = Field(default_factory=SlackSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    github: GitHubSettings = Field(default_factory=GitHubSettings)
    gitlab: GitLabSettings = Field(default_factory=GitLabSettings)
    jenkins: JenkinsSettings = Field(default_factory=JenkinsSettings)
    ci: CiFetchSettings = Field(default_factory=CiFetchSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    train: TrainSettings = Field(default_factory=TrainSettings)

    _toml_file: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, SlackEnvSource(settings_cls), env_settings]
        if _TOML_PATH.path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=_TOML_PATH.path))
        return tuple(sources)

    @property
    def paths(self) -> "HomeLayout":
        return HomeLayout(self.home)

    @property
    def store_url(self) -> str:
        if self.store.url is not None:
            return self.store.url.get_secret_value()
        return f"sqlite:///{self.paths.database}"


class SlackEnvSource(PydanticBaseSettingsSource):
    """Slack's standard variable names, which carry no CIBOT_ prefix."""

    NAMES = {
        "SLACK_BOT_TOKEN": "bot_token",
        "SLACK_APP_TOKEN": "app_token",
        "SLACK_SIGNING_SECRET": "signing_secret",
        "CIBOT_SLACK_API_URL": "api_url",
    }

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        slack = {key: os.environ[env] for env, key in self.NAMES.items() if os.environ.get(env)}
        return {"slack": slack} if slack else {}


class _TomlPath:
    path: Path | None = None


_TOML_PATH = _TomlPath()


@dataclass(frozen=True)
class HomeLayout:
    """Where everything cibot writes lives. Nothing is written into the source tree."""

    root: Path

    @property
    def chroma(self) -> Path:
        return self.root / "chroma"

    @property
    def database(self) -> Path:
        return self.root / "cibot.db"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def adapters(self) -> Path:
        return self.root / "adapters"

    @property
    def scheduler(self) -> Path:
        return self.root / "scheduler.db"

    @property
    def reports(self) -> Path:
        return self.root / "reports"


def find_config_file(explicit: Path | None) -> Path | None:
    """--config, then CIBOT_CONFIG, then ./cibot.toml. An explicit path that is missing is an error."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file not found: {explicit}")
        return explicit
    env = os.environ.get("CIBOT_CONFIG")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path} (from CIBOT_CONFIG)")
        return path
    local = Path.cwd() / CONFIG_FILENAME
    return local if local.is_file() else None


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build the effective settings. Invalid values raise ConfigError naming the setting."""
    path = find_config_file(config)
    _TOML_PATH.path = path
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
    except ValueError as exc:  # a malformed TOML file
        raise ConfigError(f"cannot parse config file {path}: {exc}") from None
    finally:
        _TOML_PATH.path = None


def _describe(exc: ValidationError, path: Path | None) -> str:
    err = exc.errors()[0]
    name = ".".join(str(p) for p in err["loc"]) or "settings"
    env = "CIBOT_" + "__".join(str(p) for p in err["loc"]).upper()
    where = f" (check {path} or {env})" if path else f" (check {env})"
    more = f"; {len(exc.errors()) - 1} more" if len(exc.errors()) > 1 else ""
    return f"invalid setting {name}: {err['msg']}{where}{more}"


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The effective config as plain JSON-able data, with every secret masked."""
    data = settings.model_dump(mode="json")
    if settings.store.url is not None:
        data["store"]["url"] = _mask_url(settings.store.url.get_secret_value())
    data["store_url"] = _mask_url(settings.store_url)
    # Any other URL may carry user:password@ too (a proxy in front of Slack or vLLM).
    data["slack"]["api_url"] = _mask_userinfo(settings.slack.api_url)
    data["model"]["openai_base_url"] = _mask_userinfo(settings.model.openai_base_url)
    return data


def _mask_userinfo(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc, query="***" if parts.query else ""))


def _mask_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a database URL: mask all of it
        return "**********"
