"""The answer engine: excerpt -> route -> retrieve -> prompt -> generate -> post-process.

`AnswerEngine.answer(request)` is the one entry the CLI, the Slack bot and the webhooks call. It
receives its parts (router, retriever, generator) already built (bot.runtime.build_engine does
that), so it holds no config reading, no weight loading and no I/O beyond reading the request's
log. Every stage is timed; the answer's evidence and sources are only ever things that were seen.
"""
from __future__ import annotations

import io
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from bot.engine import ciconfig
from bot.engine.answer import Answer, AnswerRequest, SourceRef
from bot.engine.budget import Prompt, fit
from bot.engine.fallback import matches, runbook_fix
from bot.engine.finish import earlier_fields, finish_finetune, finish_hybrid, finish_rag
from bot.engine.router import RouteDecision, route_features, split_keyword
from bot.server.observability import STAGE_SECONDS
from retrieval.errors import UsageError
from retrieval.logs import evidence as ev
from retrieval.logs.excerpt import extract
from retrieval.logs.redact import redact
from retrieval.sources import redact_text, safe_url
from retrieval.types import Excerpt, Passage
from training.inference.prompt import (
    ANSWER_SCHEMA,
    ModelAnswer,
    build_messages,
    generic_question,
    parse_answer,
)

STAGES = ("excerpt", "route", "retrieve", "prompt", "generate", "post")
# Terminal escapes and control bytes a model may copy from logs; never worth showing in Slack.
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")
JSON_RETRY = "That was not valid JSON. Reply with one JSON object with the keys root_cause and fix."


@dataclass
class EngineConfig:
    top_k: int = 5
    min_score: float = 0.3
    context_tokens: int = 768
    max_new_tokens: int = 160
    excerpt_lines: int = 30
    evidence_lines: int = 30  # the excerpt's budget: labelled failure chunks are often long
    channel_routes: dict[str, str] = field(default_factory=dict)
    never_echo: tuple[str, ...] = ()  # configured secret values; masked if a model repeats one
    model_base: str = "none"
    min_logprob: float | None = None  # see ModelSettings.min_logprob

    @classmethod
    def from_settings(cls, settings: Any) -> "EngineConfig":
        secrets = []
        for section in (settings.slack, settings.webhooks, settings.model, settings.retrieval):
            for value in section.__dict__.values():
                if hasattr(value, "get_secret_value") and value.get_secret_value():
                    secrets.append(value.get_secret_value())
        return cls(top_k=settings.retrieval.top_k, min_score=settings.retrieval.min_score,
                   context_tokens=settings.model.context_tokens, max_new_tokens=settings.model.max_new_tokens,
                   channel_routes=dict(settings.slack.channel_routes), never_echo=tuple(secrets),
                   model_base=settings.model.base, min_logprob=settings.model.min_logprob)


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start


@dataclass
class _Work:
    """What the stages hand each other within one request."""

    request: AnswerRequest
    question: str
    excerpt: Excerpt
    route: Any = None  # bot.engine.router.RouteDecision
    fmt: str = "text"
    passages: list[Passage] = field(default_factory=list)
    config: Any = None  # bot.engine.ciconfig.CiConfig
    section: Any = None  # bot.engine.ciconfig.Section
    findings: list = field(default_factory=list)
    prompt: Prompt | None = None
    raw: str | None = None
    logprob: float | None = None  # the mean log-probability of the tokens of `raw`, when known
    model: dict = field(default_factory=dict)
    fix_skipped: bool = False  # the model wrote only the root cause: a runbook's stated fix is served


