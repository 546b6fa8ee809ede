"""Metrics, structured logs and readiness: what an operator sees of a running cibot.

Metrics live in one module-level `REGISTRY` (not the prometheus_client default one), so /metrics shows
only cibot's series and tests can read them back. Logs are one JSON object per line carrying the
request id of the Slack event or webhook being handled; a filter redacts secrets and elides anything
that looks like raw CI log text before a record reaches a handler.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)

from retrieval.errors import ConfigError

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "cibot_requests_total",
    "Questions handled, by answer route (finetune/rag/hybrid/...) and surface (mention, dm, slash, ...).",
    ["route", "surface"],
    registry=REGISTRY,
)
# Generation on CPU takes seconds, retrieval milliseconds: the buckets span both.
STAGE_SECONDS = Histogram(
    "cibot_answer_stage_seconds",
    "Time spent in each stage of answering (excerpt, retrieve, generate, post, total).",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 60.0, 120.0),
    registry=REGISTRY,
)
FEEDBACK = Counter(
    "cibot_feedback_total",
    "Votes on answers, by value (up, down, retract).",
    ["value"],
    registry=REGISTRY,
)
ADAPTER_INFO = Info(
    "cibot_adapter",
    "The base model and LoRA adapter version currently serving answers.",
    registry=REGISTRY,
)
RETRAIN_RUNS = Counter(
    "cibot_retrain_runs_total",
    "Scheduled or manual retraining runs, by outcome (promoted, rejected, skipped, failed).",
    ["outcome"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "cibot_queue_depth",
    "Answers waiting for or in generation.",
    registry=REGISTRY,
)
ERRORS = Counter(
    "cibot_errors_total",
    "Requests that ended in an apology instead of an answer, by surface.",
    ["surface"],
    registry=REGISTRY,
)


def render_metrics() -> tuple[bytes, str]:
    """The Prometheus text exposition of REGISTRY, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def set_adapter(version: str | None, base: str | None = None) -> None:
    """Record which adapter serves answers (called at start-up and on every hot swap)."""
    ADAPTER_INFO.info({"version": version or "none", "base": base or "unknown"})


@contextmanager
def stage_timer(stage: str) -> Iterator[None]:
    """Observe the wall time of the enclosed block under `stage`, also when it raises."""
    start = time.perf_counter()
    try:
        yield
    finally:
        STAGE_SECONDS.labels(stage=stage).observe(time.perf_counter() - start)


# --- readiness ---------------------------------------------------------------------------------

REQUIRED_CHECKS = ("model", "index", "database")


class Readiness:
    """Named readiness checks. Ready only when every required check passes and none has failed.

    A component that failed to load is marked with `fail()`, and that sticks: a pod whose model did
    not load must never start taking traffic, whatever its other checks say. A check that raises
    counts as not ready. Checks run on every probe, so they must be cheap.
    """

    def __init__(self, required: tuple[str, ...] = REQUIRED_CHECKS):
        self._required = tuple(required)
        self._checks: dict[str, Callable[[], bool]] = {}
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()

    def register(self, name: str, check: Callable[[], bool]) -> None:
        with self._lock:
            self._checks[name] = check

    def loaded(self, name: str) -> None:
        """Shorthand for a component that, once loaded, stays loaded."""
        self.register(name, lambda: True)

    def fail(self, name: str, reason: str) -> None:
        """Mark `name` as failed to load; the process stays not ready for good."""
        with self._lock:
            self._failed[name] = _one_line(reason, 200)

    def status(self) -> tuple[bool, dict[str, str]]:
        """(ready, {name: "ok" | "loading" | "not ready" | "failed: ..." | "error: ..."})."""
        with self._lock:
            checks = dict(self._checks)
            failed = dict(self._failed)
        detail: dict[str, str] = {}
        for name in dict.fromkeys((*self._required, *checks, *failed)):
            if name in failed:
                detail[name] = f"failed: {failed[name]}"
            elif name not in checks:
                detail[name] = "loading"
            else:
                detail[name] = _run_check(checks[name])
        return all(state == "ok" for state in detail.values()), detail


