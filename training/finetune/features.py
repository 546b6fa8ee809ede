"""Chat examples -> token ids with labels on the answer only, and padding-light batches."""
from __future__ import annotations

import random
from dataclasses import dataclass

IGNORE = -100
CHARS_PER_TOKEN = 2.6  # measured on the corpus with the embedded tokenizer; Qwen's is denser


@dataclass
class Feature:
    input_ids: list[int]
    labels: list[int]


def prompt_budget_chars(max_seq_len: int, answer_tokens: int = 120) -> int:
    """How many characters of user message fit beside the system prompt and an answer."""
    return max(int((max_seq_len - answer_tokens - 80) * CHARS_PER_TOKEN), 400)


def encode_chat(tokenizer, messages: list[dict], max_seq_len: int) -> Feature:
    """Token ids of the whole conversation through the tokenizer's chat template; labels copy the
    final assistant turn (and its end marker) and are IGNORE everywhere else."""
    prompt_text = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
    full_text = tokenizer.apply_chat_template(messages, tokenize=False)
    prompt = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    full = tokenizer(full_text, add_special_tokens=False)["input_ids"]
    if full[: len(prompt)] != prompt:
        # Templates render the prompt as a prefix of the conversation; if merges cross the
        # boundary, encode the answer on its own so the mask still falls exactly on it.
        answer = tokenizer(full_text[len(prompt_text):], add_special_tokens=False)["input_ids"]
        full = prompt + answer
    answer = full[len(prompt):]
    # Trailing template text after the end-of-turn token (a newline) teaches nothing.
    end = tokenizer.eos_token_id
    if end in answer:
        answer = answer[: answer.index(end) + 1]
    answer = answer[: max_seq_len // 2]
    room = max_seq_len - len(answer)
    if len(prompt) > room:
        # Keep the start (system prompt, question) and the end (the log's last lines, the format
        # instruction); the middle of a long log goes.
        head = room // 3
        prompt = prompt[:head] + prompt[len(prompt) - (room - head):]
    return Feature(prompt + answer, [IGNORE] * len(prompt) + list(answer))


def length_grouped_batches(lengths: list[int], batch_size: int, seed: int) -> list[list[int]]:
    """Shuffled batches of similar length, so dynamic padding wastes little compute."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 32
    batches = []
    for i in range(0, len(order), window):
        chunk = sorted(order[i:i + window], key=lambda j: lengths[j])
        batches += [chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(features: list[Feature], pad_id: int) -> dict:
    """Right-pad a batch to its longest member."""
    import torch

    width = max(len(f.input_ids) for f in features)
    ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    labels = torch.full((len(features), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(features), width), dtype=torch.long)
    for row, f in enumerate(features):
        n = len(f.input_ids)
        ids[row, :n] = torch.tensor(f.input_ids)
        labels[row, :n] = torch.tensor(f.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}
