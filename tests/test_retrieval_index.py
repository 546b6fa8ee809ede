"""The knowledge index and hybrid search against a real persistent Chroma in a temp dir."""
from __future__ import annotations

import json
import os

import pytest

from retrieval.errors import IndexUnavailable, UsageError
from retrieval.index import KnowledgeIndex
from retrieval.search import Retriever, relevant
from retrieval.settings import RetrievalSettings
from retrieval.types import Scope

DOCKER = """# Docker builds

## No space left on device

The runner disk is full. Run `docker system prune -af` and retry the build.

## Pull rate limit

toomanyrequests: You have reached your pull rate limit. Log in with docker login first.
"""
NPM = """npm installs
============

ERESOLVE
--------

npm ERR! code ERESOLVE unable to resolve dependency tree: align the peer dependency ranges.
"""
PRIVATE = "# Payments deploy\n\n## Vault unseal\n\nThe payments deploy key is rotated with vault-unseal-7731 by the on-call.\n"


@pytest.fixture(scope="session")
def embedder():
    from retrieval.embed import load_embedder

    return load_embedder()


@pytest.fixture
def kb(tmp_path):
    root = tmp_path / "kb"
    root.mkdir()
    (root / "docker.md").write_text(DOCKER)
    (root / "npm.rst").write_text(NPM)
    return root


@pytest.fixture
def index(tmp_path, embedder):
    return KnowledgeIndex.open(RetrievalSettings(), tmp_path / "chroma", embedder=embedder)


def counts(summary):
    return (summary.added, summary.updated, summary.unchanged, summary.removed)


def test_ingest_is_incremental_and_idempotent(index, kb):
    assert counts(index.ingest([kb])) == (2, 0, 0, 0)
    total = index.count()
    assert total == 3
    second = index.ingest([kb])
    assert counts(second) == (0, 0, 2, 0) and not second.changed and index.count() == total

    (kb / "docker.md").write_text(DOCKER.replace("docker system prune -af", "docker builder prune -af"))
    third = index.ingest([kb])
    assert counts(third) == (0, 1, 1, 0)
    assert third.chunks_added == 1 and third.chunks_removed == 1 and index.count() == total
    hits = Retriever(index).search("docker builder prune", k=1)
    assert "builder prune" in hits[0].text


def test_prune_removes_deleted_files_only_with_prune(index, kb):
    index.ingest([kb])
    (kb / "npm.rst").unlink()
    assert counts(index.ingest([kb])) == (0, 0, 1, 0) and index.count() == 3
    assert counts(index.ingest([kb], prune=True)) == (0, 0, 1, 1) and index.count() == 2
    assert counts(index.ingest([kb], prune=True)) == (0, 0, 1, 0)


def test_private_runbook_does_not_leak_into_other_channels(index, kb, tmp_path):
    index.ingest([kb])
    private = tmp_path / "private"
    private.mkdir()
    (private / "payments.md").write_text(PRIVATE)
    index.ingest([private], scope=["C_PAYMENTS"])
    retriever = Retriever(index)
    query = "vault-unseal-7731 payments deploy key"

    def found(scope):
        return any("vault-unseal-7731" in p.text for p in retriever.search(query, k=5, scope=scope))

    assert found(Scope(channel="C_PAYMENTS"))
    assert not found(Scope(channel="C_OTHER"))
    assert not found(None)
    assert not found(Scope(team="T1"))
    # Making it public later re-labels its chunks instead of keeping private copies around.
    index.ingest([private])
    assert found(Scope(channel="C_OTHER")) and index.count() == 4


def test_team_scope(index, tmp_path):
    (tmp_path / "t.md").write_text(PRIVATE)
    index.ingest([tmp_path / "t.md"], scope=["team:T9"])
    retriever = Retriever(index)
    assert retriever.search("vault-unseal-7731", scope=Scope(channel="C1", team="T9"))
    assert not retriever.search("vault-unseal-7731", scope=Scope(channel="C1", team="T8"))


