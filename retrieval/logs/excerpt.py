"""Find the lines of a CI log that explain its failure, in one streaming pass.

scan.Scanner reads the log once, in bounded memory, and keeps candidate failure blocks (scored
lines grown over their traces and detail) and the output tails of commands that exited non-zero.
Here the candidates are ranked (strength, inside the failing command, the first real failure
over later fallout) and packed into the line budget, then redacted.

With a passing log of the same job, lines whose normalised form also occurs there are not
evidence, as in CiDiff (Hubner et al., ISSTA 2025).
"""
from __future__ import annotations

import re

from retrieval.logs import signals
from retrieval.logs.classify import classify
from retrieval.logs.reader import Source, display_name, iter_blocks
from retrieval.logs.redact import redact
from retrieval.logs.scan import Block, ExitTail, Scanner
from retrieval.types import Excerpt, LogLine

MAX_PASS_LINES = 3_000_000
FIRST_FAILURE_MARGIN = 0.3   # how much weaker the first failure may be and still lead
FIRST_FAILURE_MIN = 7.0     # only a clear failure can claim to be the first one
STRONG_MARGIN = 6.0          # blocks this close to the best are packed before the rest of the exit tail
BEST_SHARE = 0.4             # of the budget, for the best block before the exit tail gets its share
EXIT_SHARE = 0.2
CLEAR_BLOCK = 8.0            # a block this strong leads alone: the exit tail waits its turn
CLEAR_NEXT = 1               # blocks packed after a clear one before the exit tail's share
CLEAR_BLOCKS_FIRST = 25      # after a clear block, the tail's share is CLEAR_EXIT_SHARE of the
CLEAR_EXIT_SHARE = 0.5       # budget beyond this many lines
LEAD = 1                     # lines a cut block keeps above its first anchor (its title)
POST_BUILD_PENALTY = 3.0     # a block in Travis's after_script against one before it
RECENCY = 5.0                # bonus for the last block of the log over the first
CATEGORY_TAIL = 8            # lines above the failing exit that also vote on the category
NEAR_EXIT = 300              # lines above a failing exit that count as its immediate output


def pass_fingerprints(source: Source) -> set[int]:
    """Hashes of the normalised lines of a passing log (bounded)."""
    seen: set[int] = set()
    for block in iter_blocks(source):
        seen.update(hash(text) for text in signals.normalise_block(block.text))
        if len(seen) > MAX_PASS_LINES:
            break
    return seen


_Unit = tuple[list[tuple[int, str]], bool, int]


def _rank(scanner: Scanner) -> list[tuple[float, Block]]:
    """(score, block), best first: strong, inside a command that failed, early among equals."""
    blocks = scanner.blocks
    if not blocks:
        return []
    # What Travis printed after the result was set ranks below what set it (it stays in the
    # excerpt when the budget has room: labellers sometimes count an after_script crash too).
    late = POST_BUILD_PENALTY if any(not b.post_build for b in blocks) else 0.0
    total = max(scanner.total, 1)
    failing = [(e.segment, e.n) for e in scanner.exits]
    scores = {}
    for b in blocks:
        s = scanner.strength(b)
        s += _exit_bonus(b, failing)
        # Later commands ran last and failed the job; what ran after the result set did not.
        scores[id(b)] = s + RECENCY * (b.end / total) - (late if b.post_build else 0.0)
    top = max(scores.values())
    for b in blocks:  # blocks are in log order: the first near-top one is the real failure
        if scores[id(b)] >= top - FIRST_FAILURE_MARGIN and scanner.strength(b) >= FIRST_FAILURE_MIN:
            scores[id(b)] += FIRST_FAILURE_MARGIN + 0.01
            break
    return sorted(((scores[id(b)], b) for b in blocks), key=lambda sb: (-sb[0], sb[1].seq))


