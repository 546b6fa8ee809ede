"""Shared fixtures. Every test runs offline, with its own CIBOT_HOME and no stray config."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from needs import missing

from training.finetune.reallogs import datasets_dir

# Nothing may reach a model hub: the embedded model and the packaged MiniLM must be enough.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["ANONYMIZED_TELEMETRY"] = "False"

REPO = Path(__file__).resolve().parent.parent
DATASETS = datasets_dir()

# The unit tier (`pytest -m unit`, about 20 s): modules that load no model and no embedder, open no
# Chroma and start no server. Their slow-, integration- or postgres-marked tests stay out of it.
UNIT_MODULES = frozenset({
    "test_architecture.py", "test_ci_targets.py", "test_ciconfig.py", "test_config.py", "test_corpusgen.py",
    "test_excerpt.py", "test_excerpt_cli.py", "test_excerpt_ecosystems.py", "test_grounding.py",
    "test_naming.py", "test_reallogs.py", "test_redact.py", "test_slack_format.py", "test_slack_manifest.py",
    "test_store.py", "test_training_data.py", "test_training_notes.py", "test_training_prompt.py",
    "test_training_slots.py",
})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in UNIT_MODULES and not any(
                item.get_closest_marker(m) for m in ("slow", "integration", "postgres")):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """A fresh data home per test, and no cibot.toml or CIBOT_/SLACK_ variables leaking in."""
    for key in list(os.environ):
        if key.startswith(("CIBOT_", "SLACK_")) and key != "CIBOT_DATASETS" and not key.startswith("CIBOT_TEST_"):
            monkeypatch.delenv(key, raising=False)
    home = tmp_path_factory.mktemp("cibot-home")
    monkeypatch.setenv("CIBOT_HOME", str(home))
    # Tests run on the 4.3M-parameter fixture base (seconds, not minutes); the tests of the real
    # default base (SmolLM2) set model.base themselves.
    monkeypatch.setenv("CIBOT_MODEL__BASE", "embedded")
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    yield home


@pytest.fixture
def ci_api():
    """One local fake of the GitHub, GitLab and Jenkins APIs (tests/ci_fakes.py), per test."""
    from ci_fakes import FakeCiApi

    api = FakeCiApi()
    yield api
    api.close()


@pytest.fixture
def cibot_home(isolated_env) -> Path:
    return isolated_env


@pytest.fixture
def datasets() -> Path:
    if not (DATASETS / "logchunks.jsonl").exists():
        missing(f"shared datasets not found at {DATASETS} (set CIBOT_DATASETS)")
    return DATASETS
