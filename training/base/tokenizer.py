"""The embedded model's byte-level BPE tokenizer, trained on the project's own text.

It is saved as a transformers PreTrainedTokenizerFast whose chat template (ChatML, the shape
Qwen2.5 uses) lives in tokenizer_config.json, so the code that serves Qwen serves this model too.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

END_OF_TEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
SPECIAL_TOKENS = [END_OF_TEXT, IM_START, IM_END]

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096, extra_tokens: Iterable[str] = ()):
    """A byte-level BPE over `texts`; any byte sequence stays encodable, so no unknown token.
    `extra_tokens` (identifier slots) become whole tokens that decoding keeps."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.add_tokens([AddedToken(t, normalized=False, special=False) for t in extra_tokens])
    return wrap(tok)


def wrap(tok):
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=IM_END, pad_token=END_OF_TEXT, bos_token=None,
        unk_token=None, model_max_length=1024, clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def save_tokenizer(tokenizer, out_dir: Path) -> None:
    # save_jinja_files=False keeps the chat template inside tokenizer_config.json (one file fewer
    # to ship and checksum).
    tokenizer.save_pretrained(str(out_dir), save_jinja_files=False)
