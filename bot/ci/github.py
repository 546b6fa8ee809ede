"""GitHub Actions through PyGithub: failed jobs of a run, their logs, the last passing log, the workflow.

A job's log is `GET /repos/{o}/{r}/actions/jobs/{id}/logs`, a 302 to a short-lived download URL.
PyGithub returns that Location; the download goes there without the token (the URL is pre-signed,
and a token must never travel to a host other than the API's).
"""
from __future__ import annotations

import logging
from itertools import islice

from bot.ci.download import download, session
from bot.ci.fetched import Fetched, JobLogs, reason_of
from bot.ci.target import Target

log = logging.getLogger(__name__)
FAILED = ("failure", "timed_out")


class GitHubProvider:
    name = "github"

    def __init__(self, settings, limits):
        from github import Auth, Github, GithubRetry

        self.limits = limits
        retry = GithubRetry(total=limits.retries, backoff_factor=0.5,
                            max_rate_limit_wait=limits.max_rate_limit_wait_s,
                            secondary_rate_wait=min(60.0, limits.max_rate_limit_wait_s),
                            retry_after_max=limits.max_rate_limit_wait_s)
        self.client = Github(auth=Auth.Token(settings.token.get_secret_value()), base_url=settings.api_url,
                             timeout=int(max(1, limits.timeout_s)), retry=retry, per_page=100,
                             seconds_between_requests=None, seconds_between_writes=None)
        self.http = session(limits.retries, limits.max_rate_limit_wait_s)

    def fetch(self, target: Target) -> Fetched:
        repo = self.client.get_repo(target.project, lazy=True)
        try:
            if target.job_id is not None:
                jobs = [repo.get_workflow_job(target.job_id)]
                run = repo.get_workflow_run(jobs[0].run_id)
            else:
                run = repo.get_workflow_run(target.run_id)
                jobs = [j for j in run.jobs(_filter="latest") if j.conclusion in FAILED][: self.limits.max_jobs]
        except Exception as exc:
            return Fetched(problems=[f"could not read {target.label}: {reason_of(exc, self.name, self.limits.timeout_s)}"])
        config = self._workflow_file(repo, run) if self.limits.fetch_ci_config else None
        passing = self._passing_run(repo, run, target) if self.limits.fetch_passing_log else None
        out = Fetched()
        for job in jobs:
            logs = JobLogs(name=job.name, url=job.html_url)
            if config:
                logs.ci_config_name, logs.ci_config = config
            try:
                logs.log = self._log(job)
            except Exception as exc:
                logs.notes.append(f"could not fetch the log of job {job.name}: "
                                  f"{reason_of(exc, self.name, self.limits.timeout_s)}")
            if logs.log is not None and passing is not None:
                logs.pass_log = self._passing_log(passing, job.name)
            out.jobs.append(logs)
        if not jobs:
            out.problems.append(f"{target.label} has no failed job")
        return out

    def _log(self, job):
        location = job.logs_url()  # the API's 302, not followed by PyGithub
        return download(self.http, location, provider=self.name, cap=self.limits.max_log_bytes,
                        timeout_s=self.limits.timeout_s, name=f"job-{job.id}.log")

    def _workflow_file(self, repo, run) -> tuple[str, str] | None:
        path = (run.path or "").split("@", 1)[0]
        if not path:
            return None
        try:
            content = repo.get_contents(path, ref=run.head_sha)
            return path, content.decoded_content.decode("utf-8", errors="replace")
        except Exception as exc:
            log.info("no workflow file: %s", reason_of(exc, self.name, self.limits.timeout_s))
            return None

    def _passing_run(self, repo, run, target: Target):
        """The newest successful run of the same workflow on this branch, else on the default branch."""
        try:
            workflow = repo.get_workflow(run.workflow_id)
            branches = [run.head_branch or target.branch]
            default = repo.default_branch
            if default and default not in branches:
                branches.append(default)
            for branch in filter(None, branches):
                for candidate in islice(workflow.get_runs(branch=branch, status="success"), 5):
                    if candidate.id != run.id:
                        return candidate
        except Exception as exc:
            log.info("no passing run: %s", reason_of(exc, self.name, self.limits.timeout_s))
        return None

    def _passing_log(self, run, name: str):
        try:
            for job in run.jobs(_filter="latest"):
                if job.name == name and job.conclusion == "success":
                    return self._log(job)
        except Exception as exc:
            log.info("no passing log for %s: %s", name, reason_of(exc, self.name, self.limits.timeout_s))
        return None
