"""GitLab CI through python-gitlab: failed jobs of a pipeline, their traces, the last passing trace,
and `.gitlab-ci.yml` at the failing commit. Works with gitlab.com and self-managed servers."""
from __future__ import annotations

import logging

from bot.ci.fetched import Fetched, FetchFailed, JobLogs, reason_of
from bot.ci.logfile import save_stream
from bot.ci.target import Target

log = logging.getLogger(__name__)
CI_FILE = ".gitlab-ci.yml"
CHUNK = 64 * 1024


class GitLabProvider:
    name = "gitlab"

    def __init__(self, settings, limits):
        import gitlab

        self.limits = limits
        self.client = gitlab.Gitlab(settings.url, private_token=settings.token.get_secret_value(),
                                    timeout=limits.timeout_s, retry_transient_errors=True, per_page=100)
        self.client.session.trust_env = False
        self.client.session.hooks["response"].append(self._refuse_long_waits)
        # python-gitlab honours 429 Retry-After and retries 5xx with backoff, per call, this many times.
        self.kw = {"max_retries": limits.retries}

    def _refuse_long_waits(self, response, *args, **kwargs):
        """python-gitlab sleeps for any Retry-After; beyond our limit, fail now with the reason."""
        wait = response.headers.get("Retry-After")
        if response.status_code == 429 and wait and wait.isdigit() and int(wait) > self.limits.max_rate_limit_wait_s:
            raise FetchFailed(f"gitlab API 429: rate limit exceeded (asked to wait {wait}s, "
                              f"more than ci.max_rate_limit_wait_s)")
        return response

    def fetch(self, target: Target) -> Fetched:
        project = self.client.projects.get(target.project, lazy=True)
        try:
            if target.job_id is not None:
                jobs = [project.jobs.get(target.job_id, **self.kw)]
            else:
                ids = list(target.failed_job_ids) or [
                    j.id for j in project.pipelines.get(target.run_id, lazy=True).jobs.list(
                        scope="failed", iterator=True, **self.kw)]
                jobs = [project.jobs.get(i, **self.kw) for i in ids[: self.limits.max_jobs]]
        except Exception as exc:
            return Fetched(problems=[f"could not read {target.label}: {reason_of(exc, self.name, self.limits.timeout_s)}"])
        out = Fetched()
        sha = target.sha or (jobs and (jobs[0].attributes.get("commit") or {}).get("id"))
        config = self._ci_file(project, sha) if self.limits.fetch_ci_config and sha else None
        for job in jobs:
            logs = JobLogs(name=job.name, url=job.attributes.get("web_url"))
            if config:
                logs.ci_config_name, logs.ci_config = CI_FILE, config
            try:
                logs.log = self._trace(job)
            except Exception as exc:
                logs.notes.append(f"could not fetch the log of job {job.name}: "
                                  f"{reason_of(exc, self.name, self.limits.timeout_s)}")
            if logs.log is not None and self.limits.fetch_passing_log:
                logs.pass_log = self._passing_trace(project, job, target)
            out.jobs.append(logs)
        if not jobs:
            out.problems.append(f"{target.label} has no failed job")
        return out

    def _trace(self, job):
        chunks = job.trace(iterator=True, chunk_size=CHUNK, **self.kw)
        return save_stream(chunks, self.limits.max_log_bytes, f"job-{job.id}.log")

    def _ci_file(self, project, sha: str) -> str | None:
        try:
            return project.files.raw(file_path=CI_FILE, ref=sha, **self.kw).decode("utf-8", errors="replace")
        except Exception as exc:
            log.info("no %s: %s", CI_FILE, reason_of(exc, self.name, self.limits.timeout_s))
            return None

    def _passing_trace(self, project, job, target: Target):
        """The newest successful job of the same name on this ref, else on the default branch."""
        try:
            refs = [job.attributes.get("ref") or target.branch]
            default = self.client.projects.get(target.project, **self.kw).default_branch
            if default and default not in refs:
                refs.append(default)
            for ref in filter(None, refs):
                for pipeline in project.pipelines.list(ref=ref, status="success", order_by="id", sort="desc",
                                                       per_page=5, get_all=False, **self.kw):
                    for candidate in pipeline.jobs.list(scope="success", iterator=True, **self.kw):
                        if candidate.name == job.name:
                            return self._trace(project.jobs.get(candidate.id, lazy=True))
        except Exception as exc:
            log.info("no passing trace for %s: %s", job.name, reason_of(exc, self.name, self.limits.timeout_s))
        return None
