"""Identifier slots: delexicalised prompts for models too small to copy long strings.

A four-million-parameter model can learn what a failure means and how to phrase the answer long
before it learns to copy `docker/build-push-action@main2` token by token out of a log. Classic
data-to-text systems solve this with delexicalisation, and so do we, for models whose config asks
for it (`"identifier_slots": 20` in config.json; the embedded model's does, other Hugging Face
models' do not, so they read and write identifiers as they are):

- the identifiers of a prompt (paths, dotted names, package@version, version specifiers like
  `>=3.10`, test ids, error codes like `TS2345` and `ENOSPC`, lock and request UUIDs, and the
  log's quoted names, missing commands and test titles, and the failing lines' trailing names and
  bare numbers: "exit code 2", "port 5432", "coverage of 80%") are replaced by slot tokens `<id1>`,
  `<id2>`, ...; each kind of identifier has its own range of slots (files first, then names,
  values, error codes and numbers, see `ranges`), numbered within it by salience: the log's most
  failure-like line first, then the rest of the log, then the reference notes. "At <id1>" is then
  always the most salient file and "the test <id5>" the most salient name: an answer template picks
  a kind and a rank, not a position among everything the log mentions. Identifiers that logs
  repeat whatever failed (`common_ids`) are left as text;
- the model reads and writes slot tokens (one token each, so "name the failing file" becomes
  "pick a slot");
- its answer is re-lexicalised: every slot token becomes the identifier it stands for.

Training targets go through the same map, so the model never sees an identifier it was not shown.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.logs.signals import line_weight

SLOT = re.compile(r"<id(\d{1,2})>")
# Identifier-like words: start with a letter, _, . or /, run through path/version punctuation;
# also versions with a specifier (">=3.10"), UUIDs (lock ids) and long numbers.
_WORD = re.compile(
    r"(?<![\w.\-/@:=<>~^!*\\])(?:[A-Za-z_./*@][\w.\-/:@=+*()\\]*[\w)*]|(?:[<>~^!]=?|==)?\d+\.[\w.\-/:@+]*\w"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{8,})")
_LINE_SUFFIX = re.compile(r"^(.+?)(:\d+)$")
_COLUMN = re.compile(r"^(.+?:\d+):\d+$")  # file:line:col -> file:line (answers name the line)
_PAREN_LINE = re.compile(r"^(.+?\.\w+)\(\d+(?:,\d+)*\)?$")  # C#/MSBuild "File.cs(149,27)" -> File.cs
_COMMON = {"error", "failed", "failure", "build", "test", "tests", "true", "false", "none", "null",
           "warning", "info", "debug", "exception", "line", "file", "exit", "code", "the", "and"}
_MARKERS = ("section_start:", "section_end:")  # GitLab's collapsible-section markers
_SECTION = re.compile(r"(?m)^(Log|Reference notes|Question|CI config):\s*$|^(Question): ")


# Identifiers that CI logs repeat whatever failed (runner and tool versions, /usr/bin/bash,
# actions/checkout@v4, assertEqual, AccessDenied) and that no answer names: the model reads them as
# plain text, so the slots go to what is particular to this failure. Made from the training corpus
# by `cibot dev slots --common` (identifiers in 15 or more rows, never in an answer).
COMMON_IDS = Path(__file__).resolve().parent.parent / "data" / "common_ids.txt"
COMMON_MIN_ROWS = 15


@functools.lru_cache(maxsize=1)
def common_ids() -> frozenset[str]:
    try:
        return frozenset(w for w in COMMON_IDS.read_text(encoding="utf-8").splitlines() if w.strip())
    except OSError:
        return frozenset()


def find_common(rows: list[dict], min_rows: int = COMMON_MIN_ROWS) -> list[str]:
    """Identifiers of the rows' inputs that `min_rows` or more rows share and no output names."""
    from collections import Counter

    seen: Counter = Counter()
    named: set[str] = set()
    for row in rows:
        seen.update({w for _, _, w in _words(str(row.get("input") or ""))})
        named.update(str(k) for k in row.get("key_ids") or [])
        named.update(w for _, _, w in _words(str(row.get("output") or "")))
    return sorted(w for w, n in seen.items() if n >= min_rows and w not in named)


def slot_token(i: int) -> str:
    return f"<id{i}>"


def slot_tokens(n: int) -> list[str]:
    return [slot_token(i) for i in range(1, n + 1)]


def specific(word: str) -> bool:
    """True for words that name one thing (a file, package, test, version, code), not prose."""
    if len(word) < 4 or word.lower() in _COMMON or word.startswith(_MARKERS + ("REDACTED:",)):
        return False
    if word.isdigit():
        return True  # a long number: a migration version, a build or account id
    if _ERRNO.match(word):
        return True  # ENOSPC, EBADENGINE: a system or npm error code
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
            col = _COLUMN.match(word) or _PAREN_LINE.match(word)
            word = col.group(1) if col else word
            if specific(word):
                out.append((start, start + len(word), word))
            start += len(piece) + 3
    return out


