"""What a failure type produces: the failing step's output plus the identifiers and the answer.

A failure type is a small function `fn(v: Vocab, p: Project) -> Case`, registered with
`@failure(type_id, category, ecosystem)`. The log renderer (logs.py) wraps the case's step in a
whole CI job; the builder (build.py) turns it into corpus rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .vocab import Vocab

CATEGORIES = ("test", "compilation", "dependency", "lint", "docs", "container", "infrastructure", "timeout",
              "resources", "auth", "configuration", "flaky", "unknown")

CI_ROOTS = {
    "github": "/home/runner/work/{repo}/{repo}",
    "gitlab": "/builds/{org}/{repo}",
    "jenkins": "/var/lib/jenkins/workspace/{repo}_main",
    "travis": "/home/travis/build/{org}/{repo}",
    "circleci": "/home/circleci/project",
}


@dataclass(frozen=True)
class Project:
    repo: str
    org: str
    system: str  # github | gitlab | jenkins | travis | circleci

    @property
    def root(self) -> str:
        return CI_ROOTS[self.system].format(repo=self.repo, org=self.org)


@dataclass
class Case:
    step: str  # the failing step's display name
    command: str  # the shell command the step ran
    lines: list[str]  # the tool's output for that step
    key_ids: list[str]  # identifiers a correct root cause names; each occurs in `lines`
    causes: list[str]  # alternative phrasings of the root cause (each one sentence)
    fixes: list[str]  # alternative phrasings of the generic fix
    runbook: list[str]  # team-specific fixes a runbook or past incident would prescribe
    summary: str  # short title, as an incident would be named
    setup: str = "none"  # which install noise precedes the failing step (see logs.SETUPS)
    exit_code: int = 1
    image: str | None = None  # base image the failing build uses, when there is one
    type: str = ""
    category: str = ""
    ecosystem: str = ""


@dataclass(frozen=True)
class FailureType:
    type_id: str
    category: str
    ecosystem: str
    make: Callable[[Vocab, Project], Case]
    systems: tuple[str, ...] = ("github", "gitlab", "jenkins", "travis", "circleci")  # where it can happen

    def render(self, v: Vocab, p: Project) -> Case:
        case = self.make(v, p)
        case.type, case.category, case.ecosystem = self.type_id, self.category, self.ecosystem
        return case


REGISTRY: dict[str, FailureType] = {}


def failure(type_id: str, category: str, ecosystem: str, systems: tuple[str, ...] | None = None):
    """Register a failure type. Type ids are unique; categories come from CATEGORIES; `systems`
    limits the CI systems whose logs can show it (a GitHub-only error never appears in a Travis log)."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r} for {type_id}")

    def register(fn: Callable[[Vocab, Project], Case]):
        if type_id in REGISTRY:
            raise ValueError(f"duplicate failure type {type_id}")
        extra = {"systems": systems} if systems else {}
        REGISTRY[type_id] = FailureType(type_id, category, ecosystem, fn, **extra)
        return fn

    return register
