"""Votes -> the knowledge index: thumbs-up answers become scoped incidents, thumbs-down removes them."""
from __future__ import annotations

import time

import pytest

from bot.engine.answer import Answer
from bot.learning.feedback import FeedbackService, incident_id
from bot.store import Store


class RecordingIndex:
    """Stands in for KnowledgeIndex where only the calls matter; the real one is tested below."""

    def __init__(self):
        self.incidents: dict[str, dict] = {}

    def add_incident(self, incident_id, text_in, text_out, scope=None, title="", uri="", meta=None):
        self.incidents[incident_id] = {"in": text_in, "out": text_out, "scope": scope, "title": title,
                                       "uri": uri, "meta": meta}

    def remove(self, incident_id):
        self.incidents.pop(incident_id, None)

    def feedback_incidents(self):
        return sorted(self.incidents)


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'cibot.db'}")
    yield s
    s.close()


def answered(store, key="k1", note=None, root_cause="Port 5432 is not reachable: the postgres service is missing."):
    answer = Answer(route="rag", root_cause=root_cause, fix="Add a postgres service to the job.", note=note,
                    model={"base": "embedded", "adapter": "v0001"}, category="service")
    answer_id = store.save_answer(request_key=key, answer=answer, question="why?",
                                  excerpt="psql: could not connect to server: Connection refused",
                                  channel="C1", thread_ts="1.0", team="T1")
    store.set_answer_message(answer_id, "C1", "1.5")
    return answer_id


def test_thumbs_up_indexes_the_answer_with_its_channel_scope(store):
    index = RecordingIndex()
    fb = FeedbackService(store, index)
    a = answered(store)
    assert fb.on_vote(a, "U1", 1).changed
    doc = index.incidents[incident_id(a)]
    assert doc["scope"].channel == "C1" and doc["scope"].team is None  # not the whole team
    assert doc["out"].startswith("Root Cause: Port 5432")
    assert "Connection refused" in doc["in"]
    assert doc["uri"] == "slack://channel/C1/1.5"


def test_thumbs_down_or_retraction_removes_it(store):
    index = RecordingIndex()
    fb = FeedbackService(store, index)
    a = answered(store)
    fb.on_vote(a, "U1", 1)
    fb.on_vote(a, "U2", -1)
    assert incident_id(a) not in index.incidents
    fb.on_retract(a, "U2")
    assert incident_id(a) in index.incidents  # U1's thumbs-up stands alone again
    fb.on_retract(a, "U1")
    assert index.incidents == {}


def test_votes_by_the_bot_or_on_other_messages_are_ignored(store):
    index = RecordingIndex()
    fb = FeedbackService(store, index, bot_user_id="UBOT")
    a = answered(store)
    assert fb.on_vote(a, "UBOT", 1) is None
    assert fb.on_vote(a, "UOTHERBOT", 1, bot_user_id="UOTHERBOT") is None
    assert fb.on_vote(None, "U1", 1) is None
    assert fb.on_vote("not-an-answer", "U1", 1) is None
    assert store.votes() == [] and index.incidents == {}


def test_answers_that_found_no_failure_are_never_indexed(store):
    index = RecordingIndex()
    fb = FeedbackService(store, index)
    a = answered(store, note="no failure found in the log")
    assert fb.on_vote(a, "U1", 1).changed
    assert index.incidents == {}


def test_reason_is_stored_and_unknown_reasons_kept_as_other(store):
    fb = FeedbackService(store, RecordingIndex())
    a = answered(store)
    fb.on_vote(a, "U1", -1)
    assert fb.on_reason(a, "U1", "wrong_fix", "the service is there, the port differs")
    assert fb.on_reason(a, "U2", "flaky", "just rerun")
    reasons = sorted((v.user, v.reason, v.detail) for v in store.votes())
    assert reasons == [("U1", "wrong_fix", "the service is there, the port differs"),
                       ("U2", "other", "flaky: just rerun")]


def test_an_index_failure_never_loses_the_vote(store):
    class BrokenIndex(RecordingIndex):
        def add_incident(self, *a, **kw):
            raise RuntimeError("chroma is down")

    fb = FeedbackService(store, BrokenIndex())
    a = answered(store)
    assert fb.on_vote(a, "U1", 1).changed
    assert [v.value for v in store.votes()] == [1]


def test_replayed_vote_counts_once_in_metrics(store):
    from bot.server import observability as obs

    fb = FeedbackService(store, None)
    a = answered(store)
    before = obs.FEEDBACK.labels(value="up")._value.get()
    fb.on_vote(a, "U1", 1)
    fb.on_vote(a, "U1", 1)
    assert obs.FEEDBACK.labels(value="up")._value.get() == before + 1


