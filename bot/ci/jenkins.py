"""Jenkins through python-jenkins: the build's consoleText (streamed), and the job's last successful
build as the passing log. Jenkins keeps no copy of a Jenkinsfile per build that its API serves, so
no CI config comes from here."""
from __future__ import annotations

import logging
from urllib.parse import quote

from bot.ci.download import CHUNK
from bot.ci.fetched import Fetched, FetchFailed, JobLogs, http_reason, reason_of
from bot.ci.logfile import save_stream
from bot.ci.target import Target

log = logging.getLogger(__name__)


class JenkinsProvider:
    name = "jenkins"

    def __init__(self, settings, limits):
        import jenkins

        self.limits = limits
        token = settings.token.get_secret_value() if settings.token is not None else None
        self.client = jenkins.Jenkins(settings.url, username=settings.user, password=token, timeout=limits.timeout_s)

    def fetch(self, target: Target) -> Fetched:
        try:
            info = self.client.get_build_info(target.project, target.job_id)
        except Exception as exc:
            return Fetched(problems=[f"could not read {target.label}: {reason_of(exc, self.name, self.limits.timeout_s)}"])
        logs = JobLogs(name=info.get("fullDisplayName") or f"{target.project} #{target.job_id}", url=info.get("url"))
        try:
            logs.log = self._console(target.project, target.job_id)
        except Exception as exc:
            logs.notes.append(f"could not fetch the log of {logs.name}: {reason_of(exc, self.name, self.limits.timeout_s)}")
        if logs.log is not None and self.limits.fetch_passing_log:
            logs.pass_log = self._last_success(target)
        return Fetched(jobs=[logs])

    def _console(self, project: str, number: int):
        """Built from the configured server, never from a URL in the API's answer: credentials go
        only where the settings say."""
        import requests

        url = self.client.server + "".join(f"job/{quote(p, safe='')}/" for p in project.split("/"))
        url += f"{number}/consoleText"
        with self.client.jenkins_open_stream(requests.Request("GET", url), add_crumb=False) as resp:
            if resp.status_code >= 400:
                raise FetchFailed(http_reason(resp.status_code, self.name))
            return save_stream(resp.iter_content(CHUNK), self.limits.max_log_bytes, f"build-{number}.log")

    def _last_success(self, target: Target):
        try:
            job = self.client.get_job_info(target.project)
            last = job.get("lastSuccessfulBuild") or {}
            if last.get("number") and last["number"] != target.job_id:
                return self._console(target.project, last["number"])
        except Exception as exc:
            log.info("no passing build for %s: %s", target.project, reason_of(exc, self.name, self.limits.timeout_s))
        return None
