"""The CI provider layer against a local fake of the GitHub, GitLab and Jenkins APIs."""
from __future__ import annotations

import logging

import pytest

from bot.ci.providers import Providers
from bot.ci.target import Target
from bot.settings import load_settings
from ci_fakes import GITHUB_TOKEN, GITLAB_TOKEN, JENKINS_TOKEN, Reply

FAIL_LOG = b"Run npm test\n> jest\nFAIL src/app.test.js\n  TypeError: cannot read property 'id' of undefined\nError: Process completed with exit code 1.\n"
PASS_LOG = b"Run npm test\n> jest\nPASS src/app.test.js\nTests: 12 passed\n"
WORKFLOW = "name: CI\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n"


@pytest.fixture
def providers(ci_api, monkeypatch):
    for key, value in ci_api.env().items():
        monkeypatch.setenv(key, value)
    return Providers(load_settings())


def _github_failure(ci_api, n_failed=1, n_ok=0):
    jobs = [(1000 + i, f"test ({i})", "failure", FAIL_LOG) for i in range(n_failed)]
    jobs += [(2000 + i, f"lint ({i})", "success", PASS_LOG) for i in range(n_ok)]
    ci_api.add_github_run("octo/app", 55, jobs=jobs, branch="feature", sha="c" * 40, workflow_text=WORKFLOW)
    ci_api.add_github_run("octo/app", 40, jobs=[(900 + i, f"test ({i})", "success", PASS_LOG) for i in range(n_failed)],
                        branch="main", sha="d" * 40, conclusion="success")


def test_github_job_log_follows_the_302_without_sending_the_token(ci_api, providers):
    _github_failure(ci_api)
    fetched = providers.fetch(Target("github", "octo/app", job_id=1000))
    assert not fetched.problems
    (job,) = fetched.jobs
    assert job.log.path.read_bytes() == FAIL_LOG
    blob = ci_api.requests_to(r"^/blob/logs/1000")
    assert blob and all("Authorization" not in s.headers for s in blob)
    assert ci_api.requests_to(r"/actions/jobs/1000/logs")[0].headers["Authorization"] == f"token {GITHUB_TOKEN}"
    job.close()
    assert not job.log.path.exists()


def test_github_gets_workflow_at_the_failing_commit_and_the_default_branch_passing_log(ci_api, providers):
    _github_failure(ci_api)
    (job,) = providers.fetch(Target("github", "octo/app", job_id=1000)).jobs
    assert (job.ci_config_name, job.ci_config) == (".github/workflows/ci.yml", WORKFLOW)
    assert ci_api.requests_to(r"/contents/")[0].query["ref"] == ["c" * 40]
    # no success on branch "feature": the default branch's run 40 gives the passing log
    assert job.pass_log is not None and job.pass_log.path.read_bytes() == PASS_LOG


def test_github_run_pages_through_jobs_and_keeps_only_failed_ones(ci_api, providers):
    _github_failure(ci_api, n_failed=3, n_ok=2)  # 5 jobs, 2 per page
    fetched = providers.fetch(Target("github", "octo/app", run_id=55))
    assert [j.name for j in fetched.jobs] == ["test (0)", "test (1)", "test (2)"]
    pages = [s.query.get("page", ["1"])[0] for s in ci_api.requests_to(r"/actions/runs/55/jobs$")]
    assert pages == ["1", "2", "3"]


def test_github_expired_log_is_a_404_note_and_the_job_is_still_listed(ci_api, providers):
    _github_failure(ci_api)
    del ci_api.gh_logs[1000]
    (job,) = providers.fetch(Target("github", "octo/app", job_id=1000)).jobs
    assert job.log is None
    assert job.notes == ["could not fetch the log of job test (0): github API 404: not found: the log may "
                         "have expired, or the token cannot see this project"]


def test_github_rate_limit_403_with_retry_after_is_waited_out(ci_api, providers):
    _github_failure(ci_api)
    ci_api.faults[r"/actions/jobs/1000$"] = [Reply(403, {"message": "API rate limit exceeded"},
                                                 {"Retry-After": "1", "X-RateLimit-Remaining": "0"})]
    (job,) = providers.fetch(Target("github", "octo/app", job_id=1000)).jobs
    assert job.log is not None
    assert len(ci_api.requests_to(r"/actions/jobs/1000$")) == 2


