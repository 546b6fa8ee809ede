"""The durable store on real SQLite (and Postgres when CIBOT_TEST_POSTGRES_URL names a server)."""
from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect

from bot.engine.answer import Answer, SourceRef
from bot.store import Store, mask_url, migrate
from retrieval.errors import ConfigError, InputError, UsageError

# Read at import: the autouse fixture clears CIBOT_* variables before each test runs.
PG_URL = os.environ.get("CIBOT_TEST_POSTGRES_URL")


def make_answer(root_cause="The lockfile is out of date.", fix="Run npm install and commit it.", **kw):
    return Answer(
        route="hybrid", root_cause=root_cause, fix=fix, category="dependency",
        sources=[SourceRef(title="npm ci", uri="runbook://npm-ci", score=0.8)],
        model={"base": "embedded", "adapter": "v0003"}, **kw,
    )


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'cibot.db'}")
    yield s
    s.close()


def save(store, key="slack:msg:C1:1.0", **kw):
    return store.save_answer(
        request_key=key, answer=make_answer(**kw), question="why did it fail?",
        excerpt="npm ERR! lockfile mismatch", channel="C1", thread_ts="1.0", user="U9", team="T1",
    )


def test_migrations_create_the_schema_at_head(store):
    tables = set(inspect(store.engine).get_table_names())
    assert {"answers", "votes", "claims", "locks", "retrain_runs", "alembic_version"} <= tables
    assert migrate.current_revision(store.engine) == "0001"


def test_reopening_an_existing_database_keeps_its_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first = Store.open(url)
    answer_id = save(first)
    first.close()
    again = Store.open(url)
    assert again.get_answer(answer_id).root_cause == "The lockfile is out of date."


def test_save_answer_is_idempotent_per_request_key(store):
    first = save(store)
    assert save(store, root_cause="something else") == first
    record = store.get_answer(first)
    assert record.root_cause == "The lockfile is out of date."
    assert record.sources == [{"title": "npm ci", "uri": "runbook://npm-ci", "score": 0.8}]
    assert (record.model_base, record.adapter, record.team, record.user) == ("embedded", "v0003", "T1", "U9")
    assert record.answer_json["category"] == "dependency"
    assert record.created_at.tzinfo is not None


def test_answer_found_by_message_and_by_thread(store):
    a = save(store, key="k1")
    b = save(store, key="k2")
    store.set_answer_message(a, "C1", "2.0")
    assert store.answer_by_message("C1", "2.0").answer_id == a
    assert store.answer_by_message("C1", "3.0") is None
    assert [r.answer_id for r in store.thread_answers("C1", "1.0")] == [a, b]


def test_replayed_vote_records_nothing_new_and_last_vote_wins(store):
    a = save(store)
    first = store.vote(a, "U1", 1)
    assert (first.changed, first.previous, first.value) == (True, None, 1)
    assert store.vote(a, "U1", 1).changed is False
    flipped = store.vote(a, "U1", -1)
    assert (flipped.changed, flipped.previous) == (True, 1)
    votes = store.votes()
    assert [(v.user, v.value, v.adapter, v.channel) for v in votes] == [("U1", -1, "v0003", "C1")]


def test_retraction_removes_the_vote_and_a_new_vote_counts_again(store):
    a = save(store)
    store.vote(a, "U1", 1)
    assert store.retract(a, "U1") is True
    assert store.retract(a, "U1") is False
    assert store.votes() == []
    assert store.vote(a, "U1", 1).previous is None


def test_reason_is_stored_with_the_down_vote_and_cleared_by_an_up_vote(store):
    a = save(store)
    store.vote(a, "U1", -1)
    assert store.set_vote_reason(a, "U1", "wrong_fix", "it was the cache key") is True
    (vote,) = store.votes()
    assert (vote.reason, vote.detail) == ("wrong_fix", "it was the cache key")
    store.vote(a, "U1", 1)
    (vote,) = store.votes()
    assert vote.reason is None


def test_reason_without_a_recorded_vote_counts_as_a_down_vote(store):
    a = save(store)
    assert store.set_vote_reason(a, "U2", "incomplete") is True
    assert [(v.value, v.reason) for v in store.votes()] == [(-1, "incomplete")]
    assert store.set_vote_reason("no-such-answer", "U2", "other") is False


