"""Forwarded CI alerts, in the shapes the CI apps post them, are answered from the linked job's log.

The test set: each alert below is how that integration posts a failure into Slack (text, legacy
attachments or Block Kit), linking a job, a run or a pipeline. With the provider configured, every
one of them must be answered from the fetched log (its evidence holds the failing line), not from the
alert's words."""
from __future__ import annotations

import json

import pytest
from test_ci_webhooks import FAILING, JOB, REPO, RUN, TEST_LOG, bot, seed_github  # noqa: F401

GITLAB_PROJECT, PIPELINE, GL_JOB = "acme/web", 31, 378


def _alerts(gitlab: str, jenkins: str) -> dict[str, dict]:
    gh_run = f"https://github.com/{REPO}/actions/runs/{RUN}"
    gh_job = f"{gh_run}/job/{JOB}"
    gl_pipe = f"{gitlab}/{GITLAB_PROJECT}/-/pipelines/{PIPELINE}"
    gl_job = f"{gitlab}/{GITLAB_PROJECT}/-/jobs/{GL_JOB}"
    return {
        # GitHub app for Slack (/github subscribe owner/repo workflows): an attachment per run.
        "github-app-run": {"bot_profile": {"name": "GitHub"}, "text": "", "attachments": [{
            "color": "#cb2431", "title": f"test workflow run failed on master", "title_link": gh_run,
            "text": "octo-org/octo-repo · 1 failed job", "footer": "GitHub Actions"}]},
        # The same app, in Block Kit with a "View job" button.
        "github-app-blocks": {"bot_profile": {"name": "GitHub"}, "text": "Workflow failed", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f":x: *linters* failed in <{gh_run}|test #812>"}},
            {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "View job"},
                                              "url": gh_job}]}]},
        # slackapi/slack-github-action with a payload people write themselves.
        "github-action-webhook": {"bot_profile": {"name": "GitHub Actions Notifier"}, "username": "github-actions",
                                  "text": f":red_circle: Build failed on master: <{gh_job}|linters>"},
        # GitLab for Slack app / Slack notifications integration: pipeline failed.
        "gitlab-pipeline": {"bot_profile": {"name": "GitLab"}, "text": "", "attachments": [{
            "color": "#e01e5a", "fallback": "Pipeline failed",
            "text": f"<{gitlab}/{GITLAB_PROJECT}|acme/web>: Pipeline <{gl_pipe}|#{PIPELINE}> of branch `main` "
                    f"by Ada (ada) has failed in 02:11",
            "fields": [{"title": "Failed job", "value": f"<{gl_job}|test-build>", "short": True}]}]},
        # GitLab job-failure notification that links only the job.
        "gitlab-job": {"bot_profile": {"name": "GitLab"},
                       "text": f"Job <{gl_job}|test-build> failed in pipeline #{PIPELINE} of acme/web (main)"},
        # Jenkins Slack plugin (slackSend in a Jenkinsfile's post { failure { } }).
        "jenkins-plugin": {"bot_profile": {"name": "jenkins"}, "text": "", "attachments": [{
            "color": "danger", "text": f"Build Failure - team » app #42 (<{jenkins}/job/team/job/app/42/|Open>)"}]},
        # Jenkins Slack plugin default message, plain text.
        "jenkins-text": {"bot_profile": {"name": "Jenkins CI"},
                         "text": f"team/app - #42 Failure after 3 min 2 sec (<{jenkins}/job/team/job/app/42/|Open>)"},
    }


EXPECT = {"github-app-run": "routes.ts", "github-app-blocks": "routes.ts", "github-action-webhook": "routes.ts",
          "gitlab-pipeline": "cart.test.ts", "gitlab-job": "cart.test.ts", "jenkins-plugin": "Dockerfile.ci",
          "jenkins-text": "Dockerfile.ci"}


@pytest.mark.parametrize("name", list(EXPECT))
def test_forwarded_alert_is_answered_from_the_linked_log(bot, ci_api, name):  # noqa: F811
    seed_github(ci_api)
    ci_api.add_gitlab_pipeline(GITLAB_PROJECT, PIPELINE, jobs=[(GL_JOB, "test-build", "failed", TEST_LOG)])
    ci_api.add_jenkins_build("team/app", 42, "FAILURE",
                             b"Step 3/9 : COPY Dockerfile.ci /build/\nCOPY failed: file not found in build context: "
                             b"stat Dockerfile.ci: file does not exist\nERROR: script returned exit code 1\nFinished: FAILURE\n")
    alert = _alerts(ci_api.gitlab_url, ci_api.jenkins_url)[name]
    bot.event({"type": "message", "channel": "CALERTS", "ts": "1700000002.000200", "bot_id": "BCI", **alert})
    (call,) = bot.answered(1, timeout=20)
    text = json.dumps(call.params)
    assert EXPECT[name] in text, name
    fetched = [s.path for s in ci_api.seen if not s.path.endswith(("/api/json", "/crumbIssuer/api/json"))]
    assert fetched, "nothing was fetched"
