"""Find the lines of a CI log that explain its failure, in one streaming pass.

The log is read in blocks of lines (reader.iter_blocks). A regex gate over each block's text picks
the few lines worth scoring (signals.line_weight); scored lines seed candidate failure blocks that
grow forward over continuation lines (traces, indented detail, diffs) and take a few lines of
context before them. Only the candidate blocks, a short tail and bounded per-step state are kept,
so memory does not grow with the log. At the end the blocks are ranked (strength, the failing
command's region, first real failure over later fallout) and packed into the line budget.

With a passing log of the same job, lines whose normalised form also occurs there are treated as
noise, as CiDiff does.
"""
from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

from retrieval.logs import signals
from retrieval.logs.classify import STEP_TRIGGER, StepTracker, classify
from retrieval.logs.reader import Source, display_name, iter_blocks
from retrieval.logs.redact import KeyBlockTracker, PRIVATE_KEY_BEGIN, redact
from retrieval.types import Excerpt, LogLine

PRE_CONTEXT = 3          # lines kept before a block's first anchor
MAX_BLOCK_LINES = 120    # a block stops growing here (a 10k-line trace is not an excerpt)
GAP = 4                  # anchors at most this many lines apart join one block
LOOKAHEAD = 200          # lines held back per window so blocks can grow across read blocks
MAX_BLOCKS = 400         # candidate blocks kept; weaker ones are dropped as the log streams
TAIL_LINES = 60          # the log's last lines, for logs whose end is the only evidence
MIN_WEIGHT = 4.0
MAX_PASS_LINES = 3_000_000
_TRIGGER, _STEP = 1, 2  # why a line needs a look


@dataclass
class _Block:
    start: int
    lines: list[str]
    anchors: list[tuple[int, float]] = field(default_factory=list)
    step: str | None = None
    seq: int = 0

    @property
    def end(self) -> int:
        return self.start + len(self.lines) - 1

    @property
    def strength(self) -> float:
        top = max(w for _, w in self.anchors)
        return top + math.log1p(len(self.anchors))


def pass_fingerprints(source: Source) -> set[int]:
    """Hashes of the normalised lines of a passing log (bounded)."""
    seen: set[int] = set()
    for block in iter_blocks(source):
        for text in signals.normalise_block(block.text):
            seen.add(hash(text))
        if len(seen) > MAX_PASS_LINES:
            break
    return seen


class _Scanner:
    """Streams windows of lines and collects candidate failure blocks."""

    def __init__(self, noise: set[int] | None):
        self.noise = noise
        self.blocks: list[_Block] = []
        self.open: _Block | None = None
        self.steps = StepTracker()
        self.keys = KeyBlockTracker()
        self.secret_lines: list[tuple[int, int]] = []  # private key line ranges, inclusive
        self.tail: deque[tuple[int, str]] = deque(maxlen=TAIL_LINES)
        self.total = 0
        self.exit_lines: list[int] = []
        self.retried = False
        self._seq = 0

    # -- streaming ---------------------------------------------------------------------------
    def scan(self, source: Source) -> None:
        carry: list[str] = []
        carry_first, done = 1, 0  # `done`: lines of the carry already processed
        for block in iter_blocks(source):
            window = carry + block.lines
            limit = max(done, len(window) - LOOKAHEAD)
            self._process(window, carry_first, done, limit)
            keep = max(0, min(limit, len(window) - LOOKAHEAD - PRE_CONTEXT))
            carry, carry_first = window[keep:], carry_first + keep
            done = limit - keep
            self.total = block.first + len(block.lines) - 1
        if carry:
            self._process(carry, carry_first, done, len(carry))
        self._close()

    def _process(self, window: list[str], first: int, lo: int, hi: int) -> None:
        if hi <= lo:
            return
        text = "\n".join(window[lo:hi])
        events = self._events(text, lo, first)
        for i, kind in events:
            line = window[i]
            if kind & _STEP:
                self.steps.feed(line)
            if kind & _TRIGGER:
                self._consider(window, first, i, line)
        for i in range(max(lo, hi - TAIL_LINES), hi):
            self.tail.append((first + i, window[i]))

    def _events(self, text: str, lo: int, first: int) -> list[tuple[int, int]]:
        """Line indices (in window) that need a look: step markers and failure triggers, in order."""
        data = text.encode("utf-8", "surrogatepass")
        found = dict.fromkeys(signals.matching_lines(signals.GATE, data, lo), _TRIGGER)
        for i in signals.matching_lines(STEP_TRIGGER, data, lo):
            found[i] = found.get(i, 0) | _STEP
        if self.keys.inside or "PRIVATE KEY" in text or "PuTTY-User-Key" in text:
            self._mark_keys(text, first + lo)
        return sorted(found.items())

    def _mark_keys(self, text: str, n0: int) -> None:
        # Rare: walk lines only in windows that contain a key marker (or sit inside a key).
        for i, line in enumerate(text.split("\n")):
            if self.keys.feed(line):
                n = n0 + i
                if self.secret_lines and self.secret_lines[-1][1] == n - 1:
                    self.secret_lines[-1] = (self.secret_lines[-1][0], n)
                else:
                    self.secret_lines.append((n, n))

    def _consider(self, window: list[str], first: int, i: int, line: str) -> None:
        if signals.RETRY.search(line):
            self.retried = True
        weight = signals.line_weight(line)
        if weight < MIN_WEIGHT:
            return
        if self.noise is not None and hash(signals.normalise(line)) in self.noise:
            return
        n = first + i
        if signals.EXIT.search(line):
            self.exit_lines.append(n)
            self.exit_lines = self.exit_lines[-50:]
        if self.open is not None and n <= self.open.end + GAP and len(self.open.lines) < MAX_BLOCK_LINES:
            self._extend(window, first, i)
            self.open.anchors.append((n, weight))
            self._grow(window, first, i)
            return
        self._close()
        start = i
        while start > 0 and i - start < PRE_CONTEXT and window[start - 1].strip() \
                and not signals.BOUNDARY.search(window[start]):
            start -= 1
        self._seq += 1
        self.open = _Block(first + start, window[start : i + 1], [(n, weight)], self.steps.current, self._seq)
        self._grow(window, first, i)

    def _extend(self, window: list[str], first: int, i: int) -> None:
        blk = self.open
        have = blk.end - first  # window index of the block's last line
        if i > have:
            blk.lines.extend(window[have + 1 : i + 1])

    def _grow(self, window: list[str], first: int, i: int) -> None:
        """Adds continuation lines after index i (trace frames, indented detail, diffs)."""
        blk = self.open
        j = blk.end - first + 1
        while j < len(window) and len(blk.lines) < MAX_BLOCK_LINES:
            line = window[j]
            body = signals.strip_timestamp(line)
            if signals.BOUNDARY.search(body):
                break
            if not body.strip():
                nxt = window[j + 1] if j + 1 < len(window) else ""
                if not signals.CONTINUATION.search(signals.strip_timestamp(nxt)):
                    break
            elif not signals.CONTINUATION.search(body):
                break
            blk.lines.append(line)
            j += 1

    def _close(self) -> None:
        if self.open is None:
            return
        self.blocks.append(self.open)
        self.open = None
        if len(self.blocks) > MAX_BLOCKS * 2:
            self._prune()

    def _prune(self) -> None:
        # Keep the strongest blocks plus the earliest ones (the first failure is often the cause).
        early = self.blocks[:50]
        rest = heapq.nlargest(MAX_BLOCKS - 50, self.blocks[50:], key=lambda b: (b.strength, b.seq))
        self.blocks = sorted(early + rest, key=lambda b: b.seq)


