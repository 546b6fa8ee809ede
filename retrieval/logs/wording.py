"""Words a model garbled: a small model copying a name from the log often writes it wrong
("dynamicMembershipLookup" for the log's `dynamicMemberLookup`, "leiningename") or coins a word
that is neither English nor in the log ("Clojional"). A reader takes such a name at its word and
goes looking for it.

`snap` puts the log's spelling back where a word is a near miss of a name the log shows, and
`unknown_words` lists the words that are in neither the log, the notes nor the word list, so the
engine can set aside the sentence that has them.

The word list (retrieval/logs/words.txt) is built by `python -m retrieval.logs.wording --write`
from a tokenizer's whole-word tokens (English and code words a pretrained model writes as one
token) and the words of the bundled answers and runbooks.
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path

WORDS_FILE = Path(__file__).resolve().parent / "words.txt"
REPO = Path(__file__).resolve().parents[2]
MIN_LENGTH = 5      # shorter words are too often abbreviations or flags to judge
# A lower-case word this long or longer is judged; shorter ones ("codegen", "taskfile") are too
# often team jargon. A capitalised or camelCase one is judged from MIN_LENGTH: invented names
# ("Clojional", "AnomalyData") are what a reader goes looking for.
MIN_LOWER = 9
LIST_MIN = 3        # the word list keeps words from this length: "bump" is the stem of "bumped"
NEAR_MISS = 0.8     # difflib ratio above which an unknown word is taken for a misspelt log name

# A word as prose writes it, camelCase included, but not a piece of a path, dotted name or flag:
# those are checked as names (retrieval.logs.grounding).
_WORD = re.compile(r"(?<![\w./:@$\\-])[A-Za-z][A-Za-z]+(?![\w/@\\-]|\.\w|:\w)")
_LOG_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,}")
_CAMEL = re.compile(r"[a-z][A-Z]")
_SUFFIXES = ("ing", "ed", "es", "s", "er", "ers", "ly", "able", "ity", "ation", "ment", "d", "ized", "ize",
             "ization", "ness")
_Y_SUFFIXES = ("ies", "ied", "iness", "ier", "iest")  # "flakiness" -> "flaky"
_PREFIXES = ("re", "un", "pre", "mis", "de", "non", "sub", "auto", "multi")


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """The shipped word list, lower case (empty when the file is missing: nothing is flagged)."""
    if not WORDS_FILE.exists():
        return frozenset()
    return frozenset(w for w in WORDS_FILE.read_text(encoding="utf-8").split() if w)


def is_word(word: str, words: frozenset[str] | None = None) -> bool:
    """In the word list, or a regular form of one ("reinstalled", "misconfigures")."""
    words = vocabulary() if words is None else words
    low = word.lower()
    if low in words:
        return True
    bare = {low} | {low[len(p):] for p in _PREFIXES if low.startswith(p) and len(low) - len(p) >= 4}
    stems = set(bare)
    for b in bare:
        cut = {b[: -len(s)] for s in _SUFFIXES if b.endswith(s) and len(b) - len(s) >= 3}
        cut |= {c[:-1] for c in cut if len(c) >= 4 and c[-1] == c[-2]}  # "zipped" -> "zipp" -> "zip"
        cut |= {b[: -len(s)] + "y" for s in _Y_SUFFIXES if b.endswith(s) and len(b) - len(s) >= 3}
        stems |= cut | {c + "e" for c in cut}  # "configured" -> "configur" -> "configure"
    return any(s in words for s in stems)


def _compound(low: str, words: frozenset[str]) -> bool:
    """Two words run together ("hardcoded", "lockfile"): jargon, not a coinage."""
    return any(low[:i] in words and is_word(low[i:], words) for i in range(3, len(low) - 2))


def _log_words(support: str) -> dict[str, str]:
    """The support's words and names, lower case -> as written."""
    return {w.lower(): w for w in _LOG_WORD.findall(support or "")}


def unknown_words(text: str, support: str, words: frozenset[str] | None = None) -> list[str]:
    """The words of `text` found in neither `support` (the log, the notes) nor the word list, in
    order, each once. camelCase words are names: only the support can vouch for them."""
    words = vocabulary() if words is None else words
    if not words:
        return []
    seen = (support or "").lower()
    out: list[str] = []
    for word in _WORD.findall(text or ""):
        named = word[:1].isupper() or _CAMEL.search(word[1:])
        if len(word) < (MIN_LENGTH if named else MIN_LOWER) or word in out or word.lower() in seen:
            continue
        if named and (_CAMEL.search(word[1:]) and word.lower() not in words or not is_word(word, words)):
            out.append(word)
        elif not named and not is_word(word, words) and not _compound(word.lower(), words):
            out.append(word)
    return out


