"""Retrieved-context snippets (runbook sections, past incidents) attached to some examples.

A relevant snippet carries a team-specific fix, and the reference answer uses that fix, so the model
learns to prefer what the retrieved knowledge says over its generic advice.
"""
from __future__ import annotations

from .case import Case
from .vocab import Vocab


def _symptom(case: Case) -> str:
    key = case.key_ids[0]
    for line in case.lines:
        if key in line:
            return line.strip()[:160]
    return case.summary


def runbook_snippet(v: Vocab, case: Case, fix: str) -> dict:
    eco = case.ecosystem
    title = v.pick([f"Runbook: {case.summary}", f"{eco} runbook › {case.category} failures",
                    f"CI troubleshooting › {eco} › {case.summary}", f"runbooks/{eco}.md › {case.category}"])
    text = v.pick([
        f"## Symptom\n`{_symptom(case)}`\n\n## Fix\n{fix}",
        f"When {case.step} fails with `{_symptom(case)}`: {fix}",
        f"### {case.summary}\nSeen in the {case.step} step.\nResolution: {fix}",
    ])
    return {"title": title, "text": text}


def incident_snippet(v: Vocab, case: Case, cause: str, fix: str) -> dict:
    inc = v.int(1000, 9999)
    return {"title": f"INC-{inc}: {case.summary}",
            "text": f"{_symptom(case)}\nRoot Cause: {cause} Fix: {fix}"}


def distractor(v: Vocab, other: Case) -> dict:
    """An irrelevant but plausible passage: retrieval is not always right."""
    return {"title": f"Runbook: {other.summary}", "text": f"## Fix\n{v.pick(other.runbook)}"}