def test_votes_since_filters_by_time(store):
    a = save(store)
    store.vote(a, "U1", 1)
    later = datetime.now(timezone.utc) + timedelta(seconds=5)
    assert store.votes(since=later) == []
    assert len(store.votes(since=later - timedelta(minutes=1))) == 1


def test_bad_votes_are_refused(store):
    a = save(store)
    with pytest.raises(UsageError):
        store.vote(a, "U1", 2)
    with pytest.raises(InputError):
        store.vote("missing", "U1", 1)


def test_claim_wins_once_across_two_replicas_on_one_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    replicas = [Store.open(url), Store.open(url)]
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def worker(i):
        barrier.wait()
        results.append(replicas[i % 2].claim("slack:event:Ev123"))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert replicas[1].claim("slack:event:Ev124") is True


def test_lock_is_single_holder_until_it_expires(store):
    assert store.acquire_lock("retrain", "replica-a", ttl_s=60) is True
    assert store.acquire_lock("retrain", "replica-b", ttl_s=60) is False
    assert store.acquire_lock("retrain", "replica-a", ttl_s=60) is True  # re-entrant for its owner
    store.release_lock("retrain", "replica-b")  # not the owner: no effect
    assert store.lock_holder("retrain")[0] == "replica-a"
    store.release_lock("retrain", "replica-a")
    assert store.acquire_lock("retrain", "replica-b", ttl_s=-1) is True  # already expired
    assert store.acquire_lock("retrain", "replica-a", ttl_s=60) is True  # stale lease taken over
    assert store.refresh_lock("retrain", "replica-b", 60) is False


def test_unreachable_database_names_the_url_with_the_password_masked():
    url = "postgresql+psycopg://cibot:hunter2@127.0.0.1:1/cibot"
    with pytest.raises(ConfigError) as err:
        Store.open(url)
    message = str(err.value)
    assert "hunter2" not in message
    assert "cibot:***@127.0.0.1:1/cibot" in message


def test_plain_postgresql_url_uses_psycopg3_and_still_masks_the_password():
    with pytest.raises(ConfigError) as err:
        Store.open("postgresql://cibot:hunter2@127.0.0.1:1/cibot")
    assert "hunter2" not in str(err.value) and "cannot reach the database" in str(err.value)


def test_unwritable_sqlite_location_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="cannot reach the database"):
        Store.open(f"sqlite:///{blocker / 'sub' / 'cibot.db'}")


def test_mask_url_hides_only_the_password():
    assert mask_url("postgresql://u:p%40ss@db:5432/x") == "postgresql://u:***@db:5432/x"
    assert mask_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="set CIBOT_TEST_POSTGRES_URL to a PostgreSQL server to run this")
def test_store_on_postgres_claims_votes_and_locks():
    import uuid

    replicas = [Store.open(PG_URL), Store.open(PG_URL)]  # the second open finds the schema at head
    key = f"pg-test:{uuid.uuid4().hex}"
    answer_id = save(replicas[0], key=key)
    assert save(replicas[1], key=key) == answer_id
    assert replicas[0].claim(key) is True and replicas[1].claim(key) is False
    replicas[0].vote(answer_id, "U1", 1)
    assert replicas[1].vote(answer_id, "U1", -1).previous == 1
    lock = f"lock-{key}"[:64]
    assert replicas[0].acquire_lock(lock, "a", 60) and not replicas[1].acquire_lock(lock, "b", 60)
    replicas[0].release_lock(lock, "a")
    for r in replicas:
        r.close()


def test_models_and_migrations_agree(store):
    """A model change without a migration (or the reverse) shows up as an autogenerate diff."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from bot.store.models import Base

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_old_claims_are_pruned_and_can_be_claimed_again(store):
    assert store.claim("gh:delivery:1")
    assert store.prune_claims(datetime.now(timezone.utc) - timedelta(days=1)) == 0
    assert store.prune_claims(datetime.now(timezone.utc) + timedelta(seconds=1)) == 1
    assert store.claim("gh:delivery:1")