class AnswerEngine:
    def __init__(self, *, router=None, retriever=None, generator=None, config: EngineConfig | None = None):
        self.router = router
        self.retriever = retriever
        self.generator = generator
        self.config = config or EngineConfig()

    def without_model(self) -> "AnswerEngine":
        """The same engine answering from the log and retrieval alone (no generation): what the
        bot posts first, in well under a second, while the model writes its answer."""
        return AnswerEngine(router=self.router, retriever=self.retriever, generator=None, config=self.config)

    # ---- stages ------------------------------------------------------------------------------

    def excerpt(self, log: str | bytes | Path | None, pass_log: str | bytes | Path | None = None) -> Excerpt:
        """The redacted failure excerpt of a log, read in bounded memory (streaming)."""
        return extract(_source(log), max_lines=self.config.excerpt_lines,
                       pass_log=_source(pass_log) if pass_log is not None else None)

    def answer(self, request: AnswerRequest) -> Answer:
        question = redact(request.question or "").text.strip()
        if not question and _empty(request.log):
            raise UsageError("nothing to answer: ask a question or attach a log",
                             hint="e.g. cibot ask 'why did CI fail?' --log build.log")
        timer = _Timer()
        with timer("excerpt"):
            work = _Work(request, question, self._excerpt_of(request, question))
        if _no_text(request, work):
            return _nothing_to_explain(work, timer)
        with timer("route"):
            self._route(work)
        with timer("retrieve"):
            self._retrieve(work)
        with timer("prompt"):
            self._config(work)
            self._prompt(work)
        with timer("generate"):
            self._generate(work)
        with timer("post"):
            answer = self._post(work)
        answer.timings = dict(timer.timings)
        answer.timings["total"] = sum(timer.timings.values())
        _observe(answer.timings)
        return answer

    def _excerpt_of(self, request: AnswerRequest, question: str) -> Excerpt:
        if not _empty(request.log):
            return self.excerpt(request.log, request.pass_log)
        # An alert pasted into the message is the log.
        if route_features(question, None, False)["log_like_lines"] >= 0.5:
            return self.excerpt(question)
        return Excerpt(lines=[], has_failure=False, source=None)

    def _route(self, work: _Work) -> None:
        req, log_text = work.request, work.excerpt.text() if work.excerpt.lines else None
        if self.router is None:  # no classifier loaded: the obvious rule
            keyword, fmt, rest = split_keyword(work.question)
            route = keyword or req.route or ("hybrid" if log_text else "rag")
            work.route = RouteDecision(route, 1.0, {route: 1.0}, {}, "rule", rest, fmt)
        else:
            work.route = self.router.decide(
                work.question, log_text=log_text, has_history=bool(req.history), forced=req.route,
                channel=req.scope.channel, channel_routes=self.config.channel_routes)
        work.question = work.route.question.strip()
        work.fmt = work.route.format or req.format

    def _retrieve(self, work: _Work) -> None:
        if self.retriever is None or work.route.route == "finetune":
            return
        hybrid = work.route.route == "hybrid"
        query = ev.retrieval_query(work.question, work.excerpt.lines if hybrid else [], work.excerpt.post_build)
        if not query.strip():
            return
        work.passages = list(self.retriever.search(query, k=self.config.top_k, scope=work.request.scope))

    def _config(self, work: _Work) -> None:
        if work.request.ci_config is None or work.route.route == "rag":
            return
        work.config = ciconfig.load_config(work.request.ci_config, work.request.ci_config_name)
        work.section = ciconfig.select(work.config, work.excerpt.step, work.excerpt.text())
        work.findings = ciconfig.check(work.config, work.section, [ln.text for ln in work.excerpt.lines])

    def _prompt(self, work: _Work) -> None:
        if self.generator is None:
            return
        route = work.route.route
        relevant = ev.relevant_sources(work.passages, self.config.min_score)
        if route == "hybrid" and work.excerpt.has_failure:
            # Only notes that share a specific word with the failure (fallback.matches): a small model
            # shown a near-miss runbook ("Timeouts" for a sudo banner's "timeout: 15.0 minutes")
            # or another team's incident retells it as this log's cause.
            relevant = [p for p in relevant if matches(p, work.excerpt, at_least=1)]
        text = work.excerpt.text()
        if route == "finetune" and not text:
            text = _earlier_answer(work.request.history) or work.question
        budget = self.config.context_tokens
        work.prompt = fit(
            build_messages, self.generator.count_tokens, budget_tokens=budget, excerpt=text,
            question=work.question or None, passages=relevant if route != "finetune" else [],
            fmt=work.fmt, ci_config=work.section.render() if work.section else None)

    def _generate(self, work: _Work) -> None:
        gen = self.generator
        if gen is None or work.prompt is None:
            return
        info = gen.info()
        work.model = {"base": info.base, "adapter": info.adapter}
        if work.fmt != "json":
            # A runbook section about this very failure that states its fix is served in place of
            # the model's (finish.finish), so the model need not write one: a third of its tokens.
            work.fix_skipped = (work.route.route == "hybrid" and work.excerpt.has_failure
                                and runbook_fix(work.excerpt, self._sources(work), curated=True) is not None)
            self._keep(work, gen.generate(work.prompt.messages, max_new_tokens=self.config.max_new_tokens,
                                          cause_only=work.fix_skipped))
            return
        first = gen.generate(work.prompt.messages, max_new_tokens=self.config.max_new_tokens,
                             json_schema=ANSWER_SCHEMA)
        if _valid_json_answer(first.text):
            self._keep(work, first)
            return
        retry = work.prompt.messages + [{"role": "assistant", "content": first.text},
                                        {"role": "user", "content": JSON_RETRY}]
        second = gen.generate(retry, max_new_tokens=self.config.max_new_tokens, json_schema=ANSWER_SCHEMA)
        # Neither valid: the post stage builds the JSON from whatever parses, else from the log.
        self._keep(work, second if _valid_json_answer(second.text) else first)

    @staticmethod
    def _keep(work: _Work, generation) -> None:
        work.raw = generation.text
        work.logprob = generation.meta.get("mean_logprob")

    # ---- post-processing ---------------------------------------------------------------------

    def _sources(self, work: _Work) -> list[Passage]:
        """The passages an answer may rest on: those the prompt used and, for a failing log, any
        runbook about this very failure that the prompt had no room for (it still gives the fix)."""
        used = work.prompt.used if work.prompt else ev.relevant_sources(work.passages, self.config.min_score)
        sources = [p for p in used if p.score >= self.config.min_score] if work.route.route != "finetune" else []
        if work.route.route == "hybrid" and work.excerpt.has_failure:
            sources += [p for p in ev.relevant_sources(work.passages, self.config.min_score)
                        if p not in sources and matches(p, work.excerpt)]
        return sources

    def _post(self, work: _Work) -> Answer:
        parsed = parse_answer(work.raw, need_fix=not work.fix_skipped) if work.raw else None
        sources = self._sources(work)
        if work.route.route == "rag":
            cause, fix, note, ground, sources = finish_rag(parsed, work.question, sources)
        elif work.route.route == "finetune":
            cause, fix, note, ground = finish_finetune(parsed, work.excerpt, work.question, work.request.history)
        else:
            cause, fix, note, ground, sources = finish_hybrid(
                parsed, work.excerpt, sources, work.findings, work.logprob, self.config.min_logprob,
                "\n".join(work.config.lines) if work.config is not None else "")
        sources = sorted(sources, key=lambda p: -p.score)
        cause, fix = self._scrub(cause), self._scrub(fix)
        config_lines = self._config_evidence(work, cause + " " + fix)
        return Answer(
            route=work.route.route, root_cause=cause, fix=fix,
            evidence=ev.pick_evidence(work.excerpt.lines, cause + " " + fix, self.config.evidence_lines),
            sources=[SourceRef(redact_text(p.title), safe_url(p.uri), round(float(p.score), 3)) for p in sources],
            confidence=ev.confidence(route_conf=work.route.confidence, parsed=parsed is not None,
                                     ground=ground, top_source=sources[0].score if sources else None,
                                     has_failure=work.excerpt.has_failure or work.route.route != "hybrid"),
            model=work.model or {"base": self.config.model_base, "adapter": None},
            category=work.excerpt.category, step=work.excerpt.step, note=note,
            debug=self._debug(work, parsed, ground), config_evidence=config_lines)

    def _config_evidence(self, work: _Work, answer_text: str) -> list:
        if work.section is None:
            return []
        cited = [f.line for f in work.findings if f.strength >= 0.5]
        wanted = ev.terms(answer_text) | ev.terms(work.excerpt.step or "")
        related = [ln for ln in work.section.lines if ev.terms(ln.text) & wanted]
        seen, out = set(), []
        for ln in cited + related:
            if ln.n not in seen:
                seen.add(ln.n)
                out.append(ln)
        return out[:6]

    def _scrub(self, text: str) -> str:
        """Model output is untrusted: redact secrets and configured secret values it may repeat."""
        text = redact(" ".join(_CONTROL.sub("", text or "").split())).text
        for secret in self.config.never_echo:
            if secret and len(secret) >= 6:
                text = text.replace(secret, "[REDACTED:config]")
        return text or "(empty)"

    def _debug(self, work: _Work, parsed, ground: float) -> dict:
        return {
            "route": work.route.debug(),
            "format": work.fmt,
            "retrieved": [{"title": p.title, "score": round(float(p.score), 3)} for p in work.passages],
            "prompt_tokens": work.prompt.tokens if work.prompt else 0,
            "parsed": parsed is not None,
            "mean_logprob": work.logprob,
            "grounding": round(ground, 3),
            "findings": [{"check": f.check, "strength": f.strength, "line": f"{f.line.file}:{f.line.n}"}
                         for f in work.findings],
            "raw": (work.raw or "")[:400],
        }