KINDS = ("file", "name", "value", "code", "number")
# Shares of 20 slots (other sizes scale them); a map of fewer than 8 slots has one range for all.
_SHARES = (4, 7, 3, 2, 4)
# System and npm error codes: ENOSPC, ECONNREFUSED, EACCES, EBADENGINE, ERESOLVE, ENEEDAUTH
_ERRNO = re.compile(r"^E(?:NO|ACCES|CONN|ADDR|PERM|BAD|NEED|RESOLVE|TARGET|INTEGRITY|LIFECYCLE|TIMEDOUT|EXIST|MFILE|PIPE|INVAL)[A-Z_]*$")
_CODE = re.compile(rf"^[A-Z]{{1,5}}-?\d{{2,6}}$|{_ERRNO.pattern}")  # E0599, CS1061, TS2345, SC2086, ENOSPC
_VALUE = re.compile(r"^(?:[<>~^!]=?|==)?v?\d[\w.\-+:/]*$|==|^https?://")  # versions, specifiers, numbers, URLs, pins
_EXT = frozenset(
    "py pyi pyx js mjs cjs ts tsx jsx java kt kts scala groovy go rs rb php cs fs vb c cc cpp cxx h hpp hh "
    "m mm swift dart ex exs erl hrl hs ml clj lua pl sh bash ps1 r jl sql yml yaml json toml ini cfg conf "
    "xml gradle properties lock txt md rst html css scss vue svelte tf hcl proto cmake mk jar war whl gem "
    "csproj sln dll so a o out spec test gemspec mod sum env prod dockerfile gz tgz zip".split())
_FILE_TAIL = re.compile(r"(?::\d+)+$|\(\d+(?:,\d+)?\)$")
# A quoted name ('rails (= 4.15.10)', relation "quotas"), a missing command ("tox: command not
# found") and the title of a test after a reporter's separator ("● Suite › creates invoice").
_QUOTED = re.compile(r"""(?<![\w'"`])['"`]([A-Za-z_][\w\-]{2,40})[ '"`]""")
_NOT_FOUND = re.compile(r"(?:^|[\s:])([A-Za-z][\w.\-]{1,30}): (?:command )?not found(?!:)|command not found: ([A-Za-z][\w.\-]{1,30})")
_TAIL_WORD = re.compile(r":\s+([A-Za-z_][\w\-]{1,40})\s*$")  # a failing line ending in ": NAME"
# A bare number on a failing line ("exit code 2", "port 5432", "coverage of 80%", "line 35",
# "invalid target release: 21"): not part of a path, version, time or id ("a.py:12", "3.11",
# "00:19:20", "30m0s"). 0 and 1 say nothing particular.
_NUM_BEFORE, _NUM_AFTER = r"(?<![\w\-./:@=#+<>~^])", r"(?![\w\-/@]|[.:]\d)"
_NUMBER = re.compile(rf"{_NUM_BEFORE}(\d{{1,6}}){_NUM_AFTER}")
_TITLE = re.compile(r"(?:›|●)\s+([A-Za-z][\w'\-]*(?: [\w'\-]+){1,9})\s*$")


def kind(word: str) -> str:
    """The slot range an identifier goes to: a file (a path or a known extension), a value (a
    version, number or URL), an error code, or a name (tests, symbols, packages, images, ...)."""
    if _CODE.match(word):
        return "code"
    stem = _FILE_TAIL.sub("", word)
    last = re.split(r"[/\\]", stem)[-1]
    if not stem.startswith(("http://", "https://")) and (
            "*" in last or ("." in last and last.rsplit(".", 1)[1].lower() in _EXT)):
        return "file"
    if _VALUE.search(word):
        return "value"
    if stem.startswith(("/", "./", "~/")):
        return "file"
    return "name"


def ranges(size: int) -> dict[str, range]:
    """Slot numbers per kind: for 20 slots files 1-4, names 5-11, values 12-14, codes 15-16,
    numbers 17-20."""
    if size < 8:
        return dict.fromkeys(KINDS, range(1, size + 1))
    out, start = {}, 1
    for i, (k, share) in enumerate(zip(KINDS, _SHARES)):
        left = len(KINDS) - 1 - i  # kinds after this one, each keeps a slot
        width = max(1, round(size * share / sum(_SHARES)))
        end = size + 1 if not left else min(start + width, size + 1 - left)
        out[k] = range(start, end)
        start = end
    return out


