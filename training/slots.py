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
_WORD = re.compile(r"(?<![\w.\-/@:=<*\\])(?:[A-Za-z_./*@][\w.\-/:@=+*()\\]*[\w)*]|\d+\.[\w.\-/:@+]*\w|\d{8,})")
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
    if word.isdigit():
        return True  # a long number: a migration version, a build or account id
    inner = word[1:-1]
    return (any(c in inner for c in "._/:@=-*\\_") or (any(c.isdigit() for c in word) and any(c.isalpha() for c in word))
            or bool(re.search(r"[a-z][A-Z]", word)))


def _words(text: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _WORD.finditer(text):
        start = m.start()
        for piece in m.group(0).split("..."):  # "test_x...*failed*": an ellipsis ends a name
            word = piece
            while word and (word[-1] in ".:/-*" or (word[-1] == ")" and word.count("(") < word.count(")"))
                            or word.endswith("()")):
                word = word[:-2] if word.endswith("()") else word[:-1]
            col = _COLUMN.match(word)
            word = col.group(1) if col else word
            if specific(word):
                out.append((start, start + len(word), word))
            start += len(piece) + 3
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
            slotted = self._slot_word(word, aliases)
            if slotted is not None:
                parts += [text[last:start], slotted]
                last = end
        parts.append(text[last:])
        return "".join(parts)

    def _slot_word(self, word: str, aliases: dict[str, int]) -> str | None:
        """`word` as slot tokens, or None when it names nothing slotted."""
        slot = self.ids.get(word) or aliases.get(word)
        if slot:
            return slot_token(slot)
        split = _LINE_SUFFIX.match(word)
        if split:  # "Parser.java:262" where the log says "src/Parser.java:[262,10]"
            slot = self.ids.get(split.group(1)) or aliases.get(split.group(1))
            if slot:
                return slot_token(slot) + split.group(2)
        # "Suite.testName" or "module:test" joining two names the log shows apart
        pieces = re.split(r"(::|[:.#])", word)
        if len(pieces) < 3:
            return None
        out = [slot_token(self.ids.get(x) or aliases.get(x)) if (self.ids.get(x) or aliases.get(x)) else x
               for x in pieces]
        return "".join(out) if any(SLOT.fullmatch(x) for x in out) else None

    def _by_basename(self) -> dict[str, int]:
        """Shorter names for a slotted identifier: "Parser.java" and "src/Parser.java" find the
        slot of "src/main/java/Parser.java:12", "Tests.Login" that of "Acme.Tests.Login" (restored,
        the slot names the whole identifier, which says more). Ambiguous short names are left alone."""
        names: dict[str, int] = {}
        for word, i in self.ids.items():
            stem = _LINE_SUFFIX.match(word)
            forms = {stem.group(1)} if stem else set()
            for full in {word} | forms:
                for k, ch in enumerate(full):
                    if ch in "/.\\:" and 0 < k < len(full) - 4 and full[k - 1] not in "/.\\:":
                        forms.add(full[k + 1:])
            for form in {f.lstrip("/.\\:") for f in forms} - {word}:
                if len(form) >= 4 and specific(form):
                    names[form] = 0 if names.get(form, i) != i else i
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
