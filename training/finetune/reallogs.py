"""Training rows made from real failing CI logs (the dev half of ../shared/datasets).

The repository ships only the answers (`training/data/real_answers.jsonl`: a dataset row id, the
root cause and fix an engineer wrote for it, and the repository-grouped fold). The prompts are
rebuilt here from the datasets exactly as the engine builds them: the log is read, excerpted and
redacted by `retrieval.logs.excerpt.extract`, then cut by `training.inference.prompt.focus_log` when the
prompt is made. So the shipped rows stay small, and a change to excerpting reaches them on the
next rebuild.

    cibot dev reallogs worksheet --out sheet.jsonl     # what an answer writer reads
    cibot dev reallogs build                           # answers + datasets -> training/data/real.jsonl

Folds group by repository (a stable hash of its name), so no repository sits on both sides of a
split: fold 0 is held out from the shipped adapter and scores it.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from retrieval.errors import InputError
from retrieval.logs.excerpt import extract
from retrieval.logs.grounding import ungrounded as _ungrounded
from retrieval.logs.redact import redact
from training.inference.prompt import focus_log, format_answer

DATA = Path(__file__).resolve().parents[1] / "data"
ANSWERS = DATA / "real_answers.jsonl"
ROWS = DATA / "real.jsonl"
FOLDS = 5
HELD_OUT_FOLD = 0
SOURCES = ("logchunks", "cidiff", "bugswarm")
# A repository with many logs would teach its own habits: at most this many rows each.
PER_REPOSITORY = 10
PATCH_CHARS = 2500


@dataclass
class RealLog:
    """One dataset row, read and excerpted as the engine would."""

    key: str            # "<source>:<id>"
    source: str
    repository: str
    fold: int
    path: Path
    excerpt: str        # the engine's redacted 30-line excerpt
    category: str
    step: str | None
    label: str          # the labelled chunk / error spans / failure category
    patch: str = ""     # BugSwarm's fix diff, cut
    pass_log: Path | None = None


def fold_of(repository: str) -> int:
    """A stable fold for a repository: the same on every machine and Python run."""
    digest = hashlib.sha256(repository.lower().encode()).digest()
    return digest[0] % FOLDS


def _repository(source: str, row: dict) -> str:
    if source == "cidiff":
        # CiDiff ids are "breakages/<project>_<n>": the project is the repository.
        return re.sub(r"_\d+$", "", row["id"].split("/")[-1])
    return str(row.get("repository") or row["id"])


def _label(source: str, row: dict) -> str:
    if source == "logchunks":
        return row.get("chunk") or ""
    if source == "cidiff":
        return "\n".join(s["text"] for s in row.get("spans", []) if s.get("kind") == "error")
    return f"failure category: {row.get('failure_category')}"


def datasets_dir(given: Path | None = None) -> Path:
    """The shared datasets folder: `given`, else $CIBOT_DATASETS, else ../shared/datasets beside
    the repository. The one place that decides it (the CLI, the retrain gate, benches, tests)."""
    if given is not None:
        return Path(given)
    if os.environ.get("CIBOT_DATASETS"):
        return Path(os.environ["CIBOT_DATASETS"])
    return Path(__file__).resolve().parents[3] / "shared" / "datasets"


def sample_lines(datasets: Path, logs: int, per_log: int, seed: int = 3) -> list[str]:
    """Ordinary lines of real CI logs: `per_log` random lines from each of `logs` random logs of
    all three sets (seeded), for checks that must leave everyday lines alone (redaction)."""
    import random

    rng = random.Random(seed)
    paths = [Path(datasets) / row["log"] for source in SOURCES for row in read_rows(datasets, source)]
    lines: list[str] = []
    for path in rng.sample(paths, min(logs, len(paths))):
        text = gzip.open(path).read().decode("utf-8", "replace").splitlines()
        lines += rng.sample(text, min(len(text), per_log))
    return lines


def read_rows(datasets: Path, source: str) -> list[dict]:
    path = Path(datasets) / f"{source}.jsonl"
    if not path.is_file():
        raise InputError(f"{path} not found", hint="set CIBOT_DATASETS to the shared datasets folder")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def iter_logs(datasets: Path, sources: tuple[str, ...] = SOURCES) -> Iterator[RealLog]:
    """Every dataset row of `sources`, excerpted as the engine does (slow: reads each log)."""

    datasets = Path(datasets)
    for source in sources:
        for row in read_rows(datasets, source):
            path = datasets / row["log"]
            pass_log = datasets / row["pass_log"] if row.get("pass_log") else None
            excerpt = extract(path, max_lines=30, pass_log=pass_log)
            patch = ""
            if row.get("fix_patch") and (datasets / row["fix_patch"]).is_file():
                patch = redact((datasets / row["fix_patch"]).read_text(errors="replace")[:PATCH_CHARS]).text
            repo = _repository(source, row)
            yield RealLog(
                key=f"{source}:{row['id']}", source=source, repository=repo, fold=fold_of(repo), path=path,
                excerpt=excerpt.text(), category=excerpt.category, step=excerpt.step,
                label=redact(_label(source, row)).text, patch=patch, pass_log=pass_log,
            )


def log_text(path: Path) -> str:
    raw = gzip.open(path).read() if str(path).endswith(".gz") else Path(path).read_bytes()
    return raw.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")


def worksheet(datasets: Path, out: Path, sources: tuple[str, ...] = SOURCES) -> int:
    """One JSON line per candidate log: what an answer writer needs to read, and nothing else."""
    count = 0
    with Path(out).open("w") as fh:
        for item in iter_logs(datasets, sources):
            shown = focus_log(item.excerpt)
            fh.write(json.dumps({
                "key": item.key, "repository": item.repository, "fold": item.fold,
                "category": item.category, "step": item.step, "prompt_log": shown,
                "label": item.label[:3000], "patch": item.patch,
            }, ensure_ascii=False) + "\n")
            count += 1
    return count


def load_answers(path: Path = ANSWERS) -> dict[str, dict]:
    """key -> answer row; a malformed line is an InputError naming its line number."""
    answers: dict[str, dict] = {}
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{n}: not JSON ({exc.msg})") from None
        fields = ("key",) if isinstance(row, dict) and row.get("skip") is True else ("key", "root_cause", "fix")
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) and row[k].strip() for k in fields):
            raise InputError(f"{path}:{n}: needs string fields key, root_cause and fix (or skip: true)")
        answers[row["key"]] = row
    return answers


def ungrounded(answer: str, log: str, patch: str = "") -> list[str]:
    """Identifiers the answer names that neither the log, the fix patch nor the standard tools do."""
    return _ungrounded(answer, log + "\n" + patch)


def build(datasets: Path, answers: Path = ANSWERS, out: Path = ROWS) -> dict:
    """Rebuild the training rows: every answer joined with its log's fresh excerpt.

    A row whose answer names identifiers found nowhere in its log or patch is dropped and counted,
    so an answer written against another excerpt version cannot teach invention."""
    wanted = load_answers(answers)
    sources = tuple(s for s in SOURCES if any(k.startswith(s + ":") for k in wanted))
    kept, dropped = [], []
    for item in iter_logs(datasets, sources):
        ans = wanted.get(item.key)
        if ans is None or ans.get("skip"):
            continue
        text = log_text(item.path)
        bad = ungrounded(ans["root_cause"] + " " + ans["fix"], text, item.patch)
        if bad:
            dropped.append({"key": item.key, "ungrounded": bad})
            continue
        kept.append({
            "input": item.excerpt,
            "output": format_answer(redact(ans["root_cause"]).text, redact(ans["fix"]).text),
            "meta": {"source": item.source, "key": item.key, "repository": item.repository,
                     "fold": item.fold, "category": item.category},
        })
    with Path(out).open("w") as fh:
        for row in kept:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"rows": len(kept), "dropped": dropped, "answers": len(wanted), "out": str(out)}


def split(rows_path: Path = ROWS, held_out: int = HELD_OUT_FOLD) -> tuple[list[dict], list[dict]]:
    """(train, held-out) rows of the shipped real-log file, grouped by repository fold."""
    rows = [json.loads(line) for line in Path(rows_path).read_text().splitlines() if line.strip()]
    train = [r for r in rows if r["meta"]["fold"] != held_out]
    return train, [r for r in rows if r["meta"]["fold"] == held_out]