def test_github_rate_limit_beyond_the_allowed_wait_fails_with_a_reason(ci_api, monkeypatch):
    for key, value in {**ci_api.env(), "CIBOT_CI__MAX_RATE_LIMIT_WAIT_S": "1"}.items():
        monkeypatch.setenv(key, value)
    _github_failure(ci_api)
    ci_api.faults[r"/actions/jobs/1000$"] = [Reply(403, {"message": "API rate limit exceeded"},
                                                 {"Retry-After": "3600", "X-RateLimit-Remaining": "0"})] * 5
    fetched = Providers(load_settings()).fetch(Target("github", "octo/app", job_id=1000))
    assert not fetched.jobs and "rate limit" in fetched.problems[0]


def test_github_bad_token_says_401(ci_api, providers):
    _github_failure(ci_api)
    ci_api.faults[r"/actions/jobs/1000$"] = [Reply(401, {"message": "Bad credentials"})]
    fetched = providers.fetch(Target("github", "octo/app", job_id=1000))
    assert fetched.problems == ["could not read github octo/app job 1000: github API 401: unauthorized: check the token"]


def test_huge_log_keeps_its_tail_within_the_cap(ci_api, monkeypatch):
    for key, value in {**ci_api.env(), "CIBOT_CI__MAX_LOG_BYTES": str(256 * 1024)}.items():
        monkeypatch.setenv(key, value)
    filler = b"".join(b"downloading dependency %07d\n" % i for i in range(60_000))  # ~1.7 MB
    _github_failure(ci_api)
    ci_api.gh_logs[1000] = filler + FAIL_LOG
    (job,) = Providers(load_settings()).fetch(Target("github", "octo/app", job_id=1000)).jobs
    data = job.log.path.read_bytes()
    assert len(data) <= 256 * 1024 and data.endswith(FAIL_LOG)
    assert data.startswith(b"downloading dependency")  # cut at a line boundary
    assert job.log.skipped == len(filler) + len(FAIL_LOG) - len(data)


def test_a_40_mb_log_streams_in_bounded_memory(ci_api, providers):
    import tracemalloc

    _github_failure(ci_api)
    providers.fetch(Target("github", "octo/app", job_id=1000)).close()  # imports and connections, not counted
    ci_api.gh_logs[1000] = b"x" * 79 + b"\n"
    ci_api.gh_logs[1000] *= 500_000  # 40 MB
    ci_api.blob_chunks = 400  # 100 KB writes from the server
    tracemalloc.start()
    try:
        (job,) = providers.fetch(Target("github", "octo/app", job_id=1000)).jobs
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert job.log.size == 40_000_000
    assert peak < 4_000_000, peak  # the client side holds chunks, never the log (measured: 0.34 MB)


def test_tokens_never_reach_the_logs(ci_api, providers, caplog):
    caplog.set_level(logging.DEBUG)
    _github_failure(ci_api)
    ci_api.add_gitlab_pipeline("grp/app", 300, jobs=[(31, "rspec", "failed", FAIL_LOG)])
    ci_api.faults[r"/actions/jobs/1000$"] = [Reply(401, {"message": "Bad credentials"})]
    providers.fetch(Target("github", "octo/app", job_id=1000))
    providers.fetch(Target("gitlab", "grp/app", job_id=31))
    providers.fetch(Target("jenkins", "app", job_id=1))
    text = caplog.text + repr([r.__dict__ for r in caplog.records])
    for token in (GITHUB_TOKEN, GITLAB_TOKEN, JENKINS_TOKEN):
        assert token not in text


