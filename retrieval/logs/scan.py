"""One streaming pass over a log that collects the evidence an excerpt is chosen from.

The log arrives in blocks of lines (reader.iter_blocks). A regex gate over each block's bytes picks
the few lines worth a look: step markers (classify.STEP_TRIGGER) and failure words (signals.GATE).
Scored lines seed candidate failure blocks that grow over continuation lines (traces, indented
detail, diffs) and take a few lines of context before them. When a command exits non-zero, the
last lines of its output are kept too ("exit tails"), since the cause usually sits just above.
Everything kept is bounded, so memory does not grow with the log.
"""
from __future__ import annotations

import heapq
import math
import re
from array import array
from bisect import bisect_right
from collections import Counter, deque
from dataclasses import dataclass, field

from retrieval.logs import signals
from retrieval.logs.classify import STEP_TRIGGER, StepTracker
from retrieval.logs.reader import Source, iter_blocks
from retrieval.logs.redact import KeyBlockTracker

PRE_CONTEXT = 3          # lines kept before a block's first anchor
MAX_BLOCK_LINES = 120    # a block stops growing here (a 10k-line trace is not an excerpt)
GAP = 4                  # anchors at most this many lines apart join one block
MAX_BLANKS = 2           # blank lines a block grows across (double-spaced logs have one per line)
LOOKAHEAD = 200          # lines held back per window so blocks can grow across read blocks
MAX_BLOCKS = 400         # candidate blocks kept; weaker ones are dropped as the log streams
EXIT_TAIL = 60           # lines of a failing command's output kept before its exit line
MAX_EXITS = 30
TAIL_LINES = 30          # the log's last lines, shown when no failure is found
MIN_WEIGHT = 4.0
MAX_SEEN = 50_000
_TRIGGER, _STEP = 1, 2   # why a line needs a look
AFTER_CR_CAP = 2_000_000  # redraw marks kept (8 bytes each) before editor numbers are given up
# Travis runs after_script once the job's result is set, whatever it was: an error there (a docs
# report, a coverage upload) did not fail the build. (after_failure is left alone: it is where
# jobs print the test logs that explain the failure.)
_POST_BUILD = re.compile(r"travis_fold:start:after_script\b")


@dataclass
class Block:
    start: int
    lines: list[str]
    anchors: list[tuple[int, float, int]] = field(default_factory=list)  # (n, weight, text hash)
    step: str | None = None
    segment: int = 0      # line number where the command/step containing the block began
    seq: int = 0
    post_build: bool = False  # begun after Travis's after_script began: the result was already set

    @property
    def end(self) -> int:
        return self.start + len(self.lines) - 1


@dataclass
class ExitTail:
    n: int                # the exit line
    segment: int
    lines: list[tuple[int, str]]
    step: str | None


