"""CI config as context: recognising the file, picking the failing step, redacting, checking."""
from __future__ import annotations

from pathlib import Path

import pytest
from engine_fakes import FakeGenerator, FakeRetriever

from bot.engine import ciconfig as C
from bot.engine.answer import AnswerRequest
from bot.engine.pipeline import AnswerEngine

WORKFLOW = """\
name: CI
on: [push, pull_request]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm run lint
  test:
    runs-on: ubuntu-latest
    env:
      STRIPE_KEY: sk_live_4eC39HqLyjWDarjtT1zdp7dc
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - name: Install dependencies
        working-directory: frontend
        run: npm ci
      - name: Run unit tests
        working-directory: frontend
        run: npm test
"""
# Alone, this log only says a package.json is missing: a missing file? a bad checkout? wrong folder?
WORKFLOW_LOG = """\
##[group]Run npm ci
npm ci
shell: /usr/bin/bash -e {0}
##[endgroup]
npm ERR! code ENOENT
npm ERR! syscall open
npm ERR! path /home/runner/work/shop/shop/frontend/package.json
npm ERR! errno -2
npm ERR! enoent ENOENT: no such file or directory, open '/home/runner/work/shop/shop/frontend/package.json'
npm ERR! enoent This is related to npm not being able to find a file.
##[error]Process completed with exit code 254.
"""
VAGUE = "Root Cause: npm could not open package.json.\nFix: make sure package.json exists."

GITLAB = """\
stages: [build, test]
variables:
  DB_PASSWORD: "hunter2-is-not-a-password"
build:
  stage: build
  image: node:20
  script:
    - npm ci
integration:
  stage: test
  image: python
  script:
    - pip install -r requirements.txt
    - pytest tests/integration
"""
JENKINS = """\
pipeline {
  agent any
  stages {
    stage('Build') {
      steps { sh 'mvn -B compile' }
    }
    stage('Deploy') {
      steps {
        dir('infra') {
          sh 'terraform apply -auto-approve'
        }
      }
    }
  }
}
"""


def test_the_five_ci_systems_are_recognised():
    assert C.load_config(WORKFLOW, ".github/workflows/ci.yml").kind == "github"
    assert C.load_config(GITLAB, ".gitlab-ci.yml").kind == "gitlab"
    assert C.load_config(JENKINS, "Jenkinsfile").kind == "jenkins"
    assert C.load_config("version: 2.1\njobs:\n  build:\n    docker:\n      - image: cimg/node:20.1\n"
                         "workflows:\n  main:\n    jobs: [build]\n", ".circleci/config.yml").kind == "circleci"
    assert C.load_config("language: python\nscript: pytest\n", ".travis.yml").kind == "travis"
    assert C.load_config(WORKFLOW, "ci.yml").kind == "github"  # by content when the name says nothing


def test_a_workflow_file_on_disk_is_named_from_its_github_folder(tmp_path):
    path = tmp_path / "repo" / ".github" / "workflows" / "ci.yml"
    path.parent.mkdir(parents=True)
    path.write_text(WORKFLOW)
    assert C.load_config(path).name == ".github/workflows/ci.yml"


def test_secrets_in_the_config_are_redacted_before_use():
    cfg = C.load_config(WORKFLOW, ".github/workflows/ci.yml")
    text = "\n".join(cfg.lines)
    assert "sk_live_4eC39HqLyjWDarjtT1zdp7dc" not in text and "[REDACTED" in text
    assert len(cfg.lines) == WORKFLOW.count("\n") + 1, "line numbers must survive redaction"


def test_the_step_matching_the_excerpts_step_name_is_selected_with_its_job_header():
    cfg = C.load_config(WORKFLOW, ".github/workflows/ci.yml")
    section = C.select(cfg, "Run unit tests", "npm ERR! Test failed")
    assert (section.job, section.step) == ("test", "Run unit tests")
    numbers = [ln.n for ln in section.lines]
    assert numbers[:3] == [21, 22, 23] and 9 in numbers and 8 not in numbers
    rendered = section.render(budget_chars=120)
    assert len(rendered) <= 120 and rendered.startswith("# .github/workflows/ci.yml\n21|")


def test_gitlab_job_is_picked_from_the_log_and_a_missing_database_service_is_found():
    cfg = C.load_config(GITLAB, ".gitlab-ci.yml")
    log = ["$ pytest tests/integration",
           'E   psycopg2.OperationalError: connection to server at "localhost", port 5432 failed: Connection refused']
    section = C.select(cfg, None, "\n".join(log))
    assert section.job == "integration"
    findings = C.check(cfg, section, log)
    assert findings[0].check == "missing-service" and "postgres" in findings[0].root_cause
    assert findings[0].line.n == 9  # the job's own line
    assert any(f.check == "unpinned-image" for f in findings)  # `image: python` has no tag