def test_gitlab_pipeline_failed_jobs_with_pagination_trace_config_and_passing_trace(ci_api, providers):
    jobs = [(31, "rspec 1/3", "failed", FAIL_LOG), (32, "rspec 2/3", "failed", FAIL_LOG + b"x\n"),
            (33, "rspec 3/3", "failed", FAIL_LOG + b"y\n"), (34, "lint", "success", PASS_LOG)]
    ci_api.add_gitlab_pipeline("grp/sub/app", 300, jobs=jobs, ref="fix", ci_text="rspec:\n  script: bundle exec rspec\n")
    ci_api.add_gitlab_pipeline("grp/sub/app", 200, jobs=[(21, "rspec 1/3", "success", PASS_LOG)], ref="main",
                             status="success", sha="e" * 40)
    fetched = providers.fetch(Target("gitlab", "grp/sub/app", run_id=300))
    assert [j.name for j in fetched.jobs] == ["rspec 1/3", "rspec 2/3", "rspec 3/3"]
    assert fetched.jobs[1].log.path.read_bytes() == FAIL_LOG + b"x\n"
    assert fetched.jobs[0].ci_config.startswith("rspec:") and fetched.jobs[0].ci_config_name == ".gitlab-ci.yml"
    assert fetched.jobs[0].pass_log.path.read_bytes() == PASS_LOG  # from main: nothing passed on "fix"
    assert fetched.jobs[1].pass_log is None  # no passing job of that name anywhere
    listed = ci_api.requests_to(r"/pipelines/300/jobs$")
    assert len(listed) == 2 and all(s.headers.get("Private-Token") == GITLAB_TOKEN for s in listed)


def test_gitlab_job_404_is_reported(ci_api, providers):
    fetched = providers.fetch(Target("gitlab", "grp/app", job_id=999))
    assert fetched.problems and "gitlab API 404" in fetched.problems[0]


def test_jenkins_console_text_and_last_successful_build(ci_api, providers):
    ci_api.add_jenkins_build("team/app", 41, "SUCCESS", PASS_LOG)
    ci_api.add_jenkins_build("team/app", 42, "FAILURE", FAIL_LOG)
    (job,) = providers.fetch(Target("jenkins", "team/app", job_id=42)).jobs
    assert job.log.path.read_bytes() == FAIL_LOG and job.pass_log.path.read_bytes() == PASS_LOG
    assert job.name == "team » app #42"
    console = ci_api.requests_to(r"/42/consoleText$")
    assert console and console[0].headers["Authorization"].startswith("Basic ")


def test_unconfigured_provider_names_the_settings_to_set(monkeypatch):
    fetched = Providers(load_settings()).fetch(Target("gitlab", "grp/app", job_id=1))
    assert fetched.problems == ["could not fetch the log of gitlab grp/app job 1: gitlab is not configured "
                                "(set CIBOT_GITLAB__URL and CIBOT_GITLAB__TOKEN (scope read_api))"]


def test_timeout_is_reported_as_such(ci_api, monkeypatch):
    for key, value in {**ci_api.env(), "CIBOT_CI__TIMEOUT_S": "0.3", "CIBOT_CI__RETRIES": "0"}.items():
        monkeypatch.setenv(key, value)
    ci_api.add_jenkins_build("app", 3, "FAILURE", FAIL_LOG)
    ci_api.delay_s = 1.0
    fetched = Providers(load_settings()).fetch(Target("jenkins", "app", job_id=3))
    assert fetched.problems and "timed out after 0.3s" in fetched.problems[0]


def test_gitlab_429_with_retry_after_is_waited_out_and_a_long_wait_refused(ci_api, providers):
    ci_api.add_gitlab_pipeline("grp/app", 300, jobs=[(31, "rspec", "failed", FAIL_LOG)])
    ci_api.faults[r"/jobs/31$"] = [Reply(429, {"message": "429 Too Many Requests"}, {"Retry-After": "1"})]
    (job,) = providers.fetch(Target("gitlab", "grp/app", job_id=31)).jobs
    assert job.log.path.read_bytes() == FAIL_LOG
    assert len(ci_api.requests_to(r"/jobs/31$")) == 2
    ci_api.faults[r"/jobs/31$"] = [Reply(429, {"message": "429 Too Many Requests"}, {"Retry-After": "3600"})]
    fetched = providers.fetch(Target("gitlab", "grp/app", job_id=31))
    assert not fetched.jobs and "rate limit" in fetched.problems[0]
