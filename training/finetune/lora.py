"""LoRA fine-tuning, straight through: data, model, LoRA config, train, evaluate, save.

Runs the same on one CPU, one GPU, or many under `accelerate launch -m bot dev train-job --config
cfg.json` (each process takes every N-th batch; only the main process writes).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pydantic import Field

from training.base.model import CHECKSUMS, base_identity, load_causal_lm, mixed_precision, pick_device
from training.eval.evaluate import default_heldout, evaluate
from training.finetune.data import data_hash, load, mix, to_messages
from training.finetune.features import (
    collate,
    encode_chat,
    length_grouped_batches,
    prompt_budget_chars,
)
from training.finetune.notes import add_retrieved_notes
from training.inference.generate import LocalGenerator
from training.inference.slots import model_slots, slotted
from training.registry import AdapterRegistry
from training.settings import TrainSettings

# Leaf Linear names that carry the attention and MLP projections, per architecture family.
KNOWN_TARGETS = (
    "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",  # Llama, Qwen, Mistral
    "c_attn", "c_proj", "c_fc",  # GPT-2
    "query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h",  # GPT-NeoX, Falcon
    "Wqkv", "out_proj", "fc1", "fc2",  # Phi, OPT
)


class LoraConfig(TrainSettings):
    """One training run: the recipe is the [train] settings model itself (TrainSettings, whose
    defaults are the shipped adapter's), plus what only this run needs. Unknown fields are refused."""

    data: list[str]
    home: str  # CIBOT_HOME: base models in home/models, adapters in home/adapters
    base: str = "embedded"
    heldout: str | None = None
    out_version: str | None = None
    promote: bool = False
    device: str = "auto"
    max_steps: int | None = None  # optimizer steps; None = as many as the epochs take
    eval_limit: int = 40
    checkpoint_every: int = 50
    resume: bool = True
    threads: int = 0  # torch CPU threads; 0 keeps torch's default
    init_adapter: str | None = None  # continue from this adapter's weights (its r and targets), not from zero
    # With init_adapter: the share of the starting weights mixed back into the trained ones at the
    # end (weight-space ensembling, as WiSE-FT): the new rows' gain is mostly kept and what the
    # steps cost elsewhere mostly undone. 0 keeps the trained weights as they are.
    mix_with_parent: float = Field(0.0, ge=0.0, lt=1.0)
    extra_meta: dict = Field(default_factory=dict)


@dataclass
class TrainResult:
    version: str
    train_examples: int
    eval: dict
    seconds: float
    data: dict = field(default_factory=dict)
    tokens_per_s: float = 0.0

    def to_json(self) -> dict:
        return {"version": self.version, "train_examples": self.train_examples, "eval": self.eval,
                "seconds": self.seconds, "data": self.data, "tokens_per_s": self.tokens_per_s}


def detect_target_modules(model) -> list[str]:
    """The projection layers LoRA should adapt: known names if present, else every inner Linear."""
    import torch

    leaves = {name.rsplit(".", 1)[-1] for name, mod in model.named_modules()
              if isinstance(mod, torch.nn.Linear) and not name.endswith("lm_head")}
    known = sorted(leaves.intersection(KNOWN_TARGETS))
    return known or sorted(leaves)


def main(cfg: LoraConfig, on_step: Callable[[int, int, float], None] | None = None) -> TrainResult:
    import torch


    started = time.time()
    home = Path(cfg.home)
    # 1. data: validated, deduplicated, redacted, reduced to excerpts, rendered by build_messages
    data = load(cfg.data)
    examples = mix(data.examples, cfg.synthetic_rows, cfg.held_out_fold, cfg.seed)
    digest = data_hash(examples)  # of the data as given, before notes are added
    noted = add_retrieved_notes(examples, cfg.retrieved_notes, cfg.seed)
    budget = prompt_budget_chars(cfg.max_seq_len)
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)

    # 2. model (to the device later, by accelerate)
    model, tokenizer, source = load_causal_lm(cfg.base, home / "models", device="cpu")
    features = [encode_chat(tokenizer, slotted(to_messages(ex, budget), model_slots(model)), cfg.max_seq_len)
                for ex in examples]

    # 3-4. LoRA and training, resumable from a checkpoint keyed by config, data and base
    ckpt = home / "adapters" / ".checkpoints" / _fingerprint(cfg, digest, source) / "state.pt"
    train_started = time.time()
    model, losses, tokens, is_main = train_adapter(model, tokenizer, features, cfg, checkpoint=ckpt, on_step=on_step)
    train_seconds = time.time() - train_started

    # 5. evaluate on the fixed held-out split (the main process only)
    metrics: dict = {"train_loss": _tail_mean(losses)}
    if is_main:
        metrics.update(_evaluate(model, tokenizer, cfg, budget))

    # 6. save a new version, atomically, with everything needed to reproduce it
    version = ""
    if is_main:
        registry = AdapterRegistry(home / "adapters")
        with registry.staging(cfg.out_version) as stage:
            model.save_pretrained(str(stage.path))
            (stage.path / "train_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in losses))
            stage.meta.update(
                base=cfg.base, base_source=base_identity(cfg.base) or _base_identity(source), data_hash=digest,
                data={**data.summary(), "retrieved_notes_added": noted}, data_files=[str(p) for p in cfg.data], metrics=metrics,
                hyperparameters=_hyperparameters(cfg, model.peft_config["default"]), train_examples=len(examples),
                train_tokens=tokens, train_seconds=round(train_seconds, 1),
                train_tokens_per_s=round(tokens / max(train_seconds, 1e-9), 1), **cfg.extra_meta,
            )
        version = stage.version
        if cfg.promote:
            registry.promote(version)
        if ckpt.parent.exists():
            import shutil

            shutil.rmtree(ckpt.parent, ignore_errors=True)
    return TrainResult(version=version, train_examples=len(examples), eval=metrics,
                       seconds=round(time.time() - started, 1), data=data.summary(),
                       tokens_per_s=round(tokens / max(train_seconds, 1e-9), 1))


def train_adapter(model, tokenizer, features: list, cfg: LoraConfig, *, checkpoint: Path | None = None,
                  on_step: Callable[[int, int, float], None] | None = None):
    """Wrap `model` with LoRA and train it on `features`. Returns (peft model, loss log, tokens
    seen, is_main_process). Only LoRA weights get gradients; the base stays frozen."""
    import torch
    from accelerate import Accelerator
    from peft import LoraConfig as PeftLoraConfig
    from peft import get_peft_model


    device = pick_device(cfg.device)
    accelerator = Accelerator(cpu=device == "cpu", mixed_precision=mixed_precision(device, cfg.mixed_precision),
                              gradient_accumulation_steps=cfg.grad_accum)
    if cfg.init_adapter:
        # A retrain continues from the serving adapter: what it knew stays, the new rows add to it.
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, cfg.init_adapter, is_trainable=True)
    else:
        peft_config = PeftLoraConfig(
            r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, bias="none",
            target_modules=detect_target_modules(model), task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, peft_config)
    parent = {name: p.detach().clone() for name, p in model.named_parameters()
              if p.requires_grad} if cfg.init_adapter and cfg.mix_with_parent else {}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=cfg.learning_rate, weight_decay=0.0)
    model, optimizer = accelerator.prepare(model, optimizer)

    # Length-grouped batches over (possibly fractional) epochs; each process takes its share.
    plan = _plan(features, cfg)[accelerator.process_index::accelerator.num_processes]
    total_steps = math.ceil(len(plan) / cfg.grad_accum)
    if cfg.max_steps:
        total_steps = min(total_steps, cfg.max_steps)
        plan = plan[: total_steps * cfg.grad_accum]
    schedule = _linear_schedule(total_steps, cfg.learning_rate)
    start, losses = (0, [])
    if checkpoint is not None and cfg.resume:
        start, losses = _resume(checkpoint, accelerator, model, optimizer)
    tokens = 0
    model.train()
    for i in range(start, len(plan)):
        batch = {k: v.to(accelerator.device) for k, v in
                 collate([features[j] for j in plan[i]], tokenizer.pad_token_id).items()}
        step = i // cfg.grad_accum + 1
        for group in optimizer.param_groups:
            group["lr"] = schedule(step)
        with accelerator.accumulate(model):
            loss = model(**batch).loss
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        tokens += int(batch["attention_mask"].sum())
        losses.append({"batch": i + 1, "step": step, "loss": round(loss.item(), 4), "lr": schedule(step)})
        if on_step:
            on_step(i + 1, len(plan), losses[-1]["loss"])
        if checkpoint is not None and (i + 1) % (cfg.checkpoint_every * cfg.grad_accum) == 0 and i + 1 < len(plan):
            _checkpoint(checkpoint, accelerator, model, optimizer, i + 1, losses)
    accelerator.wait_for_everyone()
    model = accelerator.unwrap_model(model)
    if parent:
        _mix_back(model, parent, cfg.mix_with_parent)
    return model, losses, tokens, accelerator.is_main_process


