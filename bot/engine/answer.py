"""The request and answer that cross from the bot, CLI and webhooks into the answer engine."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from retrieval.types import LogLine, Scope

Route = Literal["finetune", "rag", "hybrid"]


@dataclass
class AnswerRequest:
    question: str = ""
    log: str | bytes | Path | None = None  # pasted text, raw bytes, or a file
    pass_log: str | bytes | Path | None = None  # a passing run of the same job, if known
    ci_config: str | Path | None = None  # workflow YAML, .gitlab-ci.yml, Jenkinsfile, ...
    ci_config_name: str | None = None
    scope: Scope = field(default_factory=Scope)
    format: Literal["text", "json"] = "text"
    route: Route | None = None  # forced route (channel setting), else the router decides
    history: list[dict] = field(default_factory=list)  # earlier turns in the same Slack thread


@dataclass(frozen=True)
class SourceRef:
    title: str
    uri: str
    score: float


@dataclass
class Answer:
    route: Route
    root_cause: str
    fix: str
    evidence: list[LogLine] = field(default_factory=list)  # verbatim from the redacted excerpt
    sources: list[SourceRef] = field(default_factory=list)  # only passages retrieved and used
    confidence: float = 0.0
    model: dict = field(default_factory=lambda: {"base": "", "adapter": None})
    timings: dict = field(default_factory=dict)  # stage -> seconds
    category: str = "unknown"
    step: str | None = None
    note: str | None = None  # e.g. "no failure found in the log", "nothing relevant retrieved"
    debug: dict = field(default_factory=dict)  # route scores and features, for --debug
    # CI config lines cited by the answer (bot.engine.ciconfig.ConfigLine: file, n, text).
    config_evidence: list = field(default_factory=list)

    def to_json(self) -> dict:
        """The `cibot ask --json` contract."""
        return {
            "route": self.route,
            "root_cause": self.root_cause,
            "fix": self.fix,
            "evidence": [{"n": ln.n, "text": ln.text} for ln in self.evidence],
            "sources": [asdict(s) for s in self.sources],
            "confidence": round(self.confidence, 3),
            "model": dict(self.model),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "category": self.category,
            "step": self.step,
            "note": self.note,
            "config_evidence": [{"file": c.file, "n": c.n, "text": c.text} for c in self.config_evidence],
        }
