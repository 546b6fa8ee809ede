"""`cibot train base`: build the embedded base model from the repository's own text.

Raw-text causal-LM pretraining on CI logs (the training split's inputs), runbooks and incidents.
It never sees the "Root Cause: ... Fix: ..." answer shape or the held-out split, so what the LoRA
adapter adds on top of it is measurable. The result is a small artifact (weights, tokenizer,
RECIPE.md, SHA256SUMS.txt) shipped in training/assets/base.
"""
from __future__ import annotations

import json
import math
import random
import re
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

from retrieval.errors import InputError
from training.base.model import mixed_precision, write_checksums
from training.base.tokenizer import save_tokenizer, train_tokenizer
from training.corpusgen import build
from training.inference.prompt import LOG_MAX_LINES, _snippet, focus_log, parse_answer
from training.inference.slots import build_map, ranges, slot_tokens

REPO = Path(__file__).resolve().parents[2]
ANSWER_LABEL = re.compile(r"(?im)^\s*(root\s*cause|fix)\s*:\s*")


@dataclass
class BaseRecipe:
    vocab_size: int = 4096
    hidden_size: int = 256
    layers: int = 4
    heads: int = 8
    intermediate_size: int = 704
    context: int = 1024
    block: int = 384  # pretraining sequence length
    batch_size: int = 16
    steps: int = 3000  # the shipped base (RECIPE.md); about 35 min on 2 CPU threads
    learning_rate: float = 3e-3
    warmup: int = 60
    seed: int = 1234
    # Extra log + explanation documents from the repo's corpus generator, with seeds other than the
    # shipped corpus's (7); rows that share key identifiers with the held-out split are dropped.
    synthetic_seeds: tuple[int, ...] = (101, 102, 103, 104, 105)
    synthetic_per_type: int = 100
    identifier_slots: int = 20  # training/inference/slots.py: identifiers become <id1>..<idN> tokens
    mixed_precision: str = "auto"  # bf16 autocast where the CPU/GPU has native bf16 units
    max_seconds: float = 3600.0  # a guard for slow machines; the steps reached are recorded