def _mix_back(model, parent: dict, share: float) -> None:
    """Trained weights become (1 - share) * trained + share * parent, in place."""
    import torch

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in parent:
                p.mul_(1.0 - share).add_(parent[name].to(p.device, p.dtype), alpha=share)


def _plan(features, cfg: LoraConfig) -> list[list[int]]:
    lengths = [len(f.input_ids) for f in features]
    per_epoch = math.ceil(len(features) / cfg.batch_size)
    wanted = max(1, math.ceil(per_epoch * cfg.epochs))
    plan: list[list[int]] = []
    epoch = 0
    while len(plan) < wanted:
        plan += length_grouped_batches(lengths, cfg.batch_size, cfg.seed + epoch)
        epoch += 1
    return plan[:wanted]


def _linear_schedule(total: int, peak: float) -> Callable[[int], float]:
    warmup = max(1, total // 20)

    def lr(step: int) -> float:
        if step <= warmup:
            return peak * step / warmup
        return peak * max(0.05, 1 - (step - warmup) / max(total - warmup, 1))
    return lr


def _fingerprint(cfg: LoraConfig, digest: str, source: str) -> str:
    import hashlib

    keyed = {k: v for k, v in cfg.model_dump().items()
             if k not in ("resume", "eval_limit", "promote", "out_version", "threads", "extra_meta")}
    return hashlib.sha256(json.dumps([keyed, digest, source], sort_keys=True, default=str).encode()).hexdigest()[:16]


def _checkpoint(path: Path, accelerator, model, optimizer, done: int, losses: list) -> None:
    import os

    import torch
    from peft import get_peft_model_state_dict

    if not accelerator.is_main_process:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"adapter": get_peft_model_state_dict(accelerator.unwrap_model(model)),
             "optimizer": optimizer.state_dict(), "done": done, "losses": losses,
             "rng": torch.get_rng_state()}
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # a kill mid-save leaves the previous checkpoint intact