def _rank(scanner: _Scanner) -> list[_Block]:
    """Blocks best first: strong, near the failing command's exit, and early among equals."""
    blocks = scanner.blocks
    if not blocks:
        return []
    total = max(scanner.total, 1)
    last_exit = scanner.exit_lines[-1] if scanner.exit_lines else None
    top = max(b.strength for b in blocks)

    def score(b: _Block) -> float:
        s = b.strength
        s += 1.5 * (b.end / total)  # the cause is usually in the last command that ran
        if last_exit is not None and b.start <= last_exit and last_exit - b.end < 400:
            s += 1.0
        if b.strength >= top - 1.0:
            s += 0.5  # among the strongest, the first one is the real failure
        return s - 0.0005 * b.seq

    return sorted(blocks, key=score, reverse=True)


def _pack(ranked: list[_Block], budget: int) -> dict[int, str]:
    chosen: dict[int, str] = {}
    for b in ranked:
        if len(chosen) >= budget:
            break
        room = budget - len(chosen)
        first_anchor = b.anchors[0][0]
        lines = list(enumerate(b.lines, b.start))
        if len(lines) > room:
            # Keep the block's head from just before its first anchor.
            lo = max(0, min(first_anchor - b.start - 1, len(lines) - room))
            lines = lines[lo : lo + room]
        for n, text in lines:
            chosen.setdefault(n, text)
    return chosen


def _finish(chosen: dict[int, str], secret: set[int]) -> tuple[list[LogLine], int]:
    out, count = [], 0
    for n in sorted(chosen):
        if n in secret:
            out.append(LogLine(n, "[REDACTED:private-key]"))
            count += 1
            continue
        r = redact(chosen[n])
        count += r.count
        out.append(LogLine(n, r.text))
    return out, count


def extract(source: Source, max_lines: int = 30, pass_log: Source | None = None) -> Excerpt:
    """The lines that explain the log's failure (at most max_lines), with step and category."""
    noise = pass_fingerprints(pass_log) if pass_log is not None else None
    scanner = _Scanner(noise)
    scanner.scan(source)
    ranked = _rank(scanner)
    secret = {n for lo, hi in scanner.secret_lines for n in range(lo, hi + 1)}
    name = display_name(source)
    if not ranked:
        lines, count = _finish({n: t for n, t in list(scanner.tail)[-min(max_lines, 10):] if t.strip()}, secret)
        return Excerpt(lines, scanner.steps.failed or scanner.steps.current, "unknown", count,
                       scanner.total, has_failure=False, source=name)
    chosen = _pack(ranked, max_lines)
    lines, count = _finish(chosen, secret)
    best = ranked[0]
    category = classify([t for n, t in sorted(chosen.items())], retried=scanner.retried)
    step = scanner.steps.failed or best.step
    return Excerpt(lines, step, category, count, scanner.total, has_failure=True, source=name)
