"""From fetched job logs to engine requests and back: what the Slack bot and `cibot ask --url` share.

Webhooks (workflow_job, workflow_run, GitLab build and pipeline events), forwarded alerts, job links
in mentions and the CLI all answer each fetched job from its own log. When nothing could be fetched,
the caller falls back to what the payload or alert says, and the answer's note says which log could
not be fetched and why.
"""
from __future__ import annotations

import time
from dataclasses import replace

from bot.ci.fetched import Fetched, JobLogs
from bot.engine.answer import AnswerRequest
from bot.server.observability import STAGE_SECONDS
from retrieval.types import Scope


def fetch(deps, target) -> tuple[Fetched, float]:
    started = time.perf_counter()
    fetched = deps.ci.fetch(target)
    took = time.perf_counter() - started
    STAGE_SECONDS.labels(stage="ci_fetch").observe(took)
    return fetched, took


def problems(fetched: Fetched) -> list[str]:
    """Why some log is missing: the fetch's own problems and every job's notes."""
    return fetched.problems + [note for job in fetched.jobs for note in job.notes]


def job_request(job: JobLogs, *, question: str = "", scope: Scope | None = None, route=None,
                format: str = "text") -> AnswerRequest:
    return AnswerRequest(
        question=question, log=job.log.path, pass_log=job.pass_log.path if job.pass_log else None,
        ci_config=job.ci_config, ci_config_name=job.ci_config_name, scope=scope or Scope(), route=route,
        format=format,
    )


def job_note(job: JobLogs, extra: list[str]) -> str:
    """What cibot read, said in the answer: where the log came from and anything it could not fetch."""
    parts = list(extra)
    if job.log is not None and job.log.truncated:
        parts.append(f"the log is long; I read its last {_mb(job.log.size)} (skipped the first {_mb(job.log.skipped)})")
    if job.pass_log is not None:
        parts.append("compared with the last passing run of this job")
    return "; ".join(parts)


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB"


def with_note(answer, note: str):
    if not note:
        return answer
    merged = f"{note}. {answer.note}" if answer.note else note
    return replace(answer, note=merged[0].upper() + merged[1:])


def evidence_excerpt(answer) -> str:
    """What is stored for a fetched log: the engine's redacted evidence lines, not the raw file."""
    return "\n".join(line.text for line in answer.evidence)


def job_key(request_key: str, job: JobLogs, index: int) -> str:
    return request_key if index == 0 else f"{request_key}:job:{index}:{job.name}"[:255]


def with_fetch_problems(ask, fetched: Fetched):
    """The ask to answer from the payload alone, its note naming what could not be fetched."""
    return replace(ask, target=None, fetch_notes=problems(fetched))