def test_exact_error_string_matches_lexically(index, kb, tmp_path):
    (kb / "more.md").write_text("# Misc\n\n## Lockfile\n\nERR_PNPM_OUTDATED_LOCKFILE: run pnpm install and commit the lockfile.\n"
                                "\n## Exit codes\n\nExit code 137 means the process was killed by the OOM killer.\n")
    index.ingest([kb])
    hybrid = Retriever(index).search("ERR_PNPM_OUTDATED_LOCKFILE", k=5)
    assert "ERR_PNPM_OUTDATED_LOCKFILE" in hybrid[0].text
    assert hybrid[0].metadata["lexical_rank"] == 1 and hybrid[0].metadata["lexical_coverage"] == 1.0
    lexical = Retriever(index, mode="lexical").search("exit code 137", k=1)
    assert "137" in lexical[0].text


def test_threshold_separates_relevant_from_best_of_bad(index, kb):
    index.ingest([kb])
    retriever = Retriever(index)
    min_score = RetrievalSettings().min_score
    good = retriever.search("npm ERR! code ERESOLVE unable to resolve dependency tree", k=3)
    bad = retriever.search("sourdough bread hydration and oven temperature", k=3)
    assert bad, "a search always returns the best of what there is"
    assert relevant(good, min_score) and relevant(good, min_score)[0].title == "npm installs"
    assert relevant(bad, min_score) == []
    assert all(0.0 <= p.score <= 1.0 for p in good + bad)


def test_passages_cite_title_uri_and_heading(index, kb):
    index.ingest([kb])
    top = Retriever(index).search("toomanyrequests pull rate limit", k=1)[0]
    assert top.title == "Docker builds" and top.heading_path == ("Docker builds", "Pull rate limit")
    assert top.uri.endswith("docker.md#pull-rate-limit") and top.kind == "runbook"


def test_empty_query_is_a_usage_error(index):
    with pytest.raises(UsageError):
        Retriever(index).search("   ")


def test_incidents_jsonl_and_feedback_incidents(index, tmp_path):
    rows = [{"id": f"inc-{i}", "input": f"error E{i:04d}: job failed", "output": f"fix number {i}"} for i in range(5)]
    (tmp_path / "incidents.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")
    summary = index.ingest([tmp_path / "incidents.jsonl"])
    assert summary.added == 5 and len(summary.errors) == 1
    rows[2]["output"] = "a better fix"
    (tmp_path / "incidents.jsonl").write_text("\n".join(json.dumps(r) for r in rows[:4]))
    assert counts(index.ingest([tmp_path / "incidents.jsonl"])) == (0, 1, 3, 1)

    retriever = Retriever(index)
    index.add_incident("ans-1", "kaniko error: UNAUTHORIZED pushing to registry.acme.dev", "Refresh the registry robot token.",
                       scope=Scope(channel="C7"), title="kaniko push unauthorized")
    assert retriever.search("kaniko UNAUTHORIZED registry", k=1, scope=Scope(channel="C7"))[0].title == \
        "kaniko push unauthorized"
    assert all(p.title != "kaniko push unauthorized" for p in retriever.search("kaniko UNAUTHORIZED", scope=None))
    assert counts(index.add_incident("ans-1", "kaniko error: UNAUTHORIZED pushing to registry.acme.dev",
                                     "Refresh the registry robot token.", scope=Scope(channel="C7"),
                                     title="kaniko push unauthorized")) == (0, 0, 1, 0)
    assert index.remove("ans-1") == 1 and index.remove("ans-1") == 0
    assert all(p.title != "kaniko push unauthorized"
               for p in retriever.search("kaniko UNAUTHORIZED", scope=Scope(channel="C7")))


def test_other_process_changes_are_seen(index, kb, tmp_path, embedder, monkeypatch):
    import retrieval.index as index_mod

    index.ingest([kb])
    retriever = Retriever(index)
    assert not any("zebra-7" in p.text for p in retriever.search("zebra-7 crossing"))
    # A second KnowledgeIndex on the same directory stands in for another process (the CLI).
    other = KnowledgeIndex.open(RetrievalSettings(), tmp_path / "chroma", embedder=embedder)
    other.add_incident("z", "zebra-7 crossing failure", "look both ways", title="zebra")
    monkeypatch.setattr(index_mod, "STALE_CHECK_S", 0.0)
    assert any("zebra-7" in p.text for p in retriever.search("zebra-7 crossing"))


def test_bm25_twin_is_persisted_and_reused(index, kb, tmp_path, embedder):
    index.ingest([kb])
    Retriever(index).search("docker")
    saved = list((tmp_path / "chroma" / "bm25").glob("*/state.json"))
    assert len(saved) == 1
    reopened = KnowledgeIndex.open(RetrievalSettings(), tmp_path / "chroma", embedder=embedder)
    lexical = reopened.lexical()
    assert sorted(lexical.ids) == sorted(index.collection.get(include=[])["ids"])