EMPTY_LOG_CAUSE = "No failure found: the log is empty (or holds only colour codes and blank lines)."
EMPTY_LOG_FIX = ("Attach the failing job's complete log, or paste the lines around its first error, "
                 "and ask again.")


def _no_text(request: AnswerRequest, work: "_Work") -> bool:
    """A log was given, it has no readable text, and the question adds nothing of its own."""
    if _empty(request.log) and request.log is None:
        return False
    if any(line.text.strip() for line in work.excerpt.lines):
        return False
    return not work.question or generic_question(work.question)


def _nothing_to_explain(work: "_Work", timer: "_Timer") -> Answer:
    """Say so, and generate nothing: a model asked about an empty log invents a cause."""
    answer = Answer(route="rag", root_cause=EMPTY_LOG_CAUSE, fix=EMPTY_LOG_FIX, confidence=0.0,
                    note="no failure signal in the log; no answer was generated", category="unknown")
    answer.timings = dict(timer.timings)
    answer.timings["total"] = sum(timer.timings.values())
    return answer


def _empty(log: Any) -> bool:
    if log is None:
        return True
    if isinstance(log, (str, bytes)):
        return not log.strip()
    return False


def _source(log: str | bytes | Path | Any):
    """Pasted text must never be mistaken for a path, so it goes in as a text stream."""
    if isinstance(log, str):
        return io.StringIO(log)
    return log


def _earlier_answer(history: list[dict]) -> str | None:
    fields = earlier_fields(history)
    if fields:
        return f"Root Cause: {fields[0]}\nFix: {fields[1]}"
    for turn in reversed(history or []):
        if turn.get("text"):
            return str(turn["text"])
    return None


def _valid_json_answer(text: str | None) -> bool:
    return ModelAnswer.parse(text) is not None


def _observe(timings: dict[str, float]) -> None:
    """Feed the stage histogram (scraped where a server runs)."""
    for stage, seconds in timings.items():
        STAGE_SECONDS.labels(stage=stage).observe(seconds)
