"""The failure categories cibot names. Ids are stable: stored answers, metrics and training data
use them. Documented for people in TAXONOMY.md."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    id: str
    description: str


CATEGORIES: tuple[Category, ...] = (
    Category("test", "A test or assertion failed (unit, integration, end-to-end)."),
    Category("compilation", "Source did not compile, link or type-check."),
    Category("dependency", "A package, module or artifact could not be resolved, downloaded or installed."),
    Category("lint", "A linter, formatter, style or static-analysis check (checkstyle, eslint, flake8) failed."),
    Category("docs", "Building or checking documentation (javadoc, sphinx, links, spelling) failed."),
    Category("container", "Building, pulling or running a container image failed (docker, buildkit)."),
    Category("infrastructure", "The CI machinery or network failed: clone, runner, DNS, HTTP 5xx, service down."),
    Category("timeout", "A job, step or test ran out of time or stopped producing output."),
    Category("resources", "The job ran out of memory or disk, or was killed for its resource use."),
    Category("auth", "Credentials, permissions or secrets were missing, wrong or expired."),
    Category("configuration", "The CI, build or tool configuration is invalid (bad YAML, unknown option, missing file)."),
    Category("flaky", "The failure went away on retry, or the log shows retry evidence of nondeterminism."),
    Category("unknown", "No failure could be classified from the log."),
)
IDS: tuple[str, ...] = tuple(c.id for c in CATEGORIES)