def _resume(path: Path, accelerator, model, optimizer) -> tuple[int, list]:
    import torch
    from peft import set_peft_model_state_dict

    if not path.is_file():
        return 0, []
    state = torch.load(path, map_location="cpu", weights_only=False)
    set_peft_model_state_dict(accelerator.unwrap_model(model), state["adapter"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"])
    print(f"resuming from {path} at batch {state['done']}", file=sys.stderr)
    return state["done"], state["losses"]


def _evaluate(model, tokenizer, cfg: LoraConfig, budget: int) -> dict:
    heldout = Path(cfg.heldout) if cfg.heldout else default_heldout()
    if not heldout or not heldout.is_file() or cfg.eval_limit <= 0:
        return {}
    model.eval()
    generator = LocalGenerator.from_loaded(model, tokenizer, base=cfg.base, adapter="candidate")
    return evaluate(generator, heldout, limit=cfg.eval_limit, budget_chars=budget)


def _tail_mean(losses: list[dict], n: int = 20) -> float | None:
    tail = [r["loss"] for r in losses[-n:]]
    return round(sum(tail) / len(tail), 4) if tail else None


def _base_identity(source: str) -> str:
    listing = Path(source) / CHECKSUMS
    if listing.is_file():
        import hashlib

        return "sha256:" + hashlib.sha256(listing.read_bytes()).hexdigest()
    return source


def _hyperparameters(cfg: LoraConfig, peft_config) -> dict:
    return {"lora_r": peft_config.r, "lora_alpha": peft_config.lora_alpha, "lora_dropout": cfg.lora_dropout,
            "init_adapter": cfg.init_adapter, "mix_with_parent": cfg.mix_with_parent,
            "learning_rate": cfg.learning_rate, "epochs": cfg.epochs, "batch_size": cfg.batch_size,
            "grad_accum": cfg.grad_accum, "max_seq_len": cfg.max_seq_len, "seed": cfg.seed,
            "retrieved_notes": cfg.retrieved_notes, "synthetic_rows": cfg.synthetic_rows,
            "held_out_fold": cfg.held_out_fold,
            "target_modules": sorted(peft_config.target_modules)}


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cibot dev train-job", description=__doc__)
    parser.add_argument("--config", required=True, help="JSON file with LoraConfig fields")
    args = parser.parse_args(argv)
    cfg = LoraConfig(**json.loads(Path(args.config).read_text()))

    def report(done: int, total: int, loss: float) -> None:
        if done % 10 == 0 or done == total:
            print(f"batch {done}/{total} loss {loss:.4f}", file=sys.stderr, flush=True)

    result = main(cfg, on_step=report)
    print(json.dumps(result.to_json()))
    return 0
