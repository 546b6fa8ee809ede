"""Identifier slots: delexicalised prompts for models too small to copy long strings.

A four-million-parameter model can learn what a failure means and how to phrase the answer long
before it learns to copy `docker/build-push-action@main2` token by token out of a log. Classic
data-to-text systems solve this with delexicalisation, and so do we, for models whose config asks
for it (`"identifier_slots": 16` in config.json; the embedded model's does, other Hugging Face
models' do not, so they read and write identifiers as they are):

- the identifiers of a prompt (paths, dotted names, package@version, test ids, error codes) are
  replaced by slot tokens `<id1>`, `<id2>`, ... numbered by salience: those of the log's most
  failure-like line first, then the rest of the log, then the reference notes;
- the model reads and writes slot tokens (one token each, so "name the failing file" becomes
  "pick a slot");
- its answer is re-lexicalised: every slot token becomes the identifier it stands for.

Training targets go through the same map, so the model never sees an identifier it was not shown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

SLOT = re.compile(r"<id(\d{1,2})>")
# Identifier-like words: start with a letter, _, . or /, run through path/version punctuation.
_WORD = re.compile(r"(?<![\w.\-/@:=<*])(?:[A-Za-z_./*][\w.\-/:@=+*()]*[\w)*]|\d+\.\d+[\w.\-+]*\w)")
_LINE_SUFFIX = re.compile(r"^(.+?)(:\d+)$")
_COLUMN = re.compile(r"^(.+?:\d+):\d+$")  # file:line:col -> file:line (answers name the line)
_COMMON = {"error", "failed", "failure", "build", "test", "tests", "true", "false", "none", "null",
           "warning", "info", "debug", "exception", "line", "file", "exit", "code", "the", "and"}
_SECTION = re.compile(r"(?m)^(Log|Reference notes|Question|CI config):\s*$|^(Question): ")


def slot_token(i: int) -> str:
    return f"<id{i}>"


def slot_tokens(n: int) -> list[str]:
    return [slot_token(i) for i in range(1, n + 1)]


def specific(word: str) -> bool:
    """True for words that name one thing (a file, package, test, version, code), not prose."""
    if len(word) < 4 or word.lower() in _COMMON:
        return False
    inner = word[1:-1]
    return (any(c in inner for c in "._/:@=-*") or (any(c.isdigit() for c in word) and any(c.isalpha() for c in word))
            or bool(re.search(r"[a-z][A-Z]", word)))


def _words(text: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _WORD.finditer(text):
        word = m.group(0)
        while word and (word[-1] in ".:/-" or (word[-1] == ")" and word.count("(") < word.count(")"))):
            word = word[:-1]
        col = _COLUMN.match(word)
        word = col.group(1) if col else word
        if specific(word):
            out.append((m.start(), m.start() + len(word), word))
    return out


@dataclass
class SlotMap:
    size: int
    ids: dict[str, int] = field(default_factory=dict)  # identifier -> slot number

    def add(self, word: str) -> None:
        if word not in self.ids and len(self.ids) < self.size:
            self.ids[word] = len(self.ids) + 1

    def apply(self, text: str) -> str:
        """`text` with every mapped identifier replaced by its slot token."""
        if not self.ids:
            return text
        parts, last = [], 0
        aliases = self._by_basename()
        for start, end, word in _words(text):
            slot, suffix = self.ids.get(word) or aliases.get(word), ""
            split = None if slot else _LINE_SUFFIX.match(word)
            if split:  # "Parser.java:262" where the log says "src/Parser.java:[262,10]"
                slot, suffix = self.ids.get(split.group(1)) or aliases.get(split.group(1)), split.group(2)
            if slot:
                parts += [text[last:start], slot_token(slot) + suffix]
                last = end
        parts.append(text[last:])
        return "".join(parts)

    def _by_basename(self) -> dict[str, int]:
        """"Parser.java" finds the slot of "src/main/java/Parser.java" (restored, it names the
        whole path, which says more); ambiguous base names are left alone."""
        names: dict[str, int] = {}
        for word, i in self.ids.items():
            base = word.rsplit("/", 1)[-1].split(":", 1)[0]
            if base != word and len(base) >= 4:
                names[base] = 0 if base in names else i
        return {k: v for k, v in names.items() if v}

    def restore(self, text: str) -> str:
        """A model's output with slot tokens turned back into identifiers (unknown slots vanish)."""
        names = {i: w for w, i in self.ids.items()}
        return SLOT.sub(lambda m: names.get(int(m.group(1)), ""), text)


def build_map(prompt: str, size: int) -> SlotMap:
    """Slots for the identifiers of a user message, the log's most failure-like lines first."""
    from retrieval.logs.signals import line_weight

    slots = SlotMap(size)
    lines = prompt.splitlines()
    section, ranked = "", []
    for i, line in enumerate(lines):
        head = _SECTION.match(line)
        if head:
            section = head.group(1) or head.group(2)
            continue
        # Log lines by weight; then the question, the CI config and the notes, in order.
        rank = -line_weight(line) if section == "Log" else {"Question": 10.0, "CI config": 11.0}.get(section, 12.0)
        ranked.append((rank, i, line))
    for _, _, line in sorted(ranked, key=lambda r: (r[0], r[1])):
        for _, _, word in _words(line):
            slots.add(word)
    return slots


def delexicalise(messages: list[dict], size: int) -> tuple[list[dict], SlotMap]:
    """Messages with the user turns' identifiers slotted (the last user turn decides the map)."""
    users = [m for m in messages if m.get("role") == "user"]
    slots = build_map(users[-1]["content"] if users else "", size)
    out = [dict(m, content=slots.apply(m["content"])) if m.get("role") != "system" else dict(m) for m in messages]
    return out, slots


def model_slots(model) -> int:
    """How many identifier slots `model` (a transformers or peft model) was built with (0: none)."""
    config = getattr(model, "config", None)
    try:
        return max(int(getattr(config, "identifier_slots", 0) or 0), 0)
    except (TypeError, ValueError):
        return 0


def slotted(messages: list[dict], size: int) -> list[dict]:
    """`messages` delexicalised for a model with `size` slots (unchanged when it has none)."""
    return delexicalise(messages, size)[0] if size else messages
