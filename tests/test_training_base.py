"""Base models: the shipped embedded artifact, installing it, and clear errors for missing ones."""
import json

import pytest
from needs import missing
from tiny_models import build_tiny_base

from retrieval.errors import CibotError, ConfigError
from training.base.model import BASE_ASSET, CHECKSUMS, ensure_base_model, resolve_base, verify_checksums
from training.base.pretrain import REPO
from training.base.tokenizer import CHAT_TEMPLATE


def test_missing_hub_model_names_the_id_and_how_to_provide_it_offline(tmp_path):
    with pytest.raises(CibotError) as err:
        resolve_base("no-such-org/no-such-model", tmp_path)
    text = str(err.value)
    assert "no-such-org/no-such-model" in text
    assert "huggingface-cli download no-such-org/no-such-model --local-dir" in text
    assert "model.base" in text


def test_missing_local_directory_is_named(tmp_path):
    with pytest.raises(CibotError, match="not found"):
        resolve_base(str(tmp_path / "nowhere" / "model"), tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CibotError, match="no config.json"):
        resolve_base(str(tmp_path / "empty"), tmp_path)


@pytest.mark.slow
def test_ensure_base_model_installs_a_verified_copy_once(tmp_path):
    asset = build_tiny_base(tmp_path / "asset")
    installed = ensure_base_model(tmp_path / "models", asset)
    assert verify_checksums(installed) == verify_checksums(asset)
    assert ensure_base_model(tmp_path / "models", asset) == installed
    (installed / "config.json").write_text("{}")  # a damaged install is replaced
    assert verify_checksums(ensure_base_model(tmp_path / "models", asset)) == verify_checksums(asset)
    (asset / "model.safetensors").write_bytes(b"tampered")
    with pytest.raises(ConfigError, match="checksum"):
        ensure_base_model(tmp_path / "other", asset)


@pytest.mark.slow
def test_tiny_base_tokenizer_carries_the_chatml_template(tmp_path):
    from transformers import AutoTokenizer

    asset = build_tiny_base(tmp_path / "asset")
    config = json.loads((asset / "tokenizer_config.json").read_text())
    assert config["chat_template"] == CHAT_TEMPLATE
    tok = AutoTokenizer.from_pretrained(str(asset))
    text = tok.apply_chat_template([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
                                   tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\n"
    assert tok.eos_token == "<|im_end|>"


def test_shipped_embedded_artifact_is_small_complete_and_verified():
    if not (BASE_ASSET / CHECKSUMS).is_file():
        missing("the embedded base is not built (cibot train base)")
    verify_checksums(BASE_ASSET)
    names = {p.name for p in BASE_ASSET.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "RECIPE.md"} <= names
    assert sum(p.stat().st_size for p in BASE_ASSET.iterdir()) < 50 * 1024 * 1024
    assert json.loads((BASE_ASSET / "config.json").read_text())["model_type"] == "llama"


def test_pretraining_corpus_never_holds_a_heldout_case():
    from training.base.pretrain import _heldout_keys, synthetic_rows

    heldout = _heldout_keys(REPO)
    rows = synthetic_rows((7,), 10, heldout)  # seed 7 is the shipped corpus's own seed
    assert heldout and rows
    assert not {frozenset(r["key_ids"]) for r in rows} & heldout


def test_pretraining_document_shows_notes_log_and_unlabelled_prose():
    from training.base.pretrain import _pair

    row = {"input": "2024-01-01T00:00:00Z npm ERR! 404 Not Found - GET https://registry.npmjs.org/left-padd",
           "output": "Root Cause: left-padd does not exist. Fix: Fix the name in package.json.",
           "context": [{"title": "npm 404", "text": "Check the package name."}]}
    doc = _pair(row)
    assert doc.index("[1] npm 404: Check the package name.") < doc.index("npm ERR! 404") < doc.index("left-padd does not exist")
    assert "Root Cause" not in doc and "2024-01-01" not in doc


def test_mixed_precision_follows_the_hardware_unless_told(monkeypatch):
    import training.base.model as base

    monkeypatch.setattr(base, "cpu_bf16_supported", lambda: True)
    assert base.mixed_precision("cpu") == "bf16"
    assert base.mixed_precision("cpu", "no") == "no"
    monkeypatch.setattr(base, "cpu_bf16_supported", lambda: False)
    assert base.mixed_precision("cpu") == "no"
    assert base.mixed_precision("mps") == "no"
