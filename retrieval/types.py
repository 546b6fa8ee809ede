"""Plain data that crosses package boundaries: log lines, excerpts, passages."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LogLine:
    """One log line, 1-based number counted after splitting on \\n, \\r\\n or \\r (the shared
    scorer's count). `shown` is its number as an editor or a CI log viewer counts (a lone \\r, a
    progress bar redrawing, starts no new line there), when the reader knew it."""

    n: int
    text: str
    shown: int | None = field(default=None, compare=False)

    @property
    def at(self) -> int:
        """The number to show a reader."""
        return self.shown if self.shown is not None else self.n


@dataclass
class Excerpt:
    """The lines of a log that explain its failure, already ANSI-stripped and redacted."""

    lines: list[LogLine]
    step: str | None = None
    category: str = "unknown"
    redactions: int = 0
    total_lines: int = 0
    has_failure: bool = True
    source: str | None = None
    # The best failure block: its anchor lines (the lines that opened or grew it, in log order)
    # and its span.
    focus: tuple[int, ...] = ()
    focus_span: tuple[int, int] | None = None
    # Where Travis's after_script began (the job's result was already set), if it did.
    post_build: int | None = None

    def text(self, numbered: bool = False) -> str:
        if numbered:
            return "\n".join(f"{ln.n}: {ln.text}" for ln in self.lines)
        return "\n".join(ln.text for ln in self.lines)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of knowledge, with what an answer needs to cite it."""

    text: str
    score: float
    title: str
    uri: str
    heading_path: tuple[str, ...] = ()
    kind: str = "runbook"  # runbook | incident | thread
    chunk_id: str = ""
    metadata: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Scope:
    """Where a request comes from. Sources limited to channels/teams are visible only there."""

    channel: str | None = None
    team: str | None = None
