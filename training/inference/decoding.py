"""What guided decoding needs beyond the model: logits processors (no repeated 4-grams, no empty
identifier slots, the chosen tokens' log-probabilities), stopping rules, and the text rules that
read an answer as it is written (the "Fix:" label, a loop of near-copies, a JSON string's end)."""
from __future__ import annotations

import re

from training.inference.prompt import ModelAnswer, format_answer, parse_answer

# A "Fix:" label starts a line or follows a sentence ("... is stale. Fix: ..."), never mid-sentence
# ("the build needs a fix: pin it" is still the cause).
FIX_LABEL = re.compile(r"(?i)(?:^|(?<=\n)|(?<=[.!?;] ))[ \t]*(?:\*\*)?fix[ \t]*(?:\*\*)?[ \t]*:")
LABEL_AGAIN = re.compile(r"(?im)^\s*(?:\*\*)?(?:root cause|fix)\s*(?:\*\*)?\s*:")

def processors(prompt_len: int, logprobs: list | None = None, banned: list[int] | None = None,
               opening: tuple[list[int], int] | None = None):
    """`opening` = (token ids, n): those ids may not be among the first n new tokens."""
    from transformers import LogitsProcessor, LogitsProcessorList

    class NoEmptyStart(LogitsProcessor):
        """A part ("Root Cause:", "Fix:") may not end before it says anything: no end of text and
        no line break among its first tokens. A model that ends a part at once leaves an empty
        cause, which is no answer at all."""

        ids = None

        def __call__(self, input_ids, scores):
            import torch

            if input_ids.shape[1] - prompt_len >= opening[1]:
                return scores
            if self.ids is None:
                self.ids = torch.tensor(opening[0], dtype=torch.long, device=scores.device)
            scores[:, self.ids] = float("-inf")
            return scores

    class EmptySlotBlocker(LogitsProcessor):
        """Forbid the slot tokens that stand for nothing in this prompt: restored, they would leave
        a hole in the answer ("docker push to  was denied"); the model's next choice is written."""

        ids = None  # the banned token ids as a tensor, made once on the scores' device

        def __call__(self, input_ids, scores):
            import torch

            if self.ids is None:
                self.ids = torch.tensor(banned, dtype=torch.long, device=scores.device)
            scores[:, self.ids] = float("-inf")
            return scores

    class RepeatedNGramBlocker(LogitsProcessor):
        """Forbid repeating a 4-gram of the answer itself. Unlike no_repeat_ngram_size it ignores
        the prompt, so identifiers can still be copied from the log."""

        n = 4

        def __call__(self, input_ids, scores):
            for row in range(input_ids.shape[0]):
                gen = input_ids[row, prompt_len:].tolist()
                if len(gen) < self.n:
                    continue
                tail = tuple(gen[-(self.n - 1):])
                banned = {gen[i + self.n - 1] for i in range(len(gen) - self.n + 1)
                          if tuple(gen[i:i + self.n - 1]) == tail}
                if banned:
                    scores[row, list(banned)] = float("-inf")
            return scores

    class ChosenLogprob(LogitsProcessor):
        """Adds the log-probability of the token greedy decoding picks next (the best after the
        blocker) to logprobs = [sum, count]; it leaves the scores as they are."""

        def __call__(self, input_ids, scores):
            import torch

            best = torch.log_softmax(scores[0].float(), dim=-1).max()
            if torch.isfinite(best):
                logprobs[0] += float(best)
                logprobs[1] += 1
            return scores

    return LogitsProcessorList([RepeatedNGramBlocker()] + ([EmptySlotBlocker()] if banned else [])
                               + ([NoEmptyStart()] if opening and opening[0] else [])
                               + ([ChosenLogprob()] if logprobs is not None else []))


def string_fields(schema: dict) -> list[str]:
    """The required fields of a flat object schema whose values are all strings, in order; []
    for anything else (that is left to free generation and validation)."""
    props = schema.get("properties") or {}
    required = list(schema.get("required") or [])
    if schema.get("type") != "object" or not required or set(required) != set(props):
        return []
    return required if all((props[f] or {}).get("type") == "string" for f in required) else []


