"""A planted set of secrets (40+ kinds) leaves no trace anywhere cibot writes or shows: the Slack
messages, the database, the Chroma files and the BM25 vocabulary.

Real parts: the Bolt app and store (SQLite), a persistent Chroma index with the real embedder, the
real answer engine (without a model); the fake Slack Web API records every call."""
from __future__ import annotations

import json
import time

import pytest
from slack_fakes import BOT_USER, Harness
from test_redact import CORPUS

pytestmark = pytest.mark.integration


def _secrets() -> list[str]:
    # Each planted secret, and a distinctive part of it (BM25 splits tokens on punctuation).
    return sorted({secret for _, secret, _ in CORPUS if len(secret) >= 8})


def _files_contain(root, needles: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes().lower()
            hits = [n for n in needles if n.lower().encode() in data]
            if hits:
                found[str(path)] = hits
    return found


def test_no_planted_secret_survives_in_any_output_or_store(tmp_path, cibot_home):
    from bot.engine.pipeline import AnswerEngine
    from bot.learning.feedback import FeedbackService
    from bot.settings import load_settings
    from retrieval.embed import load_embedder
    from retrieval.index import KnowledgeIndex
    from retrieval.search import Retriever

    settings = load_settings()
    index = KnowledgeIndex.open(settings.retrieval, settings.paths.chroma, embedder=load_embedder())
    kb = tmp_path / "kb"
    kb.mkdir()
    planted = "\n".join(line for line, _, _ in CORPUS)
    (kb / "leaky-runbook.md").write_text(f"# Deploy runbook\n\n## Symptom\n{planted}\n\n## Fix\nRotate the keys.\n")
    (kb / "incidents.jsonl").write_text(json.dumps({
        "input": planted, "output": "Rotated " + CORPUS[0][1], "title": "leak " + CORPUS[1][1],
        "url": "https://deploybot:Hunter22x@ci.example.com/job/1", "tags": [CORPUS[2][1]]}) + "\n")
    index.ingest([kb])
    retriever = Retriever(index)
    retriever.search("deploy runbook rotate keys", k=3)  # builds and saves the BM25 vocabulary

    harness = Harness()
    harness.engine = AnswerEngine(retriever=retriever, generator=None)
    harness.deps.feedback = FeedbackService(harness.store, index, settings)
    try:
        log = planted + "\nError: deploy failed: permission denied\n##[error]Process completed with exit code 1."
        ts, _ = harness.mention(f"why did the deploy fail? ```\n{log}\n```")
        harness.answered(timeout=30)
        record = harness.store.thread_answers("C1", ts)[0]
        harness.event({"type": "reaction_added", "user": "U2", "reaction": "+1", "item_user": BOT_USER,
                       "item": {"type": "message", "channel": "C1", "ts": record.message_ts},
                       "event_ts": harness.next_ts()})
        deadline = time.monotonic() + 20
        while not index.feedback_incidents() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert index.feedback_incidents(), "the thumbs-up answer was not indexed"
        Retriever(index).search("permission denied deploy", k=3)
        shown = json.dumps([c.params for c in harness.api.calls])
    finally:
        harness.close()
    needles = _secrets() + ["Hunter22x"]
    assert [n for n in needles if n in shown] == []
    leaks = _files_contain(cibot_home, needles)
    assert leaks == {}, leaks
