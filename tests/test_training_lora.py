"""LoRA training on a tiny real model: frozen base, moving adapter, masked loss, CLI contract."""
import json

import pytest
from tiny_models import build_tiny_base, tiny_rows, write_jsonl

from training.finetune.features import IGNORE, encode_chat
from training.inference.prompt import build_messages

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    return build_tiny_base(tmp_path_factory.mktemp("tiny") / "base")


def _messages(answer="Root Cause: requirements.txt is missing.\nFix: add it"):
    return build_messages(excerpt="COPY failed: requirements.txt not found") + [{"role": "assistant", "content": answer}]


def test_loss_covers_only_the_answer_tokens(tiny_base):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_base))
    feature = encode_chat(tok, _messages(), max_seq_len=512)
    answer_ids = [t for t in feature.labels if t != IGNORE]
    first = feature.labels.index(answer_ids[0])
    assert all(t == IGNORE for t in feature.labels[:first])
    assert feature.input_ids[first:] == answer_ids
    assert tok.decode(answer_ids) == "Root Cause: requirements.txt is missing.\nFix: add it<|im_end|>"
    prompt = tok.decode(feature.input_ids[:first])
    assert prompt.startswith("<|im_start|>system\n") and prompt.endswith("<|im_start|>assistant\n")


def test_long_prompts_are_cut_in_the_middle_not_the_answer(tiny_base):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_base))
    msgs = build_messages(excerpt="\n".join(f"noise line {i}" for i in range(300))) + [
        {"role": "assistant", "content": "Root Cause: a\nFix: b"}]
    feature = encode_chat(tok, msgs, max_seq_len=128)
    assert len(feature.input_ids) == 128
    assert tok.decode([t for t in feature.labels if t != IGNORE]) == "Root Cause: a\nFix: b<|im_end|>"


