"""What to fetch: a `Target` from a webhook payload or from a job/run link of a configured host.

Pure. A link is a target only when its host is the configured provider's: cibot never fetches a
URL someone typed for another host (no server-side request forgery).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from bot.ci.settings import GitHubSettings, GitLabSettings, JenkinsSettings

_URL = re.compile(r"https?://[^\s<>|\"'`()\[\]]+")
_GITHUB_PATH = re.compile(
    r"^/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)/actions/runs/(?P<run>\d+)"
    r"(?:/attempts/\d+)?(?:/job/(?P<job>\d+))?/?$"
)
_GITHUB_CHECK_RUN = re.compile(r"^/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)/runs/(?P<job>\d+)/?$")
_GITLAB_PATH = re.compile(r"^/(?P<project>[\w.-]+(?:/[\w.-]+)+)/-/(?P<kind>jobs|pipelines)/(?P<id>\d+)")
_JENKINS_BUILD = re.compile(r"^(?P<job>(?:/job/[^/]+)+)/(?P<number>\d+)(?:/.*)?$")


@dataclass(frozen=True)
class Target:
    """A failed job (job_id) or a failed run of jobs (run_id) at one provider."""

    provider: str  # github | gitlab | jenkins
    project: str  # owner/repo, group/project, or the Jenkins job's full name (folders joined by /)
    job_id: int | None = None  # GitHub job, GitLab job, Jenkins build number
    run_id: int | None = None  # GitHub workflow run, GitLab pipeline
    failed_job_ids: tuple[int, ...] = field(default=())  # known from the payload (GitLab pipelines)
    branch: str | None = None
    sha: str | None = None
    name: str | None = None
    url: str | None = None

    @property
    def label(self) -> str:
        if self.job_id is not None:
            what = f"build #{self.job_id}" if self.provider == "jenkins" else f"job {self.name or self.job_id}"
        else:
            what = f"{'pipeline' if self.provider == 'gitlab' else 'run'} {self.run_id}"
        return f"{self.provider} {self.project} {what}"


@dataclass(frozen=True)
class Hosts:
    """The configured providers' web hosts: the only links that become targets."""

    github: GitHubSettings | None = None
    gitlab: GitLabSettings | None = None
    jenkins: JenkinsSettings | None = None

    @classmethod
    def from_settings(cls, settings) -> "Hosts":
        return cls(github=settings.github, gitlab=settings.gitlab, jenkins=settings.jenkins)


def urls_in(text: str) -> list[str]:
    """http(s) links in text, Slack's <url|label> form included, in order, without duplicates."""
    seen: dict[str, None] = {}
    for match in _URL.finditer(text or ""):
        seen.setdefault(match.group(0).rstrip(".,;:!?>"), None)
    return list(seen)


def target_from_url(url: str, hosts: Hosts) -> Target | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or parts.username or parts.password:
        return None
    host, path = parts.netloc.lower(), unquote(parts.path)
    if hosts.github is not None and host == hosts.github.web_host:
        return _github(path, url)
    if hosts.gitlab is not None and hosts.gitlab.url and _same_base(parts, hosts.gitlab.url):
        return _gitlab(path[len(urlsplit(hosts.gitlab.url).path):], url)
    if hosts.jenkins is not None and hosts.jenkins.url and _same_base(parts, hosts.jenkins.url):
        return _jenkins(path[len(urlsplit(hosts.jenkins.url).path):], url)
    return None


def targets_in(text: str, hosts: Hosts) -> list[Target]:
    found: list[Target] = []
    for url in urls_in(text):
        target = target_from_url(url, hosts)
        if target is not None and target not in found:
            found.append(target)
    return found


def _same_base(parts, base: str) -> bool:
    """Same scheme-less host and, for a server under a path (https://host/gitlab), that prefix."""
    want = urlsplit(base)
    prefix = want.path.rstrip("/")
    return parts.netloc.lower() == want.netloc.lower() and (not prefix or parts.path.startswith(prefix + "/"))


def _github(path: str, url: str) -> Target | None:
    match = _GITHUB_PATH.match(path)
    if match:
        job = match.group("job")
        return Target("github", f"{match['owner']}/{match['repo']}", job_id=int(job) if job else None,
                      run_id=int(match["run"]), url=url)
    match = _GITHUB_CHECK_RUN.match(path)  # a check-run link (/runs/ID): a check run's id is the job's id
    if match:
        return Target("github", f"{match['owner']}/{match['repo']}", job_id=int(match["job"]), url=url)
    return None


def _gitlab(path: str, url: str) -> Target | None:
    match = _GITLAB_PATH.match(path)
    if not match:
        return None
    ident = int(match["id"])
    if match["kind"] == "jobs":
        return Target("gitlab", match["project"], job_id=ident, url=url)
    return Target("gitlab", match["project"], run_id=ident, url=url)


def _jenkins(path: str, url: str) -> Target | None:
    match = _JENKINS_BUILD.match(path)
    if not match:
        return None
    names = [unquote(p) for p in match["job"].split("/") if p and p != "job"]
    return Target("jenkins", "/".join(names), job_id=int(match["number"]), url=url)