def test_thumbs_up_is_searchable_in_real_chroma_within_seconds(store, cibot_home):
    from bot.settings import load_settings
    from retrieval import index as index_mod
    from retrieval import search as search_mod
    from retrieval.types import Scope

    settings = load_settings()
    index = index_mod.KnowledgeIndex.open(settings.retrieval, settings.paths.chroma)
    fb = FeedbackService(store, index, settings)
    a = answered(store, root_cause="The zorblax cache key collides between matrix jobs.")
    started = time.monotonic()
    fb.on_vote(a, "U1", 1)
    assert index.feedback_incidents() == [incident_id(a)]
    retriever = search_mod.Retriever(index)
    hits = retriever.search("zorblax cache key collides", k=3, scope=Scope(channel="C1", team="T1"))
    assert time.monotonic() - started < 10
    assert any("zorblax" in p.text for p in hits)
    elsewhere = retriever.search("zorblax cache key collides", k=3, scope=Scope(channel="C2", team="T2"))
    assert not any("zorblax" in p.text for p in elsewhere)
    same_team = retriever.search("zorblax cache key collides", k=3, scope=Scope(channel="COTHER", team="T1"))
    assert not any("zorblax" in p.text for p in same_team)  # another channel of the same team
    fb.on_vote(a, "U1", -1)
    hits = retriever.search("zorblax cache key collides", k=3, scope=Scope(channel="C1", team="T1"))
    assert not any("zorblax" in p.text for p in hits)


def test_start_up_reconciles_the_index_with_votes_after_a_crash(store):
    index = RecordingIndex()
    fb = FeedbackService(store, index)
    down, up = answered(store, key="k-down"), answered(store, key="k-up")
    fb.on_vote(down, "U1", 1)
    # a crash between the thumbs-down being stored and the index update:
    store.vote(down, "U2", -1)
    # and one between a thumbs-up being stored and its indexing:
    store.vote(up, "U1", 1)
    assert incident_id(down) in index.incidents and incident_id(up) not in index.incidents
    assert FeedbackService(store, index).reconcile() == (1, 1)
    assert set(index.incidents) == {incident_id(up)}
    assert FeedbackService(store, index).reconcile() == (0, 0)


def test_team_wide_incidents_when_configured(store):
    from types import SimpleNamespace

    index = RecordingIndex()
    settings = SimpleNamespace(slack=SimpleNamespace(incident_visibility="team"))
    a = answered(store)
    FeedbackService(store, index, settings).on_vote(a, "U1", 1)
    assert index.incidents[incident_id(a)]["scope"].team == "T1"


def test_cli_feedback_list_json_is_one_object_per_vote(store, cibot_home, capsys):
    import json

    from bot.cli import main
    from bot.settings import load_settings

    shared = Store.open(load_settings().store_url)
    a = answered(shared, key="k1")
    b = answered(shared, key="k2")
    fb = FeedbackService(shared, None)
    fb.on_vote(a, "U1", 1)
    fb.on_vote(b, "U2", -1)
    fb.on_reason(b, "U2", "wrong_cause")
    shared.close()
    assert main(["feedback", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [set(r) for r in rows] == [{"answer_id", "user", "value", "channel", "ts", "adapter", "reason"}] * 2
    assert [(r["answer_id"], r["value"], r["reason"], r["adapter"], r["channel"]) for r in rows] == [
        (a, 1, None, "v0001", "C1"), (b, -1, "wrong_cause", "v0001", "C1")]
    assert main(["feedback", "list", "--json", "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["feedback", "list", "--since", "yesterday"]) == 2


def test_cli_feedback_export_writes_thumbs_up_training_rows(store, cibot_home, tmp_path, capsys):
    import json

    from bot.cli import main
    from bot.settings import load_settings

    shared = Store.open(load_settings().store_url)
    a = answered(shared, key="k1")
    b = answered(shared, key="k2")
    shared.vote(a, "U1", 1)
    shared.vote(b, "U1", -1)
    shared.close()
    out = tmp_path / "fb.jsonl"
    assert main(["feedback", "export", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"feedback-{a}"]
    assert rows[0]["output"].startswith("Root Cause: Port 5432") and "\nFix: Add a postgres" in rows[0]["output"]
    assert "Connection refused" in rows[0]["input"]
    assert "1 thumbs-down" in capsys.readouterr().err
