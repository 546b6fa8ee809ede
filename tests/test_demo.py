"""`cibot demo` end to end on embedded defaults: real model, real adapter, real Chroma index."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def run_cibot(*args: str, home) -> subprocess.CompletedProcess:
    env = {**os.environ, "CIBOT_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, capture_output=True,
                          text=True, timeout=900)


def test_demo_answers_every_bundled_log_through_the_full_pipeline(cibot_home):
    done = run_cibot("demo", "--json", home=cibot_home)
    assert done.returncode == 0, done.stderr[-2000:]
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    names = sorted(os.path.basename(a["file"]) for a in answers)
    assert names == ["docker-copy-missing.log", "maven-dependency.log", "npm-missing-package-json.log",
                     "pytest-assertion.log"]
    for a in answers:
        assert a["route"] == "hybrid"
        assert a["root_cause"].strip() and a["fix"].strip()
        assert a["evidence"] and all(isinstance(e["n"], int) and e["n"] > 0 for e in a["evidence"])
        assert a["model"]["base"] and a["model"]["adapter"], "the LoRA adapter must serve the demo"
        assert {"excerpt", "retrieve", "generate"} <= set(a["timings"])
    docker = next(a for a in answers if a["file"].endswith("docker-copy-missing.log"))
    assert any("requirements.txt" in e["text"] for e in docker["evidence"])
    # Everything was written under CIBOT_HOME: model, adapter registry, index.
    assert (cibot_home / "chroma").is_dir() and (cibot_home / "adapters").is_dir()


def test_demo_refuses_a_missing_log_with_one_line(cibot_home, tmp_path):
    done = run_cibot("demo", str(tmp_path / "nope.log"), home=cibot_home)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
