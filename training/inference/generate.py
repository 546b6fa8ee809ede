"""LocalGenerator: a transformers causal LM (+ an optional peft LoRA adapter) behind the Generator
protocol. Loaded once; one request runs at a time under a lock, a bounded number wait, the rest
are refused as busy; adapters are swapped between requests, never during one."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.errors import CibotError
from training.base.model import load_causal_lm
from training.inference.decoding import (
    FIX_LABEL,
    LABEL_AGAIN,
    as_json,
    at_closing_quote,
    at_fix_label,
    first_sentence,
    json_string,
    processors,
    repeats,
    stop_when,
    string_fields,
    unrepeated,
    whole_clauses,
)
from training.inference.prompt import format_answer
from training.inference.serving import check_adapter_base, serving_copy, serving_form
from training.inference.slots import delexicalise, model_slots, slot_token
from training.inference.types import Generation, ModelInfo

if TYPE_CHECKING:
    from training.inference.slots import SlotMap

# Of the new-token budget, the most the root cause may take before "Fix:" is given.
CAUSE_SHARE = 0.6
# Guided text answers are one root-cause sentence and one fix sentence, each capped: decoding is
# the answer's cost on a CPU (~30 ms a token for SmolLM2 on 2 cores), and the adapter's causes ran
# ~58 tokens (p50); cut at 48 they named the key identifier as often as whole (25 of 40 fold-0
# logs; at 40, 24), README. A capped sentence is cut back to its last whole clause, or a quote
# from the log it was writing is closed with an ellipsis.
CAUSE_TOKENS = 48
FIX_TOKENS = 32
# Each part's first tokens may not end it (no end of text, no line break): a part that ends at once
# leaves "Root Cause: \nFix: ...", which is no answer. (The one empty cause seen on fold 0 had a
# different origin, a quote the cap cut whole: decoding.whole_clauses now keeps it, closed.)
OPENING = 3


@dataclass
class _Prompt:
    ids: list[int]
    slots: "SlotMap | None"  # training.inference.slots.SlotMap, for a model with identifier slots
    # The KV cache of the request's last run and the token ids it holds: the next guided run
    # (the fix after the cause, the next JSON field) starts from it instead of reading the whole
    # prompt again. Only used under the generator's lock.
    cache: object = None
    cached: list[int] = dc_field(default_factory=list)


class Busy(CibotError):
    """Every generation slot is taken; try again shortly."""


class LocalGenerator:
    def __init__(self, base: str = "embedded", adapter_dir: Path | None = None,
                 adapter_version: str | None = None, device: str = "auto", queue_size: int = 16,
                 models_dir: Path | None = None, max_new_tokens: int = 160, quantize: str = "none",
                 cause_tokens: int = CAUSE_TOKENS, fix_tokens: int = FIX_TOKENS):

        model, tokenizer, _ = load_causal_lm(base, models_dir, device=device)
        self._setup(model, tokenizer, base, queue_size, max_new_tokens)
        self.cause_tokens, self.fix_tokens = cause_tokens, fix_tokens
        form = serving_form(model, quantize)
        if form != "none":
            # Served merged (in `form`): the float base stays aside (never served) so that a swap
            # can merge the next adapter into a fresh copy of it. With an adapter, the swap below
            # makes the one serving copy; without, the base alone is copied now.
            self._float_base = model
            self.form = form
            if adapter_dir is None:
                self.model = serving_copy(model, None, form)
        if adapter_dir is not None:
            self.swap_adapter(adapter_dir, adapter_version or Path(adapter_dir).name)

    @classmethod
    def from_loaded(cls, model, tokenizer, *, base: str, adapter: str | None = None,
                    queue_size: int = 16, max_new_tokens: int = 160) -> "LocalGenerator":
        """Wrap a model already in memory (a PeftModel just trained, say)."""
        self = cls.__new__(cls)
        self._setup(model, tokenizer, base, queue_size, max_new_tokens)
        self._adapter = adapter
        return self

    def _setup(self, model, tokenizer, base, queue_size, max_new_tokens) -> None:
        model.eval()
        _tune_threads(model)
        self.model, self.tokenizer, self.base = model, tokenizer, base
        self.max_new_tokens = max_new_tokens
        self.cause_tokens, self.fix_tokens = CAUSE_TOKENS, FIX_TOKENS
        self._adapter: str | None = None
        self._loads = 0
        self._lock = threading.Lock()
        # One running plus queue_size waiting; a request beyond that is refused, not queued forever.
        self._slots = threading.BoundedSemaphore(queue_size + 1)
        self._waiting = 0
        self.window = int(getattr(model.config, "max_position_embeddings", 0) or 2048)

        self.slots = model_slots(model)
        self._slot_token_ids: dict[int, int] | None = None  # slot number -> token id, on first use
        # Text answers are decoded in the "Root Cause: ... Fix: ..." shape (see _guided_text).
        self.guided_text = True
        self._logprobs = [0.0, 0]
        self._float_base = None  # set when serving a merged copy
        self._break_ids: list[int] | None = None  # see _breaks
        self.form = "none"  # how the model is served (training.inference.serving.serving_form)

    @property
    def quantized(self) -> bool:
        """Served with int8 Linear layers."""
        return self.form == "int8"

    # --- Generator protocol ----------------------------------------------------------------------
    def info(self) -> ModelInfo:
        return ModelInfo(base=self.base, adapter=self._adapter)

    def count_tokens(self, text: str) -> int:
        # verbose=False: counting a long excerpt is not feeding it to the model, so no length warning.
        return len(self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def queue_depth(self) -> int:
        return self._waiting

    def generate(self, messages: list[dict], *, max_new_tokens: int | None = None,
                 json_schema: dict | None = None, cause_only: bool = False) -> Generation:
        if not self._slots.acquire(blocking=False):
            raise Busy("the model is busy", hint="too many requests are waiting; try again shortly")
        try:
            self._waiting += 1
            with self._lock:
                self._waiting -= 1
                return self._generate_locked(messages, max_new_tokens or self.max_new_tokens, json_schema,
                                             cause_only)
        finally:
            self._slots.release()

    # --- adapters --------------------------------------------------------------------------------
    def swap_adapter(self, adapter_dir: Path | None, version: str | None = None) -> None:
        """Serve `adapter_dir` from the next request on (None: the base model alone). Waits for the
        request in flight; waiting requests then run with the new adapter."""
        from peft import PeftModel

        check_adapter_base(adapter_dir, version, self.base)
        if self._float_base is not None:
            # Merge off the lock, so requests keep being answered by the current model meanwhile.
            model = serving_copy(self._float_base, adapter_dir, self.form)
            with self._lock:
                self.model = model
                self._adapter = (version or Path(adapter_dir).name) if adapter_dir is not None else None
            return
        with self._lock:
            if adapter_dir is None:
                self._adapter = None
                return
            # A fresh peft name per load, so re-loading the active version never clashes with it.
            self._loads += 1
            name = f"{_adapter_name(version or Path(adapter_dir).name)}_{self._loads}"
            if isinstance(self.model, PeftModel):
                old = self.model.active_adapter
                self.model.load_adapter(str(adapter_dir), adapter_name=name)
                self.model.set_adapter(name)
                self.model.delete_adapter(old)
            else:
                self.model = PeftModel.from_pretrained(self.model, str(adapter_dir), adapter_name=name)
            self.model.eval()
            self._adapter = version or Path(adapter_dir).name

    # --- internals -------------------------------------------------------------------------------
    def _empty_slots(self, slots: "SlotMap | None") -> list[int]:
        """Token ids of the slots `slots` leaves empty (none for a model without slots)."""
        if slots is None or not self.slots:
            return []
        if self._slot_token_ids is None:
            self._slot_token_ids = _slot_ids(self.tokenizer, self.slots)
        used = set(slots.ids.values())
        return [t for i, t in self._slot_token_ids.items() if i not in used]

    def _generate_locked(self, messages: list[dict], max_new: int, schema: dict | None,
                         cause_only: bool = False) -> Generation:
        started = time.time()
        meta: dict = {}
        self._logprobs = [0.0, 0]  # this request's chosen-token log-probs: sum, count (under the lock)
        prompt = self._prepare(messages)  # once per request, however many guided runs follow
        if schema is not None and string_fields(schema):
            # Guided decoding: the JSON skeleton is fixed, the model writes each string value
            # (stopping at its closing quote), so the answer is valid JSON by construction.
            text, prompt_tokens, new_tokens = self._guided_json(prompt, max_new, string_fields(schema))
            meta["json_guided"] = True
            text, meta["json_repaired"] = as_json(text)
        elif schema is None and self.guided_text:
            # The same for text: "Root Cause:" is given, the model writes the cause up to its
            # "Fix:" label (or until it has had its share of tokens), then "Fix:" is given too.
            text, prompt_tokens, new_tokens = self._guided_text(prompt, max_new, cause_only)
            meta["text_guided"] = True
            meta["fix_skipped"] = cause_only
        else:
            text, prompt_tokens, new_tokens = self._run(prompt, max_new, "")
            if schema is not None:
                text, meta["json_repaired"] = as_json(text)
        if self._logprobs[1]:
            # How sure the model was of what it wrote: a garbled answer is a low-probability one.
            meta["mean_logprob"] = round(self._logprobs[0] / self._logprobs[1], 4)
        return Generation(text=text, prompt_tokens=prompt_tokens, new_tokens=new_tokens,
                          seconds=time.time() - started, model=self.info(), meta=meta)

    def _guided_json(self, prompt: "_Prompt", max_new: int, fields: list[str]) -> tuple[str, int, int]:
        import json

        values: dict[str, str] = {}
        prompt_tokens = new_tokens = 0
        for field in fields:
            head = json.dumps(values)[:-1] + ", " if values else "{"  # the fields so far, still open
            prefix = f'{head}"{field}": "'
            left = max(max_new - new_tokens, 8)
            text, p, n = self._run(prompt, left, prefix,
                                   stop=lambda t: at_closing_quote(t) or repeats(t) >= 0)
            prompt_tokens, new_tokens = prompt_tokens or p, new_tokens + n
            values[field] = unrepeated(json_string(text))
        return json.dumps(values, ensure_ascii=False), prompt_tokens, new_tokens

    def _guided_text(self, prompt: "_Prompt", max_new: int, cause_only: bool = False) -> tuple[str, int, int]:
        # cause_tokens / fix_tokens 0: uncapped, and the fix may run on past its first sentence
        cause_room = max(int(max_new * CAUSE_SHARE), 1)
        cause_room = min(cause_room, self.cause_tokens) if self.cause_tokens else cause_room
        text, prompt_tokens, n = self._run(prompt, cause_room, "Root Cause:",
                                           stop=lambda t: at_fix_label(t) or repeats(t) >= 0, opening=OPENING)
        cause = unrepeated(" ".join(FIX_LABEL.split(text, maxsplit=1)[0].split()))
        if self.cause_tokens and n >= cause_room and not at_fix_label(text):
            cause = whole_clauses(cause)  # cut off by its cap: end on a whole clause
        if cause_only:  # the caller has its fix already: a third of the decoding saved
            return f"Root Cause: {cause}\nFix:", prompt_tokens, n
        fix_room = max(max_new - n, 1)
        one = bool(self.fix_tokens)
        fix_room = min(fix_room, self.fix_tokens) if one else fix_room
        fix, _, m = self._run(prompt, fix_room, f"Root Cause: {cause}\nFix:",
                              stop=lambda t: repeats(t) >= 0 or (one and first_sentence(t) is not None),
                              opening=OPENING)
        # a second "Root Cause:" ends it, and so does the end of its first sentence
        fix = unrepeated(" ".join(LABEL_AGAIN.split(fix, maxsplit=1)[0].split()))
        if one:
            fix = first_sentence(fix) or (whole_clauses(fix) if m >= fix_room else fix)
        return format_answer(cause, fix), prompt_tokens, n + m

    def _prepare(self, messages: list[dict]) -> "_Prompt":
        """The request's prompt as token ids (slotted for a model with identifier slots)."""

        slots = None
        if self.slots:  # a model built with identifier slots reads and writes <idN>, not names
            messages, slots = delexicalise(messages, self.slots)
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return _Prompt(self.tokenizer(text, add_special_tokens=False)["input_ids"], slots)

    def _breaks(self) -> list[int]:
        """Ids of the end-of-text tokens and of every token that holds a line break (made once)."""
        if self._break_ids is None:
            tok = self.tokenizer
            pieces = tok.convert_ids_to_tokens(list(range(len(tok))))
            ids = [i for i, p in enumerate(pieces) if p and "\n" in tok.convert_tokens_to_string([p])]
            self._break_ids = sorted(set(ids) | {t for t in (tok.eos_token_id, tok.pad_token_id) if t is not None})
        return self._break_ids

    def _run(self, prompt: "_Prompt", max_new: int, prefix: str, stop=None, opening: int = 0) -> tuple[str, int, int]:
        """Greedy continuation of the prompt after the given answer `prefix`; `stop(text so far)`
        ends it early. Returns (text, prompt tokens, new tokens)."""
        import torch

        slots = prompt.slots
        if slots is not None:
            prefix = slots.apply(prefix)
        prompt_ids = prompt.ids
        given = self.tokenizer(prefix, add_special_tokens=False)["input_ids"] if prefix else []
        room = max(self.window - max_new - len(given), 16)
        if len(prompt_ids) > room:  # keep the start (instructions) and the end (log tail, format line)
            head = room // 3
            prompt_ids = prompt_ids[:head] + prompt_ids[len(prompt_ids) - (room - head):]
        ids = prompt_ids + given
        device = next(self.model.parameters()).device
        input_ids = torch.tensor([ids], device=device)
        kwargs = dict(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=max_new,
            do_sample=False, eos_token_id=self.tokenizer.eos_token_id,
            pad_token_id=self.tokenizer.pad_token_id,
            logits_processor=processors(len(ids), self._logprobs, self._empty_slots(slots),
                                        (self._breaks(), opening) if opening else None),
        )
        if stop is not None:
            kwargs["stopping_criteria"] = stop_when(self.tokenizer, len(ids), stop)
        cache = _reusable(prompt, ids)
        if cache is not None:
            kwargs["cache"] = cache
        with torch.inference_mode():
            if self._adapter is None and hasattr(self.model, "disable_adapter"):
                with self.model.disable_adapter():
                    out = self.model.generate(**kwargs, return_dict_in_generate=True)
            else:
                out = self.model.generate(**kwargs, return_dict_in_generate=True)
        sequence = out.sequences
        prompt.cache = getattr(out, "cache", None)
        if prompt.cache is not None:
            prompt.cached = sequence[0, :prompt.cache.get_seq_length()].tolist()
        new = sequence[0, len(ids):]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        if slots is not None:
            text = slots.restore(text)
        return text.strip(), len(prompt_ids), int(new.numel())