class Scanner:
    """Streams windows of lines and collects candidate failure blocks and exit tails."""

    def __init__(self, noise: set[int] | None = None):
        self.noise = noise
        self.blocks: list[Block] = []
        self.open: Block | None = None
        self.exits: list[ExitTail] = []
        self.seen: Counter = Counter()   # normalised anchor text -> occurrences
        self.steps = StepTracker()
        self.keys = KeyBlockTracker()
        self.secret_lines: list[tuple[int, int]] = []  # private key line ranges, inclusive
        self.tail: deque[tuple[int, str]] = deque(maxlen=TAIL_LINES)
        self.segment = 1
        self.total = 0
        self.retried = False
        # Lines that began after a lone \r, for the numbers an editor shows (LogLine.shown); None
        # once a log redraws more than AFTER_CR_CAP times (its numbers are then the scorer's).
        self.after_cr: array | None = array("q")
        self.post_build: int | None = None  # the line where after_script began
        self._seq = 0

    def shown(self, n: int) -> int | None:
        """Line n's number as an editor counts it, or None when not tracked."""
        if self.after_cr is None:
            return None
        return n - bisect_right(self.after_cr, n)

    # -- streaming ---------------------------------------------------------------------------
    def scan(self, source: Source) -> "Scanner":
        carry: list[str] = []
        carry_first, done = 1, 0  # `done`: lines of the carry already processed
        for block in iter_blocks(source):
            if block.after_cr and self.after_cr is not None:
                self.after_cr.extend(block.after_cr)
                if len(self.after_cr) > AFTER_CR_CAP:
                    self.after_cr = None
            window = carry + block.lines
            limit = max(done, len(window) - LOOKAHEAD)
            self._process(window, carry_first, done, limit)
            keep = max(0, min(limit, len(window) - LOOKAHEAD - EXIT_TAIL))
            carry, carry_first = window[keep:], carry_first + keep
            done = limit - keep
            self.total = block.first + len(block.lines) - 1
        if carry:
            self._process(carry, carry_first, done, len(carry))
        self._close()
        return self

    def _process(self, window: list[str], first: int, lo: int, hi: int) -> None:
        if hi <= lo:
            return
        text = "\n".join(window[lo:hi])
        for i, kind in self._events(text, lo, first):
            line = window[i]
            if kind & _STEP:
                self._step(line, first + i)
            if kind & _TRIGGER:
                self._consider(window, first, i, line)
        for i in range(max(lo, hi - TAIL_LINES), hi):
            self.tail.append((first + i, window[i]))

    def _events(self, text: str, lo: int, first: int) -> list[tuple[int, int]]:
        """Line indices (in window) that need a look, in order, with why."""
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

    def _step(self, line: str, n: int) -> None:
        self.steps.feed(line)
        if self.post_build is None and _POST_BUILD.match(signals.strip_timestamp(line)):
            self.post_build = n
        if signals.SEGMENT_START.search(signals.strip_timestamp(line)):
            self._close()
            self.segment = n

    # -- blocks ------------------------------------------------------------------------------
    def _consider(self, window: list[str], first: int, i: int, line: str) -> None:
        n = first + i
        weight, is_exit, is_retry = signals.analyse(line)
        self.retried = self.retried or is_retry
        if is_exit:
            self._exit(window, first, i)
        if weight < MIN_WEIGHT:
            return
        key = hash(signals.normalise(line))
        if self.noise is not None and key in self.noise:
            return
        if key in self.seen or len(self.seen) < MAX_SEEN:
            self.seen[key] += 1
        if self.open is not None and self._near(window, first, i) and len(self.open.lines) < MAX_BLOCK_LINES:
            have = self.open.end - first  # window index of the block's last line
            if i > have:
                self.open.lines.extend(window[have + 1 : i + 1])
            self.open.anchors.append((n, weight, key))
            self._grow(window, first)
            return
        self._close()
        start = self._context_start(window, first, i)
        self._seq += 1
        self.open = Block(first + start, window[start : i + 1], [(n, weight, key)],
                          self.steps.current, self.segment, self._seq, self.post_build is not None)
        self._grow(window, first)

    def _near(self, window: list[str], first: int, i: int) -> bool:
        """Whether line i is close enough to the open block to join it. Blank lines do not count,
        so a double-spaced log (every line followed by an empty one) groups like a plain one."""
        gap = first + i - self.open.end
        if gap <= GAP:
            return True
        if gap > GAP * (MAX_BLANKS + 1):
            return False
        lo = max(0, self.open.end - first + 1)
        return sum(1 for k in range(lo, i) if window[k].strip()) < GAP

    def _context_start(self, window: list[str], first: int, i: int) -> int:
        """Where a new block starts: up to PRE_CONTEXT non-blank lines above its anchor (its title,
        the command that printed it), never past a blank run or the start of the segment."""
        spaced = i + 1 < len(window) and not window[i + 1].strip()  # blank after the anchor too
        start, taken, blanks = i, 0, 0
        while start > 0 and taken < PRE_CONTEXT and first + start > self.segment:
            if window[start - 1].strip():
                taken, blanks = taken + 1, 0
            elif spaced and blanks < MAX_BLANKS:
                blanks += 1
            else:
                break
            start -= 1
        while start < i and not window[start].strip():
            start += 1
        return start

    def _grow(self, window: list[str], first: int) -> None:
        """Adds continuation lines after the open block (trace frames, indented detail, diffs).
        A run of up to MAX_BLANKS blank lines is crossed when a continuation line follows it."""
        blk = self.open
        j = blk.end - first + 1
        while j < len(window) and len(blk.lines) < MAX_BLOCK_LINES:
            body = signals.strip_timestamp(window[j])
            if signals.BOUNDARY.search(body):
                break
            if not body.strip():
                k = j
                while k < len(window) and k - j < MAX_BLANKS and not window[k].strip():
                    k += 1
                nxt = signals.strip_timestamp(window[k]) if k < len(window) else ""
                if not nxt.strip() or not signals.CONTINUATION.search(nxt) or signals.BOUNDARY.search(nxt):
                    break
                blk.lines.extend(window[j:k])
                j = k
                continue
            if not signals.CONTINUATION.search(body) or signals.PASSED.search(body):
                break
            blk.lines.append(window[j])
            j += 1

    def _exit(self, window: list[str], first: int, i: int) -> None:
        n = first + i
        lo = max(0, i - EXIT_TAIL, self.segment - first)
        lines = [(first + k, window[k]) for k in range(lo, i + 1)
                 if not signals.SCAFFOLD.search(signals.strip_timestamp(window[k]))]
        tail = ExitTail(n, self.segment, lines, self.steps.current)
        if len(self.exits) >= MAX_EXITS:
            del self.exits[10]  # keep the first exits (the real failure) and the latest ones
        self.exits.append(tail)

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
        rest = heapq.nlargest(MAX_BLOCKS - 50, self.blocks[50:], key=lambda b: (self.strength(b), b.seq))
        self.blocks = sorted(early + rest, key=lambda b: b.seq)

    def strength(self, b: Block) -> float:
        """Best anchor weight, discounted when its text recurs all over the log, plus breadth."""
        best, distinct = 0.0, set()
        for _, w, key in b.anchors:
            w = w / (1.0 + 0.5 * math.log(max(1, self.seen.get(key, 1))))
            best = max(best, w)
            distinct.add(key)
        return best + 0.5 * math.log1p(len(distinct))
