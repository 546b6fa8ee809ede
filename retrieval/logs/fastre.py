"""Fast regex engines for scanning logs: RE2 (google-re2) when installed, Python's `re` otherwise.

Python's backtracking engine tries every alternative at every position, which costs about a
microsecond per character for the big alternations used here; RE2's DFA runs at hundreds of MB/s
and its Set matches many patterns in one pass. Patterns given here must be RE2-compatible (no
lookaround, no backreferences); both engines then give the same answers.
"""
from __future__ import annotations

import re

try:
    import re2  # google-re2
except ImportError:  # pragma: no cover - exercised only where the wheel is missing
    re2 = None


def compile_bytes(pattern: str):
    """A compiled regex that scans UTF-8 bytes."""
    if re2 is not None:
        return re2.compile(pattern.encode())
    return re.compile(pattern.encode())


def matching_lines(rx, data: bytes, first: int = 0) -> list[int]:
    """Indices (counted from `first`) of the "\\n"-separated lines of `data` that `rx` matches.

    Searches resume at the next line after a hit, so a noisy line costs one match, and RE2 is
    driven through its low-level Match (the wrapper's finditer costs microseconds per hit).
    """
    out: list[int] = []
    n, pos, idx, counted = len(data), 0, first, 0
    low = getattr(rx, "_regexp", None) if re2 is not None else None
    while pos < n:
        if low is not None:
            start = low.Match(re2._Anchor.UNANCHORED, data, pos, n)[0][0]
            if start < 0:
                break
        else:
            m = rx.search(data, pos)
            if m is None:
                break
            start = m.start()
        idx += data.count(b"\n", counted, start)
        counted = start
        out.append(idx)
        nl = data.find(b"\n", start)
        if nl < 0:
            break
        pos = nl + 1
        idx += 1
        counted = pos
    return out


class MultiRegex:
    """Which of several patterns match a string, in one pass where RE2 is available."""

    def __init__(self, patterns: list[str]):
        self.patterns = list(patterns)
        if re2 is not None:
            self._set = re2.Set.SearchSet(re2.Options())
            for p in self.patterns:
                self._set.Add(p)
            self._set.Compile()
        else:
            self._set = None
            self._compiled = [re.compile(p) for p in self.patterns]

    def matches(self, text: str) -> list[int]:
        """Indices of the patterns that match somewhere in `text` (unordered)."""
        if self._set is not None:
            return self._set.Match(text) or []
        return [i for i, rx in enumerate(self._compiled) if rx.search(text)]
