"""Turn failure types into corpus rows and split them into train and held-out sets.

Every instance gets its own seed string (`{seed}:{type}:{index}`), so any row can be regenerated
alone and the whole corpus is identical for a given seed.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import answers, context, logs
from .case import REGISTRY, Case, FailureType, Project
from .failures import REGISTRY as _registered  # noqa: F401  (imports register the failure types)
from .seeds import SEED_ROWS
from .vocab import Vocab

QUESTION_TEMPLATES = [
    "Our {system} job fails at the \"{step}\" step with:\n{snippet}\nWhat is wrong and how do we fix it?",
    "Why does `{command}` fail with `{headline}`?",
    "CI is red on {repo}. The log ends with:\n{snippet}\nAny idea?",
    "How do I fix this in the {step} step?\n```\n{snippet}\n```",
    "<@U0CIBOT> {repo} main is red since this morning, can you take a look?\n```\n{long_snippet}\n```",
    "hey, {step} keeps failing on my PR :(\n```\n{long_snippet}\n```\nis it me or CI?",
]


@dataclass(frozen=True)
class Mix:
    json_rate: float = 0.15
    context_rate: float = 0.30
    distractor_rate: float = 0.1  # share of context rows whose passage is irrelevant
    second_passage_rate: float = 0.3  # relevant context rows that also carry an irrelevant passage
    question_rate: float = 0.05
    token_rate: float = 0.04  # logs that carry a fake credential, to exercise redaction
    heldout_every: int = 10  # every Nth instance of each type is held out


def make_case(ftype: FailureType, v: Vocab, system: str | None = None) -> tuple[Case, Project]:
    if system not in ftype.systems:
        # GitHub Actions dominates today's logs; older systems still show up in the datasets.
        weighted = [s for s in ("github",) * 9 + ("gitlab",) * 4 + ("jenkins",) * 3 + ("travis", "travis", "circleci", "circleci")
                    if s in ftype.systems]
        system = v.pick(weighted)
    p = Project(repo=v.repo(), org=v.org(), system=system)
    return ftype.render(v, p), p


def _plant_token(v: Vocab, case: Case, p: Project) -> None:
    tok = v.fake_token()
    line = v.pick([
        f"+ git remote set-url origin https://x-access-token:{tok}@github.com/{p.org}/{p.repo}.git",
        f"+ echo \"//registry.npmjs.org/:_authToken={tok}\" > .npmrc",
        f"+ export API_TOKEN={tok}",
        f"Authorization: Bearer {tok}",
        f"+ curl -H \"Authorization: token {tok}\" https://api.github.com/repos/{p.org}/{p.repo}",
    ])
    case.lines.insert(0, line)


def _question(v: Vocab, case: Case, p: Project) -> str:
    key = case.key_ids[0]
    hits = [i for i, line in enumerate(case.lines) if key in line] or [len(case.lines) - 1]
    i = hits[0]
    snippet = "\n".join(case.lines[max(0, i - 1): i + 3])
    long_snippet = "\n".join(case.lines[max(0, i - v.int(2, 8)): i + v.int(3, 8)])  # what people paste into Slack
    return v.pick(QUESTION_TEMPLATES).format(system=logs.SYSTEM_TITLES[p.system], step=case.step, snippet=snippet, long_snippet=long_snippet,
                                             command=case.command, headline=case.lines[i].strip()[:200], repo=p.repo)


def _context(v: Vocab, case: Case, p: Project, mix: Mix, others: list[str]) -> tuple[list[dict] | None, str | None]:
    """(retrieved passages, the fix they prescribe) for one row; (None, None) when it has none."""
    if not v.chance(mix.context_rate):
        return None, None

    def unrelated() -> dict:
        other = REGISTRY[v.pick([t for t in others if t != case.type])]
        other_case, _ = make_case(other, Vocab(f"{v.rng.random()}"), p.system)
        return context.distractor(v, other_case)

    if v.chance(mix.distractor_rate):
        return [unrelated()], None
    fix = v.pick(case.runbook)
    cause, _ = answers.pick_answer(v, case)
    passages = [context.runbook_snippet(v, case, fix) if v.chance(0.6) else context.incident_snippet(v, case, cause, fix)]
    if v.chance(mix.second_passage_rate):  # retrieval returns top-k: the model must pick the right one
        passages.insert(v.int(0, 1), unrelated())
    return passages, fix


def make_row(ftype: FailureType, index: int, seed: int, mix: Mix, others: list[str]) -> dict:
    v = Vocab(f"{seed}:{ftype.type_id}:{index}")
    case, p = make_case(ftype, v)
    if v.chance(mix.token_rate):
        _plant_token(v, case, p)
    fmt = "json" if v.chance(mix.json_rate) else "text"
    text = _question(v, case, p) if v.chance(mix.question_rate) else logs.render(v, case, p, noisy=v.rng.random())
    passages, fix_override = _context(v, case, p, mix, others)
    root_cause, fix = answers.pick_answer(v, case, fix_override)
    row = {"input": text, "output": answers.render(root_cause, fix, fmt), "type": case.type, "category": case.category,
           "ecosystem": case.ecosystem, "key_ids": [k for k in case.key_ids if k in text], "format": fmt}
    if passages:
        row["context"] = passages
    return row


def generate(seed: int = 7, per_type: int = 25, mix: Mix = Mix(), types: list[str] | None = None) -> tuple[list[dict], list[dict]]:
    """Return (train, heldout). Held-out rows are whole generated instances never seen in train."""
    names = sorted(types or REGISTRY)
    train: list[dict] = [dict(r) for r in SEED_ROWS]
    heldout: list[dict] = []
    seen = {r["input"] for r in train}
    for name in names:
        for i in range(per_type):
            row = make_row(REGISTRY[name], i, seed, mix, sorted(REGISTRY))
            if row["input"] in seen:  # identical inputs never straddle the split
                continue
            seen.add(row["input"])
            (heldout if i % mix.heldout_every == mix.heldout_every // 2 - 1 else train).append(row)
    return train, heldout