def test_jenkins_stage_is_selected_and_its_dir_is_checked():
    cfg = C.load_config(JENKINS, "Jenkinsfile")
    log = ["+ terraform apply -auto-approve", "/bin/sh: cd: infra: No such file or directory"]
    section = C.select(cfg, "Deploy", "\n".join(log))
    assert section.job == "Deploy"
    findings = C.check(cfg, section, log)
    assert findings and findings[0].check == "working-directory" and findings[0].line.n == 9


def test_a_pinned_image_with_no_version_trouble_yields_no_finding():
    cfg = C.load_config(GITLAB.replace("image: python", "image: python:3.12.4"), ".gitlab-ci.yml")
    section = C.select(cfg, None, "pytest tests/integration\nE AssertionError")
    assert C.check(cfg, section, ["E   AssertionError: assert 1 == 2"]) == []


def _engine(gen: FakeGenerator) -> AnswerEngine:
    return AnswerEngine(retriever=FakeRetriever([]), generator=gen)


def test_log_alone_is_ambiguous_but_the_workflow_shows_the_wrong_working_directory():
    alone = _engine(FakeGenerator().enqueue([VAGUE])).answer(AnswerRequest(log=WORKFLOW_LOG))
    assert "working-directory" not in alone.root_cause and not alone.config_evidence

    gen = FakeGenerator().enqueue([VAGUE])
    answer = _engine(gen).answer(AnswerRequest(log=WORKFLOW_LOG, ci_config=WORKFLOW,
                                               ci_config_name=".github/workflows/ci.yml"))
    assert "working-directory 'frontend'" in answer.root_cause
    assert ".github/workflows/ci.yml:19" in answer.root_cause
    cited = answer.to_json()["config_evidence"]
    assert {"file": ".github/workflows/ci.yml", "n": 19, "text": "        working-directory: frontend"} in cited
    assert "CI config:" in gen.prompt and "working-directory: frontend" in gen.prompt
    assert "sk_live_4eC39HqLyjWDarjtT1zdp7dc" not in gen.prompt


def test_a_config_path_is_read_from_disk_in_the_engine(tmp_path):
    path = tmp_path / ".gitlab-ci.yml"
    path.write_text(GITLAB)
    log = ('$ pytest tests/integration\n'
           'E   psycopg2.OperationalError: connection to server at "localhost", port 5432 failed: Connection refused')
    answer = _engine(FakeGenerator().enqueue(["gibberish"])).answer(AnswerRequest(log=log, ci_config=Path(path)))
    assert "postgres" in answer.root_cause and ".gitlab-ci.yml:9" in answer.root_cause


def test_an_unreadable_config_path_is_an_input_error(tmp_path):
    from retrieval.errors import InputError

    with pytest.raises(InputError):
        C.load_config(tmp_path / "missing.yml")


ANCHORED = """\
.defaults: &defaults
  image: ruby:3.3
  before_script:
    - bundle install
unit:
  <<: *defaults
  script:
    - bundle exec rspec
    - !reference [.defaults, before_script]
deploy:
  script: |
    echo "stage: deploy"
    ./deploy.sh --env production
"""


def test_yaml_blocks_come_from_the_parsed_document_not_from_indentation():
    """Anchors, merge keys, custom tags and block scalars whose text looks like keys: the jobs and
    steps are the document's, with their own line numbers."""
    cfg = C.load_config(ANCHORED, ".gitlab-ci.yml")
    jobs = {job.name: job for job in C._yaml_jobs(cfg)}
    assert set(jobs) == {"unit", "deploy"}  # .defaults is a template, not a job
    unit = jobs["unit"]
    assert (unit.first, unit.end) == (4, 9)  # the anchored defaults (lines 1-4) are not part of it
    assert [(s.first, s.end) for s in unit.steps] == [(7, 8), (8, 9)]
    assert jobs["deploy"].end == 13 and jobs["deploy"].steps == ()  # a block scalar is one script
    section = C.select(cfg, None, "Failure/Error: expect(user).to be_valid\nrspec ./spec/user_spec.rb:12")
    assert section.job == "unit" and section.lines[0].n == 8 and section.lines[0].text.strip() == "- bundle exec rspec"
    assert section.job_n == 5


def test_a_config_that_is_not_valid_yaml_stands_by_its_first_lines():
    cfg = C.load_config("jobs:\n  test: [unclosed\n    steps: {\n", ".github/workflows/ci.yml")
    section = C.select(cfg, "test", "error")
    assert section.job is None and [ln.n for ln in section.lines] == [1, 2, 3]