def _run_check(check: Callable[[], bool]) -> str:
    try:
        return "ok" if check() else "not ready"
    except Exception as exc:  # a probe must answer, whatever the check does
        return f"error: {type(exc).__name__}: {_one_line(str(exc), 200)}"


# --- request ids -------------------------------------------------------------------------------

# Worker threads do not inherit context variables: submit work with contextvars.copy_context().run
# so the id follows the request off the acknowledgement path.
request_id: ContextVar[str] = ContextVar("cibot_request_id", default="-")


def new_request_id(value: str | None = None) -> str:
    """Start a new request: set and return its id (a given value, such as a Slack event id, or a fresh one)."""
    rid = value or uuid.uuid4().hex[:16]
    request_id.set(rid)
    return rid


@contextmanager
def bound_request_id(value: str | None = None) -> Iterator[str]:
    """Set a request id for the enclosed block only."""
    token = request_id.set(value or uuid.uuid4().hex[:16])
    try:
        yield request_id.get()
    finally:
        request_id.reset(token)


# --- logging -----------------------------------------------------------------------------------

# Extra fields that would carry CI log text or a user's message are replaced by their size: the
# redactor catches known secret shapes, but a log can hold anything (customer data, internal hosts).
TEXT_FIELDS = frozenset({"log", "log_text", "text", "excerpt", "question", "message_text", "body", "prompt"})
MAX_MESSAGE_CHARS = 500
_STD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_HANDLER_MARK = "_cibot_handler"

# Applied after the log redactor (which knows far more shapes), and alone when it is not importable:
# credentials inside URLs and key=value pairs are what cibot's own messages are likeliest to carry.
_FALLBACK_SECRETS = re.compile(
    r"xox[abposr]-[A-Za-z0-9-]{8,}|xapp-[A-Za-z0-9-]{8,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}"
    r"|AKIA[0-9A-Z]{16}|glpat-[A-Za-z0-9_-]{16,}|sk-[A-Za-z0-9_-]{20,}"
    r"|(?i:(?:password|passwd|secret|token|api[_-]?key)\s*[=:]\s*)[^\s'\",]+"
    r"|(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"
)


def redact_text(text: str) -> str:
    """Secrets in `text` replaced, using the log redactor when it is available."""
    try:
        from retrieval.logs.redact import redact
    except ImportError:
        pass
    else:
        text = redact(text).text
    return _FALLBACK_SECRETS.sub("[REDACTED]", text)


def _one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """First line of `text`, capped; a multi-line message is most likely pasted log text."""
    first, _, rest = text.partition("\n")
    if len(first) > limit:
        first = first[:limit] + f"...[{len(first) - limit} chars elided]"
    if rest.strip():
        first += f" [{rest.count(chr(10)) + 1} more lines elided]"
    return first


class RedactingFilter(logging.Filter):
    """Rewrites each record in place: message redacted and cut to one line, text fields summarised.

    Attached to cibot's handlers, so it covers third-party loggers too (a library may log a request
    body that holds a token).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = _one_line(redact_text(message))
        record.args = None
        for key, value in list(vars(record).items()):
            if key in _STD_ATTRS or key.startswith("_"):
                continue
            if key in TEXT_FIELDS and isinstance(value, (str, bytes)):
                setattr(record, key, {"chars": len(value)})
            elif isinstance(value, str):
                setattr(record, key, _one_line(redact_text(value), 200))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # Exception messages can quote the input (a parse error on a log line, a DB URL).
            record.exc_text = redact_text(record.exc_text)
        record.exc_info = None
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for key, value in vars(record).items():
            if key not in _STD_ATTRS and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return super().format(record)


def configure_logging(fmt: str = "json", level: str = "INFO", stream: Any = None) -> None:
    """Install cibot's handler on the root logger (replacing one installed earlier). Entry points only."""
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ConfigError(f"unknown log level {level!r}", hint="use DEBUG, INFO, WARNING or ERROR")
    if fmt not in ("json", "console"):
        raise ConfigError(f"unknown log format {fmt!r}", hint="use json or console")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    handler.addFilter(RedactingFilter())
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    # Per-request chatter from HTTP clients would drown the answers' own lines.
    for noisy in ("urllib3", "httpx", "httpcore", "chromadb.telemetry", "apscheduler.executors", "alembic"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