def collect_texts(repo: Path = REPO, recipe: BaseRecipe | None = None) -> list[str]:
    """Documents to pretrain on: each training-split example and each incident as its focused log
    followed by its explanation in plain prose (no "Root Cause:"/"Fix:" labels, no JSON), plus the
    runbooks, plus more such documents from the corpus generator under other seeds. A model this
    small learns to name the failing file or test from a log only if it has read many logs next to
    prose that names them; the answer *shape* is left for the adapter to add."""
    recipe = recipe or BaseRecipe()
    rows: list[dict | None] = []
    for path in (repo / "training" / "data" / "train.jsonl", repo / "retrieval" / "knowledge" / "incidents.jsonl"):
        if path.is_file():
            rows += [_json(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows += synthetic_rows(recipe.synthetic_seeds, recipe.synthetic_per_type, _heldout_keys(repo))
    texts: list[str] = []
    seen: set[str] = set()
    for row in rows:
        doc = _pair(row, recipe.identifier_slots)
        if doc and doc not in seen:
            seen.add(doc)
            texts.append(doc)
    for md in sorted((repo / "retrieval" / "knowledge" / "runbooks").glob("**/*.md")):
        texts.append(md.read_text(encoding="utf-8"))
    return [t for t in texts if t.strip()]


def synthetic_rows(seeds: tuple[int, ...], per_type: int, exclude: set[frozenset]) -> list[dict]:
    """Generated rows (both of each seed's splits) whose key identifiers no held-out row shares."""
    if not seeds or per_type <= 0:
        return []

    rows: list[dict] = []
    for seed in seeds:
        train, heldout = build.generate(seed=seed, per_type=per_type)
        rows += [r for r in train + heldout if frozenset(r.get("key_ids") or ()) not in exclude]
    return rows


def _heldout_keys(repo: Path) -> set[frozenset]:
    path = repo / "training" / "data" / "heldout.jsonl"
    if not path.is_file():
        return set()
    rows = (_json(line) for line in path.read_text(encoding="utf-8").splitlines())
    return {frozenset(r.get("key_ids") or ()) for r in rows if r and r.get("key_ids")}


def _json(line: str) -> dict | None:
    try:
        row = json.loads(line)
    except ValueError:
        return None
    return row if isinstance(row, dict) else None


def _pair(row: dict | None, slots: int = 0) -> str:
    """Reference notes (when the row has them, as the prompt shows them), a log (cut as the prompt
    cuts it) and its explanation as unlabelled prose; with `slots`, identifiers delexicalised the
    way training/inference/slots.py does it for prompts."""

    if not row or not isinstance(row.get("input"), str):
        return ""
    log = focus_log(row["input"])
    output = row.get("output") if isinstance(row.get("output"), str) else ""
    parsed = parse_answer(output)
    prose = "\n".join(parsed) if parsed else ANSWER_LABEL.sub("", output)
    title = row.get("title") if isinstance(row.get("title"), str) else ""
    context = row.get("context") if isinstance(row.get("context"), list) else []
    notes = "\n".join(n for n in (_snippet(i, c) for i, c in enumerate(context[:3], 1)) if n)
    head = "\n\n".join(p for p in (title, notes and "Reference notes:\n" + notes, log and "Log:\n" + log) if p.strip())
    if slots:
        names = build_map(head, slots)
        head, prose = names.apply(head), names.apply(prose)
    return "\n\n".join(p for p in (head, prose) if p.strip())


def _redacted(texts: list[str]) -> list[str]:
    try:
        from retrieval.logs.redact import redact
    except ImportError:  # log intelligence not installed yet; the corpus is synthetic anyway
        return texts
    return [redact(t).text for t in texts]


def build_model(recipe: BaseRecipe, tokenizer):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(recipe.seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=recipe.hidden_size, num_hidden_layers=recipe.layers,
        num_attention_heads=recipe.heads, num_key_value_heads=recipe.heads,
        intermediate_size=recipe.intermediate_size, max_position_embeddings=recipe.context,
        rms_norm_eps=1e-5, tie_word_embeddings=True, rope_theta=10000.0,
        bos_token_id=None, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    if recipe.identifier_slots:
        config.identifier_slots = recipe.identifier_slots  # read by training/slots.model_slots
    return LlamaForCausalLM(config)


def _blocks(texts: list[str], tokenizer, block: int, seed: int):
    import torch

    eot = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    ids: list[int] = []
    for text in texts:
        ids += tokenizer(text, add_special_tokens=False)["input_ids"] + [eot]
    n = len(ids) // block
    if n == 0:
        raise InputError("the pretraining corpus is smaller than one block")
    data = torch.tensor(ids[: n * block]).view(n, block)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return data[order], len(ids)


def _batches(data, batch_size: int) -> Iterator:
    while True:
        for i in range(0, len(data) - batch_size + 1, batch_size):
            yield data[i:i + batch_size]


def pretrain(out_dir: Path, recipe: BaseRecipe | None = None, texts: list[str] | None = None,
             on_step: Callable[[int, float], None] | None = None) -> dict:
    """Train tokenizer and model, write the artifact to `out_dir`; returns what RECIPE.md records."""
    import torch


    recipe = recipe or BaseRecipe()
    texts = _redacted(texts if texts is not None else collect_texts(recipe=recipe))
    bf16 = mixed_precision("cpu", recipe.mixed_precision) == "bf16"
    if not texts:
        raise InputError("no text to pretrain on", hint="generate training/data/train.jsonl first")
    random.seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    started = time.time()

    tokenizer = train_tokenizer(texts, recipe.vocab_size, slot_tokens(recipe.identifier_slots))
    tokenizer.model_max_length = recipe.context
    data, corpus_tokens = _blocks(texts, tokenizer, recipe.block, recipe.seed)
    model = build_model(recipe, tokenizer)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, weight_decay=0.1, betas=(0.9, 0.95))
    schedule = _cosine(recipe.warmup, recipe.steps, recipe.learning_rate)
    losses: list[float] = []
    step = 0
    for step, batch in enumerate(_batches(data, min(recipe.batch_size, len(data))), 1):
        for group in opt.param_groups:
            group["lr"] = schedule(step)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if on_step:
            on_step(step, losses[-1])
        if step >= recipe.steps or time.time() - started > recipe.max_seconds:
            break
    facts = {
        "recipe": asdict(recipe), "steps_done": step, "documents": len(texts),
        "corpus_tokens": corpus_tokens, "tokens_seen": step * recipe.batch_size * recipe.block,
        "final_loss": round(sum(losses[-20:]) / max(len(losses[-20:]), 1), 4),
        "parameters": sum(p.numel() for p in model.parameters()),
        "seconds": round(time.time() - started, 1), "torch": torch.__version__,
        "precision": "bf16 autocast" if bf16 else "float32", "threads": torch.get_num_threads(),
    }
    _write_artifact(Path(out_dir), model, tokenizer, facts)
    write_checksums(Path(out_dir))
    return facts


def _cosine(warmup: int, total: int, peak: float) -> Callable[[int], float]:
    def lr(step: int) -> float:
        if step <= warmup:
            return peak * step / max(warmup, 1)
        progress = min((step - warmup) / max(total - warmup, 1), 1.0)
        return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
    return lr


def _write_artifact(out: Path, model, tokenizer, facts: dict) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(str(out))

    save_tokenizer(tokenizer, out)
    (out / "RECIPE.md").write_text(_recipe_md(facts))


def _recipe_md(facts: dict) -> str:
    r = facts["recipe"]
    return f"""# Embedded base model

Built by `cibot train base` (training/base/pretrain.py) from this repository's own text; nothing was
downloaded. Rebuild with the same command; the checksums in SHA256SUMS.txt cover every file here.

- Architecture: Llama (transformers LlamaForCausalLM), {r['layers']} layers, hidden {r['hidden_size']},
  {r['heads']} heads, MLP {r['intermediate_size']}, context {r['context']}, tied embeddings;
  {facts['parameters']:,} parameters, float32 safetensors.
- Tokenizer: byte-level BPE (tokenizers), vocabulary {r['vocab_size']} incl. <|endoftext|>,
  <|im_start|>, <|im_end|>, plus {r['identifier_slots']} identifier slot tokens <id1>..<id{r['identifier_slots']}>
  (training/inference/slots.py; config.json says `identifier_slots`): {_slot_ranges(r['identifier_slots'])},
  each ranked by line salience; the identifiers of
  training/data/common_ids.txt stay text. ChatML chat template in tokenizer_config.json.
- Corpus: {facts['documents']} documents, {facts['corpus_tokens']:,} tokens: each example of
  training/data/train.jsonl, each incident of retrieval/knowledge/incidents.jsonl and
  {r['synthetic_per_type']} generated instances per failure type for each of the corpus-generator seeds
  {', '.join(map(str, r['synthetic_seeds']))} (training.corpusgen; rows sharing key identifiers with the
  held-out split dropped), each as its reference notes if any, its log (cut to the prompt's {LOG_MAX_LINES} focus
  lines, no timestamps) and its explanation as unlabelled prose; and
  retrieval/knowledge/runbooks/*.md; redacted. Not the held-out split, not the answer format
  ("Root Cause:"/"Fix:" labels, JSON), not ../shared/datasets.
- Training: causal-LM loss, blocks of {r['block']} tokens, batch {r['batch_size']}, AdamW
  (lr {r['learning_rate']}, warmup {r['warmup']}, cosine to 10%, wd 0.1), {facts.get('precision', 'float32')}, seed {r['seed']};
  {facts['steps_done']} steps, {facts['tokens_seen']:,} tokens seen, final loss {facts['final_loss']},
  {facts['seconds']} s on CPU ({facts.get('threads', '?')} torch threads, torch {facts['torch']}).{_stopped(facts)}
"""


def _slot_ranges(size: int) -> str:
    """ "files <id1>-<id4>, names <id5>-<id11>, ..." for a model with `size` slots."""

    return ", ".join(f"{kind}s <id{r.start}>-<id{r.stop - 1}>" if len(r) > 1 else f"{kind}s <id{r.start}>"
                     for kind, r in ranges(size).items())


def _stopped(facts: dict) -> str:
    r = facts["recipe"]
    if facts["steps_done"] >= r["steps"]:
        return ""
    return (f"\n- Stopped by the {r['max_seconds']:.0f} s guard at step {facts['steps_done']} of {r['steps']} "
            "(the host was shared); rebuilding on an idle machine runs all steps.")