def test_unreadable_file_is_reported_and_the_rest_ingest(index, kb):
    bad = kb / "broken.md"
    bad.write_bytes(b"\xff\xfe\x00 not utf-8 \xff")
    summary = index.ingest([kb])
    assert summary.added == 2 and [p for p, _ in summary.errors] == [str(bad)]
    if os.name == "posix" and os.geteuid() != 0:
        bad.write_text("# ok\n\n## x\n\ny\n")
        bad.chmod(0)
        assert [p for p, _ in index.ingest([kb]).errors] == [str(bad)]


def test_index_built_with_another_model_is_refused(tmp_path, embedder, kb):
    from retrieval.embed import Embedder

    index = KnowledgeIndex.open(RetrievalSettings(), tmp_path / "chroma", embedder=embedder)
    index.ingest([kb])
    other = Embedder(name="acme/other-model", dim=embedder.dim, model=embedder.model)
    with pytest.raises(IndexUnavailable) as err:
        KnowledgeIndex.open(RetrievalSettings(), tmp_path / "chroma", embedder=other)
    message = str(err.value)
    assert "all-MiniLM-L6-v2" in message and "acme/other-model" in message
    assert f"rm -rf {tmp_path / 'chroma'}" in message and "cibot ingest" in message


def test_corrupt_index_dir_names_the_directory_and_the_rebuild(tmp_path, embedder):
    broken = tmp_path / "broken-chroma"
    broken.mkdir()
    (broken / "chroma.sqlite3").write_bytes(b"this is not a sqlite database" * 100)
    with pytest.raises(IndexUnavailable) as err:
        KnowledgeIndex.open(RetrievalSettings(), broken, embedder=embedder)
    assert str(broken) in str(err.value) and f"rm -rf {broken} && cibot ingest" in str(err.value)


def test_ensure_starter_ingests_once(index, kb):
    first = index.ensure_starter(knowledge_dir=kb)
    assert first is not None and first.added == 2
    assert index.ensure_starter(knowledge_dir=kb) is None
    (kb / "extra.md").write_text("# Extra\n\n## Section\n\ntext\n")
    assert index.ensure_starter(knowledge_dir=kb).added == 1


LOCKFILE_RUNBOOK = """# npm ci fails without a lockfile

Owner: web platform (#web-ci).

## Symptom

`npm ERR! The npm ci command can only install with an existing package-lock.json or npm-shrinkwrap.json`
appears in the install step, right after checkout.

## Fix

Commit the lockfile: run `npm install --package-lock-only` locally and commit package-lock.json,
or switch the step to `npm install` for repositories that deliberately have no lockfile.
"""


def test_symptom_and_fix_of_one_entry_travel_together_to_the_prompt(tmp_path, embedder):
    """Searched by its error string, a runbook's Fix comes back in the top 3 and reaches the prompt."""
    from engine_fakes import FakeGenerator

    from bot.engine.answer import AnswerRequest
    from bot.engine.pipeline import AnswerEngine
    from retrieval.index import KNOWLEDGE_DIR
    from retrieval.search import Retriever

    index = KnowledgeIndex.open(RetrievalSettings(), tmp_path / "chroma", embedder=embedder)
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "npm-lockfile.md").write_text(LOCKFILE_RUNBOOK)
    index.ingest([KNOWLEDGE_DIR / "runbooks", kb])  # among every bundled runbook
    retriever = Retriever(index)
    error = "npm ERR! The npm ci command can only install with an existing package-lock.json or npm-shrinkwrap.json"
    top = retriever.search(error, k=3)
    assert any("npm install --package-lock-only" in p.text and "## Symptom" in p.text for p in top)
    gen = FakeGenerator().enqueue(["Root Cause: no lockfile.\nFix: commit package-lock.json."])
    log = f"Run npm ci\n{error}\nnpm ERR! A complete log of this run can be found in: /home/runner/.npm/_logs/x.log\n" \
          "Error: Process completed with exit code 1."
    AnswerEngine(retriever=retriever, generator=gen).answer(AnswerRequest("why?", log=log, route="hybrid"))
    prompt = json.dumps(gen.calls[0]["messages"])
    assert "npm install --package-lock-only" in prompt
