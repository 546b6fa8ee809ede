"""Past incidents for the starter knowledge base, written as a DevOps team would file them.

Same failure types as the training corpus but another seed, so the knowledge base does not simply
contain the held-out examples. Inputs are short excerpts (10-30 lines), not whole logs.
"""
from __future__ import annotations

import re

from . import answers, logs
from .build import make_case
from .case import REGISTRY
from .vocab import TEAMS, Vocab

# Shipped files carry no credential-shaped strings, fake or not.
_TOKENS = re.compile(r"\b(ghp_[A-Za-z0-9]{36}|npm_[A-Za-z0-9]{36}|AKIA[A-Z0-9]{16}|xoxb-[0-9-]+-[A-Za-z0-9]+)")

_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+Z (00O )?|\[\d{4}-\d\d-\d\dT[\d:.]+Z\] )")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _pasted(line: str) -> str | None:
    """A line as a person pastes it from the CI web UI: no timestamps, colours or fold markers."""
    line = _ANSI.sub("", _STAMP.sub("", line))
    if line.startswith(("section_start:", "section_end:", "travis_fold:", "travis_time:", "##[group]", "##[endgroup]")):
        return None
    return line

# Slack channel ids of the teams that keep private incidents (scopes match channel ids).
TEAM_CHANNELS = {team: f"C0{team.upper()[:4]}{n:04d}" for n, team in enumerate(TEAMS, 1)}

_NOTES = [
    "", "", "Took {m} minutes to find; the first red herring was the deprecation warnings above it.",
    "Reverted the change first to unblock main, then fixed forward.", "Seen twice this quarter.",
    "Postmortem: add a check earlier in the pipeline so this fails fast.",
]


_AFTER_FAILURE = ("Post job cleanup.", "Cleaning up project directory", "[Pipeline] }", "Exited with code", "The command \"")


def _excerpt(v: Vocab, lines: list[str], key: str) -> str:
    """10-30 lines around the first line naming the key, stopping where the job's cleanup starts."""
    hit = next((i for i, line in enumerate(lines) if key in line), len(lines) - 1)
    stop = next((i for i in range(hit + 1, len(lines)) if lines[i].startswith(_AFTER_FAILURE)), len(lines))
    stop = min(stop, hit + v.int(3, 12))
    start = max(0, stop - v.int(10, 30))
    return _TOKENS.sub("[REDACTED]", "\n".join(lines[start:stop]).strip("\n"))


def generate(seed: int = 1009, per_type: int = 5) -> list[dict]:
    rows: list[dict] = []
    seen: set[str] = set()
    number = 1000
    for name in sorted(REGISTRY):
        for i in range(per_type):
            v = Vocab(f"incident:{seed}:{name}:{i}")
            case, p = make_case(REGISTRY[name], v)
            number += v.int(1, 9)
            cause, generic_fix = answers.pick_answer(v, case)
            fix = answers._sentence(v.pick(case.runbook)) if v.chance(0.6) else generic_fix
            note = v.pick(_NOTES).format(m=v.int(10, 120))
            log_lines = [x for x in map(_pasted, logs.render(v, case, p, noisy=0.3).replace("\r\n", "\n").split("\n")) if x is not None]
            excerpt = _excerpt(v, log_lines, case.key_ids[0])
            row = {
                "input": excerpt,
                "output": answers.render(cause, fix, "text") + (f" {note}" if note else ""),
                "title": f"{case.summary} ({p.repo})",
                "id": f"INC-{number}",
                "url": f"https://ci.example.com/incidents/INC-{number}",
                "tags": [case.category, case.ecosystem, case.type],
                "type": case.type,
                "key_ids": [k for k in case.key_ids if k in excerpt],
            }
            if v.chance(0.1):  # a few team-private incidents (Slack channel ids) exercise channel scoping
                row["channel"] = TEAM_CHANNELS[v.team()]
            if excerpt in seen:  # the knowledge base keys incidents by content: no twins
                continue
            seen.add(excerpt)
            rows.append(row)
    return rows