def test_training_moves_lora_weights_and_leaves_base_weights_unchanged(tiny_base, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.finetune.data import load, to_messages
    from training.finetune.lora import LoraConfig, detect_target_modules, train_adapter

    tok = AutoTokenizer.from_pretrained(str(tiny_base))
    model = AutoModelForCausalLM.from_pretrained(str(tiny_base))
    assert detect_target_modules(model) == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    examples = load([write_jsonl(tmp_path / "d.jsonl", tiny_rows(16))]).examples
    features = [encode_chat(tok, to_messages(ex), 256) for ex in examples]
    cfg = LoraConfig(data=[], home=str(tmp_path), batch_size=4, max_steps=4, learning_rate=1e-2, lora_r=4)
    peft_model, losses, tokens, _ = train_adapter(model, tok, features, cfg)
    assert len(losses) == 4 and tokens > 0
    after = peft_model.state_dict()
    moved = [k for k, v in after.items() if "lora_B" in k and v.abs().sum() > 0]
    assert moved, "lora_B starts at zero and must move"
    for name, value in before.items():
        key = next(k for k in after if k.endswith(name.replace(".weight", ".base_layer.weight")) or k.endswith(name))
        assert torch.equal(after[key], value), f"base weight {name} changed"


def test_cibot_train_writes_a_version_and_prints_the_json_contract(tiny_base, tmp_path, capsys):
    from bot.cli import main

    data = write_jsonl(tmp_path / "train.jsonl", tiny_rows(24))
    assert main(["train", "--data", str(data), "--base", str(tiny_base), "--max-steps", "2",
                 "--eval-limit", "0", "--out", "team-a", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(out) == {"version", "train_examples", "eval", "seconds"}
    assert out["version"] == "team-a" and out["train_examples"] == 24
    assert main(["adapters", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["current"] == "team-a"
    row = next(r for r in listing["versions"] if r["version"] == "team-a")
    assert row["base"] == str(tiny_base) and row["data_hash"].startswith("sha256:")


def test_cibot_train_on_an_all_invalid_file_fails_clearly_and_writes_nothing(tiny_base, tmp_path, capsys, cibot_home):
    from bot.cli import main
    from training.registry import AdapterRegistry

    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n{\"input\": \"x\"}\n")
    registry = AdapterRegistry(cibot_home / "adapters")
    before = (registry.versions(), registry.current())
    assert main(["train", "--data", str(bad), "--base", str(tiny_base)]) == 1
    err = capsys.readouterr().err
    assert "no valid training examples" in err and "bad.jsonl:1" in err
    after = (registry.versions(), registry.current())
    assert after == before
    assert not [p for p in (cibot_home / "adapters").glob("v*") if p.name not in before[0]]


def test_a_killed_training_leaves_no_version_and_resumes_from_its_checkpoint(tiny_base, tmp_path):
    from training.finetune.lora import LoraConfig, main

    data = write_jsonl(tmp_path / "train.jsonl", tiny_rows(16))
    cfg = LoraConfig(data=[str(data)], home=str(tmp_path / "home"), base=str(tiny_base), batch_size=4,
                     max_steps=4, checkpoint_every=2, eval_limit=0, promote=True)

    def killed_at_batch_3(done, total, loss):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        main(cfg, on_step=killed_at_batch_3)
    adapters = tmp_path / "home" / "adapters"
    assert [p.name for p in adapters.iterdir() if not p.name.startswith(".")] == []
    resumed = []
    result = main(cfg, on_step=lambda done, total, loss: resumed.append(done))
    assert resumed == [3, 4]  # picked up after the checkpoint written at batch 2
    assert result.version == "v0001"
    assert not (adapters / ".checkpoints").exists() or not any((adapters / ".checkpoints").iterdir())



def test_every_train_setting_reaches_the_lora_config():
    # `cibot train` and the retrainer pass [train] to LoraConfig whole (**model_dump()), so a new
    # setting can neither be dropped on the way nor name a field LoraConfig lacks.
    from pydantic import ValidationError

    from training.finetune.lora import LoraConfig
    from training.settings import TrainSettings

    settings = TrainSettings(lora_r=8, retrieved_notes=0.25)
    cfg = LoraConfig(data=[], home="h", **settings.model_dump())
    assert (cfg.lora_r, cfg.retrieved_notes) == (8, 0.25)
    assert LoraConfig(data=[], home="h").lora_r == TrainSettings().lora_r  # one recipe, one set of defaults
    with pytest.raises(ValidationError, match="lora_rank"):
        LoraConfig(data=[], home="h", lora_rank=8)  # a misspelt field is refused, not ignored


def test_a_retrain_continues_from_the_given_adapter_not_from_zero(tiny_base, tmp_path):
    import torch
    from safetensors.torch import load_file

    from training.finetune.lora import LoraConfig, main
    from training.registry import AdapterRegistry

    data = str(write_jsonl(tmp_path / "train.jsonl", tiny_rows(16)))
    common = dict(data=[data], home=str(tmp_path), base=str(tiny_base), batch_size=4, eval_limit=0,
                  retrieved_notes=0.0, lora_r=4, lora_alpha=8)
    first = main(LoraConfig(**common, max_steps=3, learning_rate=1e-2)).version
    registry = AdapterRegistry(tmp_path / "adapters")
    parent = registry.path(first)
    # One step at a tiny learning rate from the parent stays next to it; from zero, lora_B is ~0.
    child = main(LoraConfig(**{**common, "lora_r": 16}, max_steps=1, learning_rate=1e-6,
                            init_adapter=str(parent))).version
    a = load_file(str(parent / "adapter_model.safetensors"))
    b = load_file(str(registry.path(child) / "adapter_model.safetensors"))
    assert a.keys() == b.keys()
    lora_b = [k for k in a if "lora_B" in k]
    assert lora_b and all(torch.allclose(a[k], b[k], atol=1e-3) for k in lora_b)
    assert all(a[k].abs().sum() > 0 for k in lora_b)
    assert registry.meta(child)["hyperparameters"]["lora_r"] == 4  # the parent's shape, not the asked 16


def test_mixing_with_the_parent_lands_between_parent_and_trained_weights(tiny_base, tmp_path):
    import torch
    from safetensors.torch import load_file

    from training.finetune.lora import LoraConfig, main
    from training.registry import AdapterRegistry

    data = str(write_jsonl(tmp_path / "train.jsonl", tiny_rows(16)))
    common = dict(data=[data], home=str(tmp_path), base=str(tiny_base), batch_size=4, eval_limit=0,
                  retrieved_notes=0.0, lora_r=4, lora_alpha=8, resume=False)
    registry = AdapterRegistry(tmp_path / "adapters")
    parent = registry.path(main(LoraConfig(**common, max_steps=3, learning_rate=1e-2)).version)

    def weights(mix):
        version = main(LoraConfig(**common, max_steps=2, learning_rate=1e-2, init_adapter=str(parent),
                                  mix_with_parent=mix)).version
        assert registry.meta(version)["hyperparameters"]["mix_with_parent"] == mix
        return load_file(str(registry.path(version) / "adapter_model.safetensors"))

    start = load_file(str(parent / "adapter_model.safetensors"))
    trained, mixed = weights(0.0), weights(0.5)
    moved = [k for k in start if not torch.allclose(start[k], trained[k])]
    assert moved  # the steps changed the weights, and the mix is halfway back
    assert all(torch.allclose(mixed[k], (start[k] + trained[k]) / 2, atol=1e-5) for k in start)