def _exit_bonus(b: Block, failing: list[tuple[int, int]]) -> float:
    """Output of the command that failed, above all just above its exit line, is the evidence."""
    bonus = 0.0
    for lo, hi in failing:
        if lo <= b.start <= hi:
            near = hi - b.end <= NEAR_EXIT
            bonus = max(bonus, 3.0 if near else 1.5)
    return bonus


def _primary_exit(scanner: Scanner, best: Block | None) -> ExitTail | None:
    if not scanner.exits:
        return None
    if best is not None:
        for e in scanner.exits:
            if e.segment <= best.start <= e.n:
                return e
    return scanner.exits[0]


def _units(scanner: Scanner, ranked: list[tuple[float, Block]], budget: int) -> list[_Unit]:
    """What to pack, in priority order: (lines, keep the end when cut, most lines to take).

    The best block leads. Unless it is a clear failure block, part of the budget is held for the
    tail of the failing command's output (the lines just above its exit), which is where a
    failure without a recognisable block (a link checker's report, a deploy's last words)
    explains itself. A clear block is followed by the next block first (Maven's goal failure
    after its compiler errors, the second of several failed tests): the tail above its exit
    mostly repeats it, so the tail only gets a share of the budget beyond its first lines.
    """
    best = ranked[0][1] if ranked else None
    primary = _primary_exit(scanner, best)
    top = ranked[0][0] if ranked else 0.0
    strong = [b for s, b in ranked[1:] if s >= top - STRONG_MARGIN]
    weak = [b for s, b in ranked[1:] if s < top - STRONG_MARGIN]
    clear = best is not None and scanner.strength(best) >= CLEAR_BLOCK
    units: list[_Unit] = []
    if best is not None and primary is not None and not clear:
        units.append((_block_lines(best), False, int(budget * BEST_SHARE)))
        units.append((primary.lines, True, max(1, int(budget * EXIT_SHARE))))
    if best is not None:
        units.append((_block_lines(best), False, budget))
    after = strong[:CLEAR_NEXT] if clear else []
    units += [(_block_lines(b), False, budget) for b in after]
    if primary is not None and clear:
        units.append((primary.lines, True, int(max(0, budget - CLEAR_BLOCKS_FIRST) * CLEAR_EXIT_SHARE)))
    units += [(_block_lines(b), False, budget) for b in strong[len(after):]]
    if primary is not None:
        units.append((primary.lines, True, budget))
    units += [(_block_lines(b), False, budget) for b in weak]
    units += [(e.lines, True, budget) for e in scanner.exits if e is not primary]
    return units


def _block_lines(b: Block) -> list[tuple[int, str]]:
    return list(enumerate(b.lines, b.start))


