"""A fake GitHub + GitLab + Jenkins API on 127.0.0.1:0, in the providers' published shapes.

One stdlib server answers all three under their own prefixes (GitHub Enterprise's /api/v3, a
self-managed GitLab under /gitlab, Jenkins under /jenkins), and a blob host under /blob for
GitHub's pre-signed log downloads. It records every request (path and headers) so tests can check
where tokens went, and `faults` queues error responses for a path.
"""
from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, unquote, urlsplit

from local_server import LocalServer
from requests.structures import CaseInsensitiveDict

GITHUB_TOKEN = "ghp_FAKEtoken0123456789abcdefABCDEF0123"
GITLAB_TOKEN = "glpat-FAKEtoken0123456789ab"
JENKINS_TOKEN = "11fa0ke0jenkins0api0token0123456789"


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    headers: dict


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict = field(default_factory=dict)
    chunks: int = 0  # stream the body in this many writes (0: one)


class FakeCiApi(LocalServer):
    def __init__(self):
        self.seen: list[Seen] = []
        self.faults: dict[str, list[Reply]] = {}  # path regex -> replies served (and removed) first
        self.github_per_page = 2  # small pages, so pagination is exercised
        self.gh_runs: dict[int, dict] = {}
        self.gh_jobs: dict[int, dict] = {}
        self.gh_logs: dict[int, bytes] = {}
        self.gh_files: dict[tuple[str, str], str] = {}  # (path, ref) -> text
        self.gl_jobs: dict[int, dict] = {}
        self.gl_traces: dict[int, bytes] = {}
        self.gl_pipelines: dict[int, dict] = {}
        self.gl_files: dict[tuple[str, str], str] = {}
        self.jk_builds: dict[tuple[str, int], dict] = {}
        self.jk_logs: dict[tuple[str, int], bytes] = {}
        self.delay_s = 0.0
        self.blob_chunks = 8  # writes per log download
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                api.seen.append(Seen("GET", unquote(url.path), parse_qs(url.query), CaseInsensitiveDict(self.headers.items())))
                reply = api._fault(url.path) or api.route(url.path, parse_qs(url.query))
                if api.delay_s:
                    time.sleep(api.delay_s)
                self._send(reply)

            def _send(self, reply: Reply):
                body = reply.body
                if isinstance(body, (dict, list)):
                    body = json.dumps(body).encode()
                    reply.headers.setdefault("Content-Type", "application/json")
                elif isinstance(body, str):
                    body = body.encode()
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                step = max(1, len(body) // reply.chunks) if reply.chunks else len(body) or 1
                try:
                    for i in range(0, len(body), step):
                        self.wfile.write(body[i:i + step])
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._serve(Handler)

    # ----------------------------------------------------------------- addresses
    @property
    def github_api(self) -> str:
        return self.url + "/api/v3"

    @property
    def github_web(self) -> str:
        return "https://github.example.com"

    @property
    def gitlab_url(self) -> str:
        return self.url + "/gitlab"

    @property
    def jenkins_url(self) -> str:
        return self.url + "/jenkins"

    def env(self) -> dict[str, str]:
        """The CIBOT_* variables that point cibot at this server."""
        return {
            "CIBOT_GITHUB__TOKEN": GITHUB_TOKEN, "CIBOT_GITHUB__API_URL": self.github_api,
            "CIBOT_GITHUB__WEB_URL": self.github_web,
            "CIBOT_GITLAB__TOKEN": GITLAB_TOKEN, "CIBOT_GITLAB__URL": self.gitlab_url,
            "CIBOT_JENKINS__URL": self.jenkins_url, "CIBOT_JENKINS__USER": "cibot",
            "CIBOT_JENKINS__TOKEN": JENKINS_TOKEN,
            "CIBOT_CI__RETRIES": "2", "CIBOT_CI__TIMEOUT_S": "5",
        }

    def requests_to(self, pattern: str) -> list[Seen]:
        return [s for s in self.seen if re.search(pattern, s.path)]

    def _fault(self, path: str) -> Reply | None:
        for pattern, replies in self.faults.items():
            if replies and re.search(pattern, unquote(path)):
                return replies.pop(0)
        return None

    # ----------------------------------------------------------------- GitHub
    def add_github_run(self, repo: str, run_id: int, *, jobs: list[tuple[int, str, str, bytes]],
                       branch: str = "main", sha: str = "a" * 40, workflow_id: int = 7,
                       path: str = ".github/workflows/ci.yml", conclusion: str = "failure",
                       workflow_text: str | None = None) -> None:
        """jobs: (job_id, name, conclusion, log bytes)."""
        base = f"{self.github_api}/repos/{repo}"
        self.gh_runs[run_id] = {
            "id": run_id, "name": "CI", "workflow_id": workflow_id, "path": path, "head_sha": sha,
            "head_branch": branch, "status": "completed", "conclusion": conclusion, "run_attempt": 1,
            "url": f"{base}/actions/runs/{run_id}", "jobs_url": f"{base}/actions/runs/{run_id}/jobs",
            "html_url": f"{self.github_web}/{repo}/actions/runs/{run_id}", "repository": {"full_name": repo},
        }
        for job_id, name, job_conclusion, log in jobs:
            self.gh_jobs[job_id] = {
                "id": job_id, "run_id": run_id, "name": name, "status": "completed", "conclusion": job_conclusion,
                "head_sha": sha, "head_branch": branch, "url": f"{base}/actions/jobs/{job_id}",
                "html_url": f"{self.github_web}/{repo}/actions/runs/{run_id}/job/{job_id}",
                "run_url": f"{base}/actions/runs/{run_id}", "workflow_name": "CI",
                "steps": [{"name": "Run tests", "status": "completed", "conclusion": job_conclusion, "number": 3}],
                "labels": ["ubuntu-latest"],
            }
            self.gh_logs[job_id] = log
        if workflow_text is not None:
            self.gh_files[(path, sha)] = workflow_text

    def _github(self, path: str, query: dict) -> Reply:
        m = re.match(r"/repos/([^/]+/[^/]+)(/.*)?$", path)
        if not m:
            return Reply(404, {"message": "Not Found"})
        repo, rest = m.group(1), m.group(2) or ""
        base = f"{self.github_api}/repos/{repo}"
        if rest == "":
            return Reply(200, {"full_name": repo, "default_branch": "main", "url": base,
                               "html_url": f"{self.github_web}/{repo}"})
        if m2 := re.fullmatch(r"/actions/jobs/(\d+)", rest):
            job = self.gh_jobs.get(int(m2[1]))
            return Reply(200, job) if job else Reply(404, {"message": "Not Found"})
        if m2 := re.fullmatch(r"/actions/jobs/(\d+)/logs", rest):
            if int(m2[1]) not in self.gh_logs:
                return Reply(404, {"message": "Not Found"})
            return Reply(302, b"", {"Location": f"{self.url}/blob/logs/{m2[1]}.txt?sig=presigned"})
        if m2 := re.fullmatch(r"/actions/runs/(\d+)", rest):
            run = self.gh_runs.get(int(m2[1]))
            return Reply(200, run) if run else Reply(404, {"message": "Not Found"})
        if m2 := re.fullmatch(r"/actions/runs/(\d+)/jobs", rest):
            jobs = sorted((j for j in self.gh_jobs.values() if j["run_id"] == int(m2[1])), key=lambda j: j["id"])
            return self._github_page(f"{base}/actions/runs/{m2[1]}/jobs", query, jobs, "jobs")
        if m2 := re.fullmatch(r"/actions/workflows/(\d+)", rest):
            return Reply(200, {"id": int(m2[1]), "name": "CI", "path": ".github/workflows/ci.yml",
                               "url": f"{base}/actions/workflows/{m2[1]}", "state": "active"})
        if m2 := re.fullmatch(r"/actions/workflows/(\d+)/runs", rest):
            branch, status = (query.get("branch") or [None])[0], (query.get("status") or [None])[0]
            runs = [r for r in self.gh_runs.values() if r["workflow_id"] == int(m2[1])
                    and (branch is None or r["head_branch"] == branch) and (status is None or r["conclusion"] == status)]
            runs.sort(key=lambda r: -r["id"])
            return self._github_page(f"{base}/actions/workflows/{m2[1]}/runs", query, runs, "workflow_runs")
        if m2 := re.fullmatch(r"/contents/(.+)", rest):
            text = self.gh_files.get((m2[1], (query.get("ref") or [""])[0]))
            if text is None:
                return Reply(404, {"message": "Not Found"})
            return Reply(200, {"type": "file", "encoding": "base64", "path": m2[1], "name": m2[1].rsplit("/", 1)[-1],
                               "content": base64.b64encode(text.encode()).decode(), "size": len(text),
                               "url": f"{base}/contents/{m2[1]}", "sha": "f" * 40})
        return Reply(404, {"message": "Not Found"})

    def _github_page(self, url: str, query: dict, items: list, key: str) -> Reply:
        page = int((query.get("page") or ["1"])[0])
        size = self.github_per_page
        chunk = items[(page - 1) * size: page * size]
        headers = {}
        if page * size < len(items):
            extra = "".join(f"&{k}={quote(v[0])}" for k, v in query.items() if k not in ("page",))
            headers["Link"] = f'<{url}?page={page + 1}{extra}>; rel="next"'
        return Reply(200, {"total_count": len(items), key: chunk}, headers)

    # ----------------------------------------------------------------- GitLab
    def add_gitlab_pipeline(self, project: str, pipeline_id: int, *, jobs: list[tuple[int, str, str, bytes]],
                            ref: str = "main", sha: str = "b" * 40, status: str = "failed",
                            ci_text: str | None = None) -> None:
        web = f"{self.gitlab_url}/{project}"
        self.gl_pipelines[pipeline_id] = {"id": pipeline_id, "iid": pipeline_id % 1000, "project": project,
                                          "ref": ref, "sha": sha, "status": status,
                                          "web_url": f"{web}/-/pipelines/{pipeline_id}"}
        for job_id, name, job_status, trace in jobs:
            self.gl_jobs[job_id] = {
                "id": job_id, "name": name, "stage": "test", "status": job_status, "ref": ref,
                "web_url": f"{web}/-/jobs/{job_id}", "failure_reason": "script_failure" if job_status == "failed" else None,
                "commit": {"id": sha, "short_id": sha[:8], "title": "Change"},
                "pipeline": {"id": pipeline_id, "ref": ref, "sha": sha, "status": status},
                "project": project,
            }
            self.gl_traces[job_id] = trace
        if ci_text is not None:
            self.gl_files[(".gitlab-ci.yml", sha)] = ci_text

    def _gitlab(self, path: str, query: dict) -> Reply:
        m = re.match(r"/projects/([^/]+)(/.*)?$", path)
        if not m:
            return Reply(404, {"message": "404 Not Found"})
        project, rest = unquote(m.group(1)), m.group(2) or ""
        own = lambda rows: [r for r in rows if r.get("project") == project]  # noqa: E731
        if rest == "":
            return Reply(200, {"id": 42, "path_with_namespace": project, "default_branch": "main",
                               "web_url": f"{self.gitlab_url}/{project}"})
        if m2 := re.fullmatch(r"/jobs/(\d+)", rest):
            job = self.gl_jobs.get(int(m2[1]))
            return Reply(200, job) if job and job["project"] == project else Reply(404, {"message": "404 Not found"})
        if m2 := re.fullmatch(r"/jobs/(\d+)/trace", rest):
            trace = self.gl_traces.get(int(m2[1]))
            return Reply(200, trace, {"Content-Type": "text/plain"}) if trace is not None else Reply(404, {"message": "404 Not found"})
        if m2 := re.fullmatch(r"/pipelines/(\d+)/jobs", rest):
            pid, scope = int(m2[1]), (query.get("scope[]") or query.get("scope") or [None])[0]
            jobs = sorted((j for j in self.gl_jobs.values() if j["pipeline"]["id"] == pid
                           and (scope is None or j["status"] == scope)), key=lambda j: j["id"])
            return self._gitlab_page(path, query, jobs)
        if rest == "/pipelines":
            ref, status = (query.get("ref") or [None])[0], (query.get("status") or [None])[0]
            rows = [p for p in own(self.gl_pipelines.values()) if (ref is None or p["ref"] == ref)
                    and (status is None or p["status"] == status)]
            return Reply(200, sorted(rows, key=lambda p: -p["id"]))
        if m2 := re.fullmatch(r"/repository/files/(.+)/raw", rest):
            text = self.gl_files.get((unquote(m2[1]), (query.get("ref") or [""])[0]))
            return Reply(200, text, {"Content-Type": "text/plain"}) if text is not None else Reply(404, {"message": "404 File Not Found"})
        return Reply(404, {"message": "404 Not Found"})

    def _gitlab_page(self, path: str, query: dict, items: list) -> Reply:
        page, size = int((query.get("page") or ["1"])[0]), 2
        chunk = items[(page - 1) * size: page * size]
        headers = {"X-Page": str(page), "X-Per-Page": str(size), "X-Total": str(len(items))}
        if page * size < len(items):
            extra = "".join(f"&{k}={quote(v[0])}" for k, v in query.items() if k != "page")
            headers["Link"] = f'<{self.gitlab_url}/api/v4{path}?page={page + 1}{extra}>; rel="next"'
            headers["X-Next-Page"] = str(page + 1)
        return Reply(200, chunk, headers)

    # ----------------------------------------------------------------- Jenkins
    def add_jenkins_build(self, job: str, number: int, result: str, log: bytes) -> None:
        url = f"{self.jenkins_url}/" + "".join(f"job/{p}/" for p in job.split("/")) + f"{number}/"
        self.jk_builds[(job, number)] = {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
                                         "number": number, "result": result, "building": False,
                                         "fullDisplayName": f"{job.replace('/', ' » ')} #{number}", "url": url}
        self.jk_logs[(job, number)] = log

    def _jenkins(self, path: str) -> Reply:
        if path.startswith("/crumbIssuer"):
            return Reply(404, b"")
        m = re.fullmatch(r"((?:/job/[^/]+)+)(?:/(\d+))?/(api/json|consoleText)", path)
        if not m:
            return Reply(404, b"Not Found")
        job = "/".join(p for p in unquote(m[1]).split("/") if p and p != "job")
        if m[2] is None and m[3] == "api/json":
            builds = sorted((n for (j, n) in self.jk_builds if j == job), reverse=True)
            ok = [n for n in builds if self.jk_builds[(job, n)]["result"] == "SUCCESS"]
            last = {"number": ok[0], "url": self.jk_builds[(job, ok[0])]["url"]} if ok else None
            return Reply(200, {"name": job.rsplit("/", 1)[-1], "fullName": job, "lastSuccessfulBuild": last,
                               "builds": [{"number": n} for n in builds]}) if builds else Reply(404, b"Not Found")
        key = (job, int(m[2]))
        if key not in self.jk_builds:
            return Reply(404, b"Not Found")
        if m[3] == "api/json":
            return Reply(200, self.jk_builds[key])
        return Reply(200, self.jk_logs[key], {"Content-Type": "text/plain;charset=utf-8"})

    # ----------------------------------------------------------------- dispatch
    def route(self, path: str, query: dict) -> Reply:
        path = unquote(path) if not path.startswith("/gitlab/api/v4/projects/") else path
        if path.startswith("/api/v3"):
            return self._github(path.removeprefix("/api/v3"), query)
        if path.startswith("/gitlab/api/v4"):
            return self._gitlab(path.removeprefix("/gitlab/api/v4"), query)
        if path.startswith("/jenkins"):
            return self._jenkins(path.removeprefix("/jenkins"))
        if m := re.fullmatch(r"/blob/logs/(\d+)\.txt", path):
            log = self.gh_logs.get(int(m[1]))
            return Reply(200, log, {"Content-Type": "text/plain"}, chunks=self.blob_chunks) if log is not None else Reply(404, b"")
        return Reply(404, b"Not Found")