def snap(text: str, support: str, words: frozenset[str] | None = None) -> tuple[str, list[tuple[str, str]]]:
    """`text` with each unknown word that is a near miss of a word or name in `support` written as
    the support writes it. Returns (text, [(was, now), ...])."""
    unknown = unknown_words(text, support, words)
    if not unknown:
        return text, []
    pool = _log_words(support)
    fixed: list[tuple[str, str]] = []
    for word in unknown:
        close = difflib.get_close_matches(word.lower(), pool.keys(), n=1, cutoff=NEAR_MISS)
        if close:
            now = pool[close[0]]
            text = re.sub(rf"(?<![\w./-]){re.escape(word)}(?![\w/-])", now, text)
            fixed.append((word, now))
    return text, fixed


# A backticked quote that ends cut short: by the model ("`Could not find .travis..`") or by the
# token cap (decoding.whole_clauses closes it with "…").
_CUT_QUOTE = re.compile(r"`([^`\n]*?)\s*(?:…|\.{2,3})`")
COMPLETE_MIN = 8    # a shorter cut quote matches too many log lines to say which one it meant
COMPLETE_MAX = 60   # characters of the log line a completed quote may add


def complete_quotes(text: str, lines: list[str]) -> str:
    """`text` with each quote it cut short ("fails with `No Rakefile found (looking for: rake…`")
    written out as the first of `lines` (the log's) that holds what it kept: to that line's end,
    or to the closing quote when the log quoted it (`The command "./run.sh tests" exited with 1`);
    at most COMPLETE_MAX characters more than it kept (then cut at a word and closed with "…"). A
    cut quote the log does not hold is left as it is."""
    def whole(match: re.Match) -> str:
        kept = match.group(1)
        if len(kept.strip()) < COMPLETE_MIN:
            return match.group(0)
        needle = kept.lower()
        for line in lines:
            at = line.lower().find(needle)
            if at < 0:
                continue
            rest = line[at:].rstrip()
            mark = line[at - 1] if at > 0 else ""
            if mark and mark in "\"'" and mark in rest[len(kept):]:
                rest = rest[:rest.index(mark, len(kept))]  # the log's own quote ends there
            if len(rest) <= len(kept) + 1:
                return match.group(0)  # the log's line ends there too: nothing to add
            longest = len(kept) + COMPLETE_MAX
            if len(rest) > longest:
                cut = rest[:longest].rsplit(" ", 1)[0]
                rest = (cut if len(cut) > len(kept) else rest[:longest]) + "…"
            return f"`{rest.replace('`', chr(39))}`"
        return match.group(0)

    return _CUT_QUOTE.sub(whole, text)


def build(tokenizer_json: Path, extra_texts: list[str]) -> list[str]:
    """The word list: the tokenizer's whole-word tokens (a leading-space piece of letters only)
    and every word of `extra_texts`, lower case, LIST_MIN letters or more, sorted."""
    import json

    vocab = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))["model"]["vocab"]
    words = {t[1:].lower() for t in vocab if t.startswith("\u0120") and t[1:].isascii() and t[1:].isalpha()}
    for text in extra_texts:
        words |= {w.lower() for w in re.findall(r"(?<![A-Za-z])[A-Za-z]+(?![A-Za-z])", text)}
    return sorted(w for w in words if len(w) >= LIST_MIN)


def _bundled_texts() -> list[str]:
    """The answers and runbooks cibot ships: the words its own training and notes use."""
    import json

    texts = []
    for name in ("train.jsonl", "real.jsonl"):
        path = REPO / "training" / "data" / name
        if path.exists():
            texts += [json.loads(row).get("output", "")
                      for row in path.read_text(encoding="utf-8").splitlines() if row.strip()]
    for path in sorted((REPO / "retrieval" / "knowledge").rglob("*")):
        if path.is_file() and path.suffix in (".md", ".jsonl"):
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return texts


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m retrieval.logs.wording", description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokenizer", type=Path, required=True, help="a tokenizer.json (the converted SmolLM2's)")
    ap.add_argument("--write", action="store_true", help=f"write {WORDS_FILE.name}")
    args = ap.parse_args(argv)
    words = build(args.tokenizer, _bundled_texts())
    print(f"{len(words)} words")
    if args.write:
        WORDS_FILE.write_text("\n".join(words) + "\n", encoding="utf-8")
        print(f"wrote {WORDS_FILE}")


if __name__ == "__main__":
    main()
