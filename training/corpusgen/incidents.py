"""Past incidents for the starter knowledge base, written as a DevOps team would file them.

Same failure types as the training corpus but another seed, so the knowledge base does not simply
contain the held-out examples. Inputs are short excerpts (10-30 lines), not whole logs.
"""
from __future__ import annotations

import re

from . import answers, logs
from .build import make_case
from .case import REGISTRY
from .vocab import Vocab

# Shipped files carry no credential-shaped strings, fake or not.
_TOKENS = re.compile(r"\b(ghp_[A-Za-z0-9]{36}|npm_[A-Za-z0-9]{36}|AKIA[A-Z0-9]{16}|xoxb-[0-9-]+-[A-Za-z0-9]+)")

_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z ")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _pasted(line: str) -> str | None:
    """A line as a person pastes it from the CI web UI: no timestamps, colours or fold markers."""
    line = _ANSI.sub("", _STAMP.sub("", line))
    if line.startswith(("section_start:", "section_end:", "travis_fold:", "travis_time:", "##[group]", "##[endgroup]")):
        return None
    return line

_NOTES = [
    "", "", "Took {m} minutes to find; the first red herring was the deprecation warnings above it.",
    "Reverted the change first to unblock main, then fixed forward.", "Seen twice this quarter.",
    "Postmortem: add a check earlier in the pipeline so this fails fast.",
]


_AFTER_FAILURE = ("Post job cleanup.", "Cleaning up project directory", "[Pipeline] }", "Exited with code", "The command \"")


def _excerpt(v: Vocab, lines: list[str], key: str) -> str:
    """A window around the first line naming the key, ending where the job's cleanup starts."""
    end = next((i for i, line in enumerate(lines) if line.startswith(_AFTER_FAILURE) and i > 0), len(lines))
    hit = next((i for i, line in enumerate(lines) if key in line), end - 1)
    before = v.int(3, 12)
    total = v.int(before + 4, 30)
    start = max(0, hit - before)
    chunk = lines[start:min(start + total, max(end, hit + 1))]
    if len(chunk) < 10:  # short tool outputs: pad with the lines that preceded them
        chunk = lines[max(0, start - (10 - len(chunk))):start + total]
    return _TOKENS.sub("[REDACTED]", "\n".join(chunk).strip("\n"))


def generate(seed: int = 1009, per_type: int = 5) -> list[dict]:
    rows = []
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
                "url": f"https://ci.example.com/incidents/INC-{number}",
                "tags": [case.category, case.ecosystem, case.type],
                "type": case.type,
                "key_ids": [k for k in case.key_ids if k in excerpt],
            }
            if v.chance(0.1):  # a few team-private incidents exercise channel scoping
                row["channel"] = f"#team-{v.team()}"
            rows.append(row)
    return rows
