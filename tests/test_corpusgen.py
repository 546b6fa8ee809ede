"""The synthetic corpus generator and the data it ships: determinism, coverage, row contract."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from training.corpusgen import build, incidents
from training.corpusgen.case import CATEGORIES, REGISTRY
from training.corpusgen.demo import DEMOS
from training.corpusgen.seeds import SEED_ROWS

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "training" / "data"
ANSWER = re.compile(r"^Root Cause: (?P<cause>.+?) Fix: (?P<fix>.+)$", re.S)
FIELDS = {"input", "output", "type", "category", "ecosystem", "key_ids", "format"}


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def small():
    return build.generate(seed=11, per_type=3, mix=build.Mix(heldout_every=3))


def _check_row(row: dict) -> None:
    assert FIELDS <= row.keys(), row.keys() - FIELDS
    assert row["category"] in CATEGORIES
    assert row["format"] in ("text", "json")
    if row["format"] == "json":
        obj = json.loads(row["output"])
        assert set(obj) == {"root_cause", "fix"} and all(obj.values())
        cause = obj["root_cause"]
    else:
        m = ANSWER.match(row["output"])
        assert m, row["output"]
        cause = m["cause"]
    assert row["key_ids"], f"{row['type']} has no key identifiers"
    for key in row["key_ids"]:
        assert key in row["input"], f"{row['type']}: {key!r} not in the input"
        assert key in cause or key in row["output"], f"{row['type']}: {key!r} not named in the answer"
    for ctx in row.get("context", []):
        assert ctx["title"] and ctx["text"]


def test_generation_is_deterministic_for_a_seed():
    assert build.generate(seed=3, per_type=2) == build.generate(seed=3, per_type=2)


def test_another_seed_gives_other_examples():
    a, _ = build.generate(seed=3, per_type=2)
    b, _ = build.generate(seed=4, per_type=2)
    assert {r["input"] for r in a[2:]}.isdisjoint({r["input"] for r in b[2:]})


def test_at_least_forty_types_over_every_core_category():
    assert len(REGISTRY) >= 40
    cats = {t.category for t in REGISTRY.values()}
    assert set(CATEGORIES) - {"unknown"} <= cats


def test_every_generated_row_keeps_the_contract(small):
    train, heldout = small
    for row in train + heldout:
        _check_row(row)


def test_every_type_yields_rows(small):
    train, heldout = small
    assert {r["type"] for r in train + heldout} == set(REGISTRY)


def test_split_never_shares_an_input(small):
    train, heldout = small
    assert heldout
    assert not {r["input"] for r in train} & {r["input"] for r in heldout}


def test_github_only_failures_never_appear_in_other_ci_logs(small):
    train, heldout = small
    for row in train + heldout:
        if row["type"] in ("missing_secret_input", "github_token_permissions", "action_version_not_found"):
            assert "travis_fold" not in row["input"] and "[Pipeline]" not in row["input"]


def test_answers_stay_short(small):
    train, _ = small
    long = [r["output"] for r in train if len(r["output"].split()) > 55]
    assert not long, long[:2]


def test_fake_tokens_are_planted_for_redaction_but_look_fake():
    train, _ = build.generate(seed=7, per_type=12)
    tokens = [m for r in train for m in re.findall(r"ghp_[A-Za-z0-9]{36}|npm_[A-Za-z0-9]{36}|AKIA[A-Z0-9]{16}", r["input"])]
    assert tokens
    assert not any(re.search(r"ghp_[A-Za-z0-9]{36}", r["output"]) for r in train)


def test_relevant_context_supplies_the_reference_fix():
    train, _ = build.generate(seed=5, per_type=4, mix=build.Mix(context_rate=1.0, distractor_rate=0.0))
    rows = [r for r in train if "context" in r]
    assert len(rows) > 100
    for row in rows:
        fix = json.loads(row["output"])["fix"] if row["format"] == "json" else ANSWER.match(row["output"])["fix"]
        assert any(fix.rstrip(".") in p["text"] for p in row["context"]), (fix, row["context"])


def test_cli_writes_corpus_incidents_demo_logs_and_readme(tmp_path):
    from bot.cli import main

    rc = main(["dev", "corpus", "--out", str(tmp_path / "data"), "--seed", "3", "--per-type", "5", "--incidents-per-type", "1",
               "--incidents", str(tmp_path / "incidents.jsonl"), "--demo-logs", str(tmp_path / "demo")])
    assert rc == 0
    assert len(_read(tmp_path / "data" / "heldout.jsonl")) == len(REGISTRY)  # instance 4 of each type
    assert len(_read(tmp_path / "incidents.jsonl")) == len(REGISTRY)
    assert "## Counts" in (tmp_path / "data" / "README.md").read_text()
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == sorted([d.filename for d in DEMOS] + ["README.md"])


# --- the shipped files -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped():
    return _read(DATA / "train.jsonl"), _read(DATA / "heldout.jsonl")


def test_shipped_corpus_size_and_mix(shipped):
    train, heldout = shipped
    rows = train + heldout
    assert len(rows) >= 2000
    assert len({r["type"] for r in rows}) >= 40
    assert 0.07 <= len(heldout) / len(rows) <= 0.13
    share_json = sum(r["format"] == "json" for r in rows) / len(rows)
    share_ctx = sum("context" in r for r in rows) / len(rows)
    assert 0.10 <= share_json <= 0.20 and 0.22 <= share_ctx <= 0.38
    assert any("\n" not in r["input"] or r["input"].startswith(("Why", "How", "Our", "CI is")) for r in rows)


def test_shipped_corpus_stays_small():
    size = sum((DATA / name).stat().st_size for name in ("train.jsonl", "heldout.jsonl"))
    assert size < 8_500_000  # the repo ships it; the embedded model's pretraining reads all of it


def test_shipped_rows_keep_the_contract(shipped):
    train, heldout = shipped
    for row in train + heldout:
        _check_row(row)
    assert not {r["input"] for r in train} & {r["input"] for r in heldout}


def test_seed_examples_are_in_train_verbatim(shipped):
    train, _ = shipped
    pairs = {(r["input"], r["output"]) for r in train}
    for seed in SEED_ROWS:
        assert (seed["input"], seed["output"]) in pairs


def test_shipped_corpus_is_current_with_the_generator(shipped):
    train, heldout = shipped
    fresh_train, fresh_heldout = build.generate(seed=7, per_type=25)
    assert fresh_heldout[:20] == heldout[:20] and fresh_train[-20:] == train[-20:]


def test_incidents_file_has_titled_excerpts():
    rows = _read(REPO / "retrieval" / "knowledge" / "incidents.jsonl")
    assert len(rows) >= 300
    for row in rows:
        assert row["title"] and row["url"].startswith("https://") and row["tags"]
        assert ANSWER.match(row["output"])
        assert 1 <= row["input"].count("\n") + 1 <= 30
        assert not re.search(r"ghp_[A-Za-z0-9]{36}|AKIA[A-Z0-9]{16}", row["input"])
        assert "\x1b" not in row["input"] and "\r" not in row["input"]  # pasted from the web UI
    assert len({r["url"] for r in rows}) == len({r["id"] for r in rows}) == len({r["input"] for r in rows}) == len(rows)


def test_incidents_use_another_seed_than_the_corpus(shipped):
    train, heldout = shipped
    inputs = {r["input"] for r in train + heldout}
    assert not any(r["input"] in inputs for r in incidents.generate(per_type=1))


def test_demo_logs_exist_with_their_key_ids():
    folder = REPO / "bot" / "data" / "demo_logs"
    readme = (folder / "README.md").read_text()
    for demo in DEMOS:
        text = (folder / demo.filename).read_text()
        assert 80 <= text.count("\n") <= 300, demo.filename
        assert demo.filename in readme
        assert demo.key in text
