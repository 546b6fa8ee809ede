"""Config layers, validation messages and secret masking."""
from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.settings import load_settings
from retrieval.errors import ConfigError


def test_defaults_put_everything_under_cibot_home(cibot_home):
    s = load_settings()
    assert s.home == cibot_home
    assert s.paths.chroma == cibot_home / "chroma"
    assert s.store_url == f"sqlite:///{cibot_home / 'cibot.db'}"


def test_toml_overrides_defaults_and_env_overrides_toml(tmp_path, monkeypatch):
    cfg = tmp_path / "cibot.toml"
    cfg.write_text('[retrieval]\ntop_k = 7\ncollection = "from-toml"\n[model]\nmax_new_tokens = 99\n')
    monkeypatch.setenv("CIBOT_RETRIEVAL__TOP_K", "9")
    s = load_settings(cfg)
    assert s.retrieval.top_k == 9  # env beats toml
    assert s.retrieval.collection == "from-toml"  # toml beats default
    assert s.model.max_new_tokens == 99


def test_config_found_in_working_directory_and_via_env(tmp_path, monkeypatch):
    (tmp_path / "cibot.toml").write_text("[retrieval]\ntop_k = 3\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().retrieval.top_k == 3
    other = tmp_path / "other.toml"
    other.write_text("[retrieval]\ntop_k = 4\n")
    monkeypatch.setenv("CIBOT_CONFIG", str(other))
    assert load_settings().retrieval.top_k == 4


def test_slack_standard_names_are_read(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-123")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "shh")
    monkeypatch.setenv("CIBOT_SLACK_API_URL", "http://127.0.0.1:9/api/")
    s = load_settings()
    assert s.slack.bot_token.get_secret_value() == "xoxb-123"
    assert s.slack.api_url == "http://127.0.0.1:9/api/"


def test_invalid_value_names_the_setting(monkeypatch):
    monkeypatch.setenv("CIBOT_RETRIEVAL__TOP_K", "many")
    with pytest.raises(ConfigError, match=r"retrieval\.top_k.*CIBOT_RETRIEVAL__TOP_K"):
        load_settings()


def test_unknown_key_in_toml_is_refused(tmp_path):
    cfg = tmp_path / "cibot.toml"
    cfg.write_text("[retrieval]\ntopk = 3\n")
    with pytest.raises(ConfigError, match="retrieval.topk"):
        load_settings(cfg)


def test_config_show_masks_secrets(monkeypatch, capsys):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret-token")
    monkeypatch.setenv("CIBOT_STORE__URL", "postgresql://cibot:hunter2@db:5432/cibot")
    assert main(["config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert "xoxb-very-secret-token" not in out and "hunter2" not in out
    assert data["slack"]["bot_token"] == "**********"
    assert data["store"]["url"].startswith("postgresql://cibot:***@db")


def test_config_show_masks_credentials_inside_urls(monkeypatch, capsys):
    monkeypatch.setenv("CIBOT_SLACK_API_URL", "https://proxy:Pr0xyPw@slack-proxy.corp/api/")
    monkeypatch.setenv("CIBOT_MODEL__OPENAI_BASE_URL", "http://vllm:VllmPw9@vllm.corp:8001/v1")
    assert main(["config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    assert "Pr0xyPw" not in out and "VllmPw9" not in out
    data = json.loads(out)
    assert data["slack"]["api_url"] == "https://proxy:***@slack-proxy.corp/api/"
    assert data["model"]["openai_base_url"] == "http://vllm:***@vllm.corp:8001/v1"


def test_ci_provider_settings_keep_their_names_and_mask_their_tokens(monkeypatch, capsys):
    env = {"CIBOT_GITHUB__TOKEN": "ghp_secret000", "CIBOT_GITHUB__API_URL": "https://ghe.corp/api/v3",
           "CIBOT_GITLAB__TOKEN": "glpat-secret000", "CIBOT_GITLAB__URL": "https://gitlab.corp/",
           "CIBOT_JENKINS__URL": "https://jenkins.corp", "CIBOT_JENKINS__USER": "bot",
           "CIBOT_JENKINS__TOKEN": "jenkins-secret000"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert "secret000" not in out
    assert data["github"] == {"token": "**********", "api_url": "https://ghe.corp/api/v3", "web_url": None}
    assert data["gitlab"] == {"token": "**********", "url": "https://gitlab.corp"}
    assert data["jenkins"] == {"url": "https://jenkins.corp", "user": "bot", "token": "**********"}


def test_ci_provider_urls_must_be_http_and_carry_no_credentials(monkeypatch, capsys):
    monkeypatch.setenv("CIBOT_GITLAB__URL", "https://user:pw@gitlab.corp")
    assert main(["config", "show"]) == 1
    assert "gitlab.url" in capsys.readouterr().err


def test_cli_bad_config_value_is_one_line_no_traceback(monkeypatch, capsys):
    monkeypatch.setenv("CIBOT_MODEL__DEVICE", "tpu")
    assert main(["config", "show"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.device" in err and "Traceback" not in err


def test_cli_missing_config_file(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "nope.toml"), "config", "show"]) == 1
    assert "config file not found" in capsys.readouterr().err


def test_help_lists_every_subcommand(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("ask", "excerpt", "ingest", "search", "train", "eval", "adapters", "serve",
                 "retrain", "feedback", "config", "demo"):
        assert name in out
