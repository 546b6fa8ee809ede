"""The evaluation gate: a candidate adapter is promoted only if no gated metric drops by more than
the margin. Pure functions over {suite: {metric: value}} dicts, so the decision is easy to test."""
from __future__ import annotations

from dataclasses import dataclass, field

# Counts and timings are reported next to scores but say nothing about quality.
NOT_SCORES = ("n", "examples", "count", "seconds", "latency", "tokens", "skipped")


@dataclass
class GateDecision:
    promote: bool
    reason: str
    drops: list[dict] = field(default_factory=list)  # {"suite","metric","current","candidate","drop"}
    compared: int = 0

    def to_json(self) -> dict:
        return {"promote": self.promote, "reason": self.reason, "drops": self.drops, "compared": self.compared}


def is_score(name: str, value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not any(name == w or name.endswith(f"_{w}") or name.startswith(f"{w}_") for w in NOT_SCORES)


def decide(current: dict[str, dict], candidate: dict[str, dict], margin: float,
           gated: list[str] | None = None) -> GateDecision:
    """Compare suite by suite. `gated` limits the metrics ("suite.metric" or bare "metric");
    empty means every score both sides report. A candidate missing a gated score is refused."""
    drops, compared = [], 0
    for suite, cur_metrics in current.items():
        cand_metrics = candidate.get(suite) or {}
        for metric, cur in cur_metrics.items():
            if not is_score(metric, cur) or not _selected(suite, metric, gated):
                continue
            cand = cand_metrics.get(metric)
            if not is_score(metric, cand):
                drops.append({"suite": suite, "metric": metric, "current": cur, "candidate": None, "drop": None})
                continue
            compared += 1
            if cur - cand > margin + 1e-12:
                drops.append({"suite": suite, "metric": metric, "current": round(cur, 4),
                              "candidate": round(cand, 4), "drop": round(cur - cand, 4)})
    if drops:
        worst = ", ".join(f"{d['suite']}.{d['metric']} {d['current']} -> {d['candidate']}" for d in drops[:3])
        return GateDecision(False, f"rejected: {len(drops)} gated metric(s) dropped by more than "
                                   f"{margin}: {worst}", drops, compared)
    if compared == 0:
        return GateDecision(False, "rejected: no gated metric could be compared", [], 0)
    if not any(v > 0 for suite, metrics in candidate.items() for m, v in metrics.items()
               if is_score(m, v) and _selected(suite, m, gated)):
        # Ties at zero say nothing about the candidate: keep what is serving.
        return GateDecision(False, "rejected: the candidate scores zero on every gated metric", [], compared)
    return GateDecision(True, f"promoted: no gated metric dropped by more than {margin} "
                              f"({compared} compared)", [], compared)


def _selected(suite: str, metric: str, gated: list[str] | None) -> bool:
    return not gated or metric in gated or f"{suite}.{metric}" in gated