def stop_when(tokenizer, prompt_len: int, done):
    """Stop once done(text generated so far) is true."""
    from transformers import StoppingCriteria, StoppingCriteriaList

    class StopWhen(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            import torch

            text = tokenizer.decode(input_ids[0, prompt_len:], skip_special_tokens=True)
            return torch.full((input_ids.shape[0],), bool(done(text)), dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([StopWhen()])


def at_closing_quote(text: str) -> bool:
    """The JSON string being written is closed by an unescaped quote (or runs onto a new line)."""
    return closing_quote(text) >= 0 or "\n" in text


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORDS = re.compile(r"[a-z0-9]+")


def repeats(text: str) -> int:
    """Where `text` starts going round in circles: the offset of its first finished sentence whose
    words are mostly (Jaccard >= 0.6) those of an earlier sentence ("Then re-run the failed job.
    Then rerun the job."), or -1. A small model that misses its end-of-answer token loops on its
    closing line; this ends the loop without a hand-written list of closings."""
    seen: list[set[str]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text + " "):
        sentence = text[start:m.start()]
        words = set(_WORDS.findall(sentence.lower().replace("-", "")))
        if len(words) >= 3 and any(len(words & w) / len(words | w) >= 0.6 for w in seen):
            return start
        seen.append(words)
        start = m.end()
    return -1


def unrepeated(text: str) -> str:
    """`text` up to where it starts repeating itself (see repeats)."""
    cut = repeats(text)
    return text[:cut].rstrip() if cut >= 0 else text


_SENTENCE_STOP = re.compile(r"[.!?](?=\s+\S)")
_NOT_AN_END = re.compile(r"(?i)(?:\be\.g|\bi\.e|\bvs|\bcf|(?:^|[.!?:]\s+)\d+)$")  # "e.g.", a list's "2."
_CLAUSE = re.compile(r"(?:[,;:]| —| -)\s+|\s+(?=(?:and|but|so|because|which|while|then|or)\b)")
_DANGLING = re.compile(r"(?i)[\s,;:(\-—]+(?:and|but|so|because|which|while|then|or|with|to|the|a|an|of|in|on|for|from|by)?\s*$")


def _outside_code(text: str, at: int) -> bool:
    return text.count("`", 0, at) % 2 == 0


def first_sentence(text: str, min_words: int = 4) -> str | None:
    """The first sentence of `text` once it is finished (more text follows its full stop), or
    None. Full stops inside `code`, after "e.g."-style abbreviations, and in a
    sentence of fewer than `min_words` words ("1. Run") do not end it."""
    for m in _SENTENCE_STOP.finditer(text):
        head = text[:m.end()]
        if (_outside_code(text, m.start()) and not _NOT_AN_END.search(text[:m.start()])
                and len(head.split()) >= min_words):
            return head.strip()
    return None


def whole_clauses(text: str) -> str:
    """`text` cut off mid-sentence (by a token cap), cut back to its last whole clause: the last
    ", " / "; " / " and " ... boundary outside `code` in its second half, else its last whole word;
    with no dangling "and", "to" or comma at the end. A quote from the log that the cap cut short
    is closed with an ellipsis ("fails with `No Rakefile found (looking for: rakefile…`"): it is
    most often the part that names the failing thing; a half-written short one is dropped."""
    text = text.rstrip()
    whole = text
    if not _outside_code(text, len(text)):
        start = text.rfind("`")
        quoted = text[start + 1:]
        if len(quoted) >= 12 and " " in quoted.strip():
            return text[:start + 1] + " ".join(quoted.split()[:-1]) + "…`"  # its last word may be cut
        text = text[:start]
    else:
        cuts = [m.start() for m in _CLAUSE.finditer(text)
                if _outside_code(text, m.start()) and m.start() >= len(text) // 2]
        if cuts:
            text = text[:cuts[-1]]
        elif not re.search(r"[.!?)`'\"]$", text):
            text = text.rsplit(None, 1)[0] if " " in text else text  # its last word may be cut
        opened = _unclosed_paren(text)
        if opened > len(text) // 3:  # "... dependency (or remove the typo from": the aside is cut
            text = text[:opened]
    # Nothing whole is left (the cap cut the one name it was quoting): the quote, closed, is still
    # more of an answer than an empty part.
    return _DANGLING.sub("", text).rstrip() or (whole + ("…`" if not _outside_code(whole, len(whole)) else "…"))


def _unclosed_paren(text: str) -> int:
    """Where the last "(" outside `code` that is never closed stands, or -1."""
    opened: list[int] = []
    in_code = False
    for i, ch in enumerate(text):
        if ch == "`":
            in_code = not in_code
        elif in_code:
            continue
        elif ch == "(":
            opened.append(i)
        elif ch == ")" and opened:
            opened.pop()
    return opened[-1] if opened else -1


def at_fix_label(text: str) -> bool:
    return bool(FIX_LABEL.search(text))


def closing_quote(text: str) -> int:
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    return -1


def json_string(text: str) -> str:
    """A generated JSON string body (up to its closing quote) as plain text."""
    import json

    end = closing_quote(text)
    body = (text[:end] if end >= 0 else text).split("\n")[0]
    try:
        value = json.loads(f'"{body}"')
    except ValueError:
        value = body.replace('\\"', '"')
    return " ".join(value.split())


def as_json(text: str) -> tuple[str, bool]:
    """The answer as JSON matching ANSWER_SCHEMA: as generated if valid, else rebuilt from the
    fields the model did produce (any shape parse_answer reads). Returns (text, repaired)."""
    if ModelAnswer.parse(text) is not None:
        return text, False
    fields = parse_answer(text) or salvage(text)
    return format_answer(*fields, fmt="json"), True


def salvage(text: str) -> tuple[str, str]:
    # A truncated JSON answer: take what follows each key up to the next quote.
    import re

    cause = re.search(r'"root_cause"\s*:\s*"([^"]*)', text)
    fix = re.search(r'"fix"\s*:\s*"([^"]*)', text)
    return ((cause.group(1) if cause else "").strip() or "unknown",
            (fix.group(1) if fix else "").strip() or "unknown")