@dataclass
class SlotMap:
    size: int
    ids: dict[str, int] = field(default_factory=dict)  # identifier -> slot number
    # Names that are not identifier-shaped (a quoted table name, a test title with spaces): the
    # answer's words are matched against them whole.
    terms: set[str] = field(default_factory=set)

    def add(self, word: str, term: str | None = None) -> None:
        """Give `word` the next free slot of its kind; `term` (a kind) for a name that is not
        identifier-shaped, matched whole in answers."""
        if word in self.ids or word in common_ids():
            return
        taken = set(self.ids.values())
        free = [i for i in ranges(self.size)[term or kind(word)] if i not in taken]
        if free:
            self.ids[word] = free[0]
            if term:
                self.terms.add(word)

    def apply(self, text: str) -> str:
        """`text` with every mapped identifier replaced by its slot token."""
        if not self.ids:
            return text
        text = self._apply_terms(text)
        parts, last = [], 0
        aliases = self._by_basename()
        for start, end, word in _words(text):
            if word in self.terms:
                continue
            slotted = self._slot_word(word, aliases)
            if slotted is not None:
                parts += [text[last:start], slotted]
                last = end
        parts.append(text[last:])
        return "".join(parts)

    def _apply_terms(self, text: str) -> str:
        words = sorted((t for t in self.terms if not t.isdigit()), key=len, reverse=True)
        numbers = sorted((t for t in self.terms if t.isdigit()), key=len, reverse=True)
        token = lambda m: slot_token(self.ids[m.group(0)])  # noqa: E731
        if words:
            pattern = "|".join(re.escape(t) for t in words)
            text = re.sub(rf"(?<![\w\-./])(?:{pattern})(?![\w\-/]|\.\w)", token, text)
        if numbers:  # the lookarounds of _NUMBER: "5432" in "port 5432", not in "127.0.0.1:5432"
            text = re.sub(rf"{_NUM_BEFORE}(?:{'|'.join(numbers)}){_NUM_AFTER}", token, text)
        return text

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
        found = {x: self.ids.get(x) or aliases.get(x) for x in pieces if x not in self.terms}
        out = [slot_token(found[x]) if found.get(x) else x for x in pieces]
        return "".join(out) if any(SLOT.fullmatch(x) for x in out) else None

    def _by_basename(self) -> dict[str, int]:
        """Shorter names for a slotted identifier: "Parser.java" and "src/Parser.java" find the
        slot of "src/main/java/Parser.java:12", "Tests.Login" that of "Acme.Tests.Login" (restored,
        the slot names the whole identifier, which says more). Ambiguous short names are left alone."""
        names: dict[str, int] = {}
        stems: dict[str, str] = {}  # a short name -> the one file it names, or "" when several
        for word, i in sorted(self.ids.items(), key=lambda x: x[1]):
            if word in self.terms:
                continue
            stem = _LINE_SUFFIX.match(word)
            forms = {stem.group(1)} if stem else set()
            for full in {word} | forms:
                for k, ch in enumerate(full):
                    if ch in "/.\\:" and 0 < k < len(full) - 4 and full[k - 1] not in "/.\\:":
                        forms.add(full[k + 1:])
            whole = stem.group(1) if stem else word
            for form in {f.lstrip("/.\\:") for f in forms} - {word}:
                if len(form) >= 4 and specific(form):
                    # "a.ts" of "e2e/a.ts:4" and "e2e/a.ts:9" is that file's most salient slot;
                    # of "x/a.ts" and "y/a.ts" it is neither
                    if form not in names:
                        names[form], stems[form] = i, whole
                    elif stems[form] != whole:
                        names[form] = 0
        return {k: v for k, v in names.items() if v}

    def restore(self, text: str) -> str:
        """A model's output with slot tokens turned back into identifiers (unknown slots vanish)."""
        names = {i: w for w, i in self.ids.items()}
        return SLOT.sub(lambda m: names.get(int(m.group(1)), ""), text)


def build_map(prompt: str, size: int) -> SlotMap:
    """Slots for the identifiers of a user message, the log's most failure-like lines first."""

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
    for rank, _, line in sorted(ranked, key=lambda r: (r[0], r[1])):
        for _, _, word in _words(line):
            slots.add(word)
        if rank <= 0:  # a log line: its quoted names, missing commands, test titles, numbers
            for term, term_kind in _terms(line, failing=rank < 0):
                slots.add(term, term=term_kind)
    return slots


def _terms(line: str, failing: bool) -> list[tuple[str, str]]:
    found = [m.group(1) for m in _QUOTED.finditer(line)]
    found += [m.group(1) or m.group(2) for m in _NOT_FOUND.finditer(line)]
    title = _TITLE.search(line)
    if title:
        found.append(title.group(1).strip())
    tail = _TAIL_WORD.search(line) if failing else None
    if tail:  # "unknown instruction: RUNN"
        found.append(tail.group(1))
    out = [(t, "name") for t in found if t.lower() not in _COMMON and not specific(t)]
    if failing:
        out += [(n, "number") for n in _NUMBER.findall(line) if n not in ("0", "1")]
    return out


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


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="cibot dev slots", description="Identifier slot tools.")
    parser.add_argument("--common", action="store_true", help="rewrite training/data/common_ids.txt from the corpus")
    parser.add_argument("--data", default=str(Path(__file__).resolve().parent.parent / "data" / "train.jsonl"))
    args = parser.parse_args(argv)
    if not args.common:
        parser.print_help()
        return 2
    rows = [json.loads(line) for line in Path(args.data).read_text(encoding="utf-8").splitlines() if line.strip()]
    common = find_common(rows)
    COMMON_IDS.write_text("".join(w + "\n" for w in common), encoding="utf-8")
    print(f"{len(common)} common identifiers from {len(rows)} rows -> {COMMON_IDS}")
    return 0