def _reusable(prompt: "_Prompt", ids: list[int]):
    """The request's KV cache cut back to the longest prefix it shares with `ids` (at least one
    token of `ids` is left for the model to read), or None when nothing can be reused."""
    cache = prompt.cache
    if cache is None or not hasattr(cache, "crop"):
        return None
    shared = 0
    for a, b in zip(prompt.cached, ids):
        if a != b:
            break
        shared += 1
    keep = min(shared, len(ids) - 1)
    if keep <= 0:
        return None
    drop = cache.get_seq_length() - keep
    if drop > 0:
        cache.crop(-drop)  # a negative count removes that many tokens from the end
    prompt.cached = prompt.cached[:keep]
    return cache


def _slot_ids(tokenizer, size: int) -> dict[int, int]:
    """Slot number -> its token id in `tokenizer` (slots the vocabulary lacks are left out)."""

    ids = {i: tokenizer.convert_tokens_to_ids(slot_token(i)) for i in range(1, size + 1)}
    return {i: t for i, t in ids.items() if isinstance(t, int) and t != tokenizer.unk_token_id}


def _tune_threads(model) -> None:
    """Decoding a small model is latency-bound: one thread beats several that spin-wait on each
    other, and on a shared 2-core host 1 thread ran ~8x faster than 2. Big models keep the
    torch default."""
    import torch

    if next(model.parameters()).device.type != "cpu":
        return
    if sum(p.numel() for p in model.parameters()) < 50_000_000:
        torch.set_num_threads(1)


def _adapter_name(version: str) -> str:
    # peft adapter names become module attribute keys: no dots.
    return "a_" + "".join(c if c.isalnum() else "_" for c in version)


def load_generator(model_settings, registry, models_dir: Path) -> LocalGenerator:
    """The generator for `settings.model` with the registry's current adapter; an adapter trained on
    another base is refused, naming both."""
    version = registry.current()
    adapter_dir = None
    if version is not None:
        registry.verify(version)
        adapter_dir = registry.path(version)
        check_adapter_base(adapter_dir, version, model_settings.base)  # before the slow model load
    return LocalGenerator(model_settings.base, adapter_dir, version, device=model_settings.device,
                          queue_size=model_settings.queue_size, models_dir=models_dir,
                          max_new_tokens=model_settings.max_new_tokens, quantize=model_settings.quantize,
                          cause_tokens=model_settings.cause_tokens, fix_tokens=model_settings.fix_tokens)