def _pack(units: list[_Unit], anchors: dict[int, int], budget: int, once: bool = True) -> dict[int, str]:
    """Fills the budget unit by unit. A cut block keeps its head from one line above its first
    anchor (its title line), or from the anchor itself when only a few lines are left. With
    `once`, a line whose text was already packed is skipped (see _fresh)."""
    chosen: dict[int, str] = {}
    said: set[str] = set()
    for lines, keep_end, cap in units:
        room = min(cap, budget - len(chosen))
        if budget - len(chosen) <= 0:
            break
        if room <= 0:
            continue
        fresh = _fresh(lines, chosen, said if once else None)
        if len(fresh) > room:
            if keep_end:
                fresh = fresh[-room:]
            else:
                first = anchors.get(lines[0][0], lines[0][0])
                lead = min(LEAD, room // 4)
                at = next((k for k, (n, _) in enumerate(fresh) if n >= first), 0)
                fresh = fresh[max(0, at - lead):][:room]
        chosen.update(fresh)
        if once:
            said.update(_said(t) for _, t in fresh)
    return chosen


_BAR = re.compile(r"([^\w\s])\1{5,}")  # a progress bar's run of one glyph ("[▬▬▬▬▬▬․․․․․․] 3 failing")
_DIGITS = re.compile(r"\d+")
_GLYPHS = re.compile(r"[^\w\s#%]+")


def _said(text: str) -> str:
    """The line as it counts for repeats: a progress bar redrawn with another count or another
    length is the same line said again."""
    key = " ".join(signals.strip_timestamp(text).split())
    if not _BAR.search(key):
        return key
    bare = _DIGITS.sub("#", _GLYPHS.sub("", key))
    return bare if any(c.isalpha() for c in bare) else key  # a rule of dashes is the line itself


def _fresh(lines: list[tuple[int, str]], chosen: dict[int, str], said: set[str] | None) -> list[tuple[int, str]]:
    """The unit's lines not packed yet. A line that repeats one already said (a retried command's
    output, a test's failure printed again) adds nothing, so only its first occurrence counts."""
    if said is None:
        return [(n, t) for n, t in lines if n not in chosen and t.strip()]
    out, seen = [], set(said)
    for n, t in lines:
        key = _said(t)
        if n in chosen or not key or key in seen:
            continue
        seen.add(key)
        out.append((n, t))
    return out


def _finish(chosen: dict[int, str], secret: set[int], scanner: Scanner) -> tuple[list[LogLine], int]:
    out, count = [], 0
    for n in sorted(chosen):
        if n in secret:
            out.append(LogLine(n, "[REDACTED:private-key]", scanner.shown(n)))
            count += 1
            continue
        r = redact(chosen[n])
        count += r.count
        out.append(LogLine(n, r.text, scanner.shown(n)))
    return out, count


def _has_failure(scanner: Scanner, ranked: list[Block]) -> bool:
    if scanner.exits:
        return True
    if not ranked:
        return False
    if any(signals.SUCCESS.search(t) for _, t in scanner.tail):
        # A run that says it succeeded needs strong evidence to the contrary.
        return max(scanner.strength(b) for _, b in ranked) >= 8.5
    return True


def extract(source: Source, max_lines: int = 30, pass_log: Source | None = None) -> Excerpt:
    """The lines that explain the log's failure (at most max_lines), with step and category."""
    noise = pass_fingerprints(pass_log) if pass_log is not None else None
    scanner = Scanner(noise).scan(source)
    ranked = _rank(scanner)
    secret = {n for lo, hi in scanner.secret_lines for n in range(lo, hi + 1)}
    name = display_name(source)
    if not _has_failure(scanner, ranked):
        tail = [(n, t) for n, t in scanner.tail if t.strip()][-min(max_lines, 10):]
        lines, count = _finish(dict(tail), secret, scanner)
        return Excerpt(lines, None, "unknown", count, scanner.total, has_failure=False, source=name)
    anchors = {b.start: b.anchors[0][0] for _, b in ranked}
    units = _units(scanner, ranked, max_lines)
    chosen = _pack(units, anchors, max_lines)
    lines, count = _finish(chosen, secret, scanner)
    best = ranked[0][1] if ranked else None
    primary = _primary_exit(scanner, best)
    # The runner's own summary just above the exit ("FAILED (failures=2)", "BUILD FAILURE") names
    # the kind of failure even when the budget went to the blocks above it: it votes last.
    # Lines vote in packing order (best block first), so setup noise that filled the rest of
    # the budget from early in the log does not outvote the failure. Repeats vote too: a
    # message the log prints again (a retried build's errors) is what it insists on.
    voters = _pack(units, anchors, max_lines, once=False)
    summary = [t for n, t in primary.lines[-CATEGORY_TAIL:] if n not in voters] if primary else []
    category = classify(list(voters.values()) + summary, retried=scanner.retried)
    step = scanner.steps.failed or (best.step if best else None) or (primary.step if primary else None)
    return Excerpt(lines, step, category, count, scanner.total, has_failure=True, source=name,
                   focus=tuple(a[0] for a in best.anchors) if best else (),
                   focus_span=(best.start, best.end) if best else None, post_build=scanner.post_build)
