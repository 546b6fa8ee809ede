"""CI webhooks: verify the sender, then read a failure out of a GitHub, GitLab or generic payload.

Pure: headers and raw body in, a `CiFailure` (or None for anything that is not a failure) out.
The HTTP server turns WebhookRejected into 401 and a None into 202 "ignored".
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from bot.ci.target import Target
from bot.slack.sanitize import escape, link
from retrieval.errors import InputError

GITHUB_EVENTS = ("workflow_run", "check_run", "workflow_job")
FAILED_CONCLUSIONS = ("failure", "timed_out")
GENERIC_SIGNATURE_HEADER = "X-Cibot-Signature-256"


class WebhookRejected(Exception):
    """The request is not from the configured sender (bad or missing signature or token)."""


@dataclass
class CiFailure:
    provider: str  # github | gitlab | generic
    delivery_id: str
    repo: str
    job: str
    url: str | None = None
    branch: str | None = None
    log: str | None = None
    ci_config: str | None = None
    ci_config_name: str | None = None
    target: Target | None = None  # what the CI provider layer fetches: the job's or run's own logs
    body_digest: str = ""  # the same body again, under a new delivery id, is the same failure

    def __post_init__(self) -> None:
        """Payload fields of the wrong type are refused here, once, rather than deep in posting."""
        for name in ("repo", "job", "delivery_id"):
            value = getattr(self, name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                setattr(self, name, str(value))
            elif not isinstance(value, str):
                raise InputError(f"malformed payload: {name} must be a string")
        for name in ("url", "branch"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InputError(f"malformed payload: {name} must be a string")

    @property
    def claim_key(self) -> str:
        return f"{self.provider}:delivery:{self.delivery_id}"


def header(headers: dict, name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def hmac_sha256(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_hmac(secret: str | None, body: bytes, signature: str | None) -> None:
    if not secret:
        raise WebhookRejected("webhook secret is not configured")
    if not signature or not hmac.compare_digest(hmac_sha256(secret, body), signature.strip()):
        raise WebhookRejected("bad signature")


def verify_token(expected: str | None, given: str | None) -> None:
    if not expected:
        raise WebhookRejected("webhook token is not configured")
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise WebhookRejected("bad token")


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError("malformed JSON: expected an object")
    for key in ("log", "ci_config", "ci_config_name", "url", "branch"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InputError(f"malformed payload: {key} must be a string")
    for key in ("repository", "project", "object_attributes"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise InputError(f"malformed payload: {key} must be an object")
    return data


def parse_github(headers: dict, body: bytes, secret: str | None) -> CiFailure | None:
    verify_hmac(secret, body, header(headers, "X-Hub-Signature-256"))
    event = header(headers, "X-GitHub-Event") or ""
    payload = _json(body)
    if event in GITHUB_EVENTS and payload.get(event) is not None and not isinstance(payload[event], dict):
        raise InputError(f"malformed payload: {event} must be an object")
    if event not in GITHUB_EVENTS or not isinstance(payload.get(event), dict):
        return None
    run = payload[event]
    if run.get("conclusion") not in FAILED_CONCLUSIONS:
        return None
    repo = (payload.get("repository") or {}).get("full_name") or "unknown"
    delivery = header(headers, "X-GitHub-Delivery") or _digest(body)
    branch = run.get("head_branch") or (run.get("check_suite") or {}).get("head_branch")
    return CiFailure(
        provider="github", delivery_id=delivery, repo=repo,
        job=run.get("name") or (run.get("workflow_name") or event),
        url=run.get("html_url") or run.get("details_url"),
        branch=branch, log=payload.get("log") or _github_steps_log(run),
        target=None if payload.get("log") or repo == "unknown" else _github_target(event, run, repo, branch),
    )


def _github_target(event: str, run: dict, repo: str, branch: str | None) -> Target | None:
    ident = _int(run.get("id"))
    if ident is None:
        return None
    common = dict(branch=branch, sha=run.get("head_sha"), name=run.get("name"), url=run.get("html_url"))
    if event == "workflow_run":
        return Target("github", repo, run_id=ident, **common)
    if event == "workflow_job":
        return Target("github", repo, job_id=ident, run_id=_int(run.get("run_id")), **common)
    # A check run made by GitHub Actions has the job's id.
    if (run.get("app") or {}).get("slug") == "github-actions":
        return Target("github", repo, job_id=ident, **common)
    return None


def _int(value) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _github_steps_log(run: dict) -> str | None:
    """workflow_job payloads list steps; without a log, the failed step names are the evidence."""
    lines = []
    for step in run.get("steps") or []:
        lines.append(f"step {step.get('number', '?')} {step.get('name', '')}: {step.get('conclusion') or step.get('status')}")
    output = run.get("output") or {}
    for key in ("title", "summary", "text"):
        if output.get(key):
            lines.append(str(output[key]))
    return "\n".join(lines) or None


def parse_gitlab(headers: dict, body: bytes, token: str | None) -> CiFailure | None:
    verify_token(token, header(headers, "X-Gitlab-Token"))
    payload = _json(body)
    kind = payload.get("object_kind")
    project = payload.get("project") or {}
    repo = project.get("path_with_namespace") or payload.get("project_name") or "unknown"
    delivery = header(headers, "X-Gitlab-Event-UUID") or header(headers, "X-Gitlab-Webhook-UUID") or _digest(body)
    if kind == "pipeline":
        attrs = payload.get("object_attributes") or {}
        if attrs.get("status") != "failed":
            return None
        failed = [b for b in payload.get("builds") or [] if isinstance(b, dict) and b.get("status") == "failed"]
        log = "\n".join(f"job {b.get('name')} (stage {b.get('stage')}): failed, {b.get('failure_reason') or 'no reason given'}"
                        for b in failed)
        pipeline = _int(attrs.get("id"))
        target = None if payload.get("log") or pipeline is None or repo == "unknown" else Target(
            "gitlab", repo, run_id=pipeline, failed_job_ids=tuple(i for i in (_int(b.get("id")) for b in failed) if i),
            branch=attrs.get("ref"), sha=attrs.get("sha"), url=attrs.get("url"))
        return CiFailure(
            provider="gitlab", delivery_id=delivery, repo=repo,
            job=", ".join(str(b.get("name", "?")) for b in failed) or f"pipeline {attrs.get('id', '')}".strip(),
            url=attrs.get("url"), branch=attrs.get("ref"), log=payload.get("log") or log or None, target=target,
        )
    if kind == "build":
        if payload.get("build_status") != "failed":
            return None
        web = project.get("web_url")
        url = f"{web}/-/jobs/{payload['build_id']}" if web and payload.get("build_id") else None
        reason = payload.get("build_failure_reason")
        job_id = _int(payload.get("build_id"))
        target = None if payload.get("log") or job_id is None or repo == "unknown" else Target(
            "gitlab", repo, job_id=job_id, run_id=_int(payload.get("pipeline_id")), branch=payload.get("ref"),
            sha=payload.get("sha"), name=payload.get("build_name"), url=url)
        return CiFailure(
            provider="gitlab", delivery_id=delivery, repo=repo, job=payload.get("build_name") or "job",
            url=url, branch=payload.get("ref"), target=target,
            log=payload.get("log") or (f"job {payload.get('build_name')}: failed, {reason}" if reason else None),
        )
    return None


def parse_generic(headers: dict, body: bytes, secret: str | None) -> CiFailure | None:
    """{"id", "repo", "job", "url", "log", "status"?, "ci_config"?, "ci_config_name"?}."""
    verify_hmac(secret, body, header(headers, GENERIC_SIGNATURE_HEADER))
    payload = _json(body)
    if str(payload.get("status", "failed")).lower() not in ("failed", "failure", "error", "timed_out"):
        return None
    missing = [k for k in ("repo", "job") if not payload.get(k)]
    if missing:
        raise InputError(f"missing field(s): {', '.join(missing)}")
    delivery = str(payload.get("id") or header(headers, "X-Cibot-Delivery") or _digest(body))
    return CiFailure(
        provider="generic", delivery_id=delivery, repo=str(payload["repo"]), job=str(payload["job"]),
        url=payload.get("url"), branch=payload.get("branch"), log=payload.get("log"),
        ci_config=payload.get("ci_config"), ci_config_name=payload.get("ci_config_name"),
    )


def _digest(body: bytes) -> str:
    # Without a delivery id, an identical body is the same delivery.
    return hashlib.sha256(body).hexdigest()[:32]


def alert_text(failure: CiFailure) -> str:
    """The root message posted for a webhook failure (mrkdwn, escaped)."""
    what = f"{failure.repo} · {failure.job}"
    title = link(failure.url, what) if failure.url else escape(what)
    branch = f" on `{escape(failure.branch)}`" if failure.branch else ""
    return f":red_circle: CI failed: {title}{branch}"
