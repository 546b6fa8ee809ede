"""The retrain schedule: persistent job store, misfire handling, no lost or doubled runs."""
from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from bot.learning.scheduler import JOB_ID, make_trigger, next_run_time, start_scheduler
from bot.settings import load_settings
from retrieval.errors import ConfigError

PG_URL = os.environ.get("CIBOT_TEST_POSTGRES_URL")  # read before the autouse fixture clears CIBOT_*


class Runs:
    def __init__(self):
        self.count = 0
        self.event = threading.Event()

    def __call__(self):
        self.count += 1
        self.event.set()


def set_stored_next_run(settings, when: datetime) -> None:
    """What the job store holds after the process was down across a scheduled time. Written with
    SQL, as a second scheduler would fire the job itself while shutting down."""
    import pickle

    from sqlalchemy import create_engine, text

    from bot.learning.scheduler import jobstore_url

    engine = create_engine(jobstore_url(settings))
    with engine.begin() as conn:
        state = pickle.loads(conn.execute(text("SELECT job_state FROM cibot_scheduler_jobs WHERE id = :i"),
                                          {"i": JOB_ID}).scalar_one())
        state["next_run_time"] = when
        conn.execute(text("UPDATE cibot_scheduler_jobs SET job_state = :s, next_run_time = :t WHERE id = :i"),
                     {"s": pickle.dumps(state), "t": when.timestamp(), "i": JOB_ID})
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="set CIBOT_TEST_POSTGRES_URL to a PostgreSQL server to run this")
def test_replicas_share_one_schedule_in_postgres(cibot_home):
    settings = load_settings(store={"url": PG_URL}, scheduler={"cron": "15 4 * * *"})
    first = start_scheduler(settings, run=Runs())
    second = start_scheduler(settings, run=Runs())  # another replica, same job store
    try:
        assert next_run_time(first) == next_run_time(second)
        assert [j.id for j in second.get_jobs()].count(JOB_ID) == 1
    finally:
        first.shutdown()
        second.shutdown()


# The nightly hour sits 12 hours from now, so no real fire time falls inside the one-hour grace
# window of a test run (with a fixed "0 3 * * *" the grace test failed between 03:00 and 04:00 UTC).
NIGHTLY_HOUR = (datetime.now(timezone.utc).hour + 12) % 24


@pytest.fixture
def settings(cibot_home):
    return load_settings(scheduler={"cron": f"0 {NIGHTLY_HOUR} * * *", "misfire_grace_s": 3600})


def test_job_is_persisted_with_its_next_nightly_run(settings):
    runs = Runs()
    sched = start_scheduler(settings, run=runs)
    try:
        nxt = next_run_time(sched)
        assert (nxt.hour, nxt.minute) == (NIGHTLY_HOUR, 0) and nxt > datetime.now(timezone.utc)
    finally:
        sched.shutdown()
    assert settings.paths.scheduler.is_file()
    again = start_scheduler(settings, run=runs)
    try:
        assert next_run_time(again) == nxt
    finally:
        again.shutdown()
    assert runs.count == 0


def test_a_run_missed_while_down_fires_once_after_restart_and_never_twice(settings):
    start_scheduler(settings, run=Runs()).shutdown()
    set_stored_next_run(settings, datetime.now(timezone.utc) - timedelta(minutes=5))
    runs = Runs()
    sched = start_scheduler(settings, run=runs)
    try:
        assert runs.event.wait(10), "the missed run did not fire after the restart"
        time.sleep(0.5)
        assert next_run_time(sched) > datetime.now(timezone.utc)
    finally:
        sched.shutdown()
    again = start_scheduler(settings, run=runs)
    time.sleep(1.0)
    again.shutdown()
    assert runs.count == 1


def test_a_run_missed_beyond_the_grace_time_is_skipped_not_replayed(settings):
    start_scheduler(settings, run=Runs()).shutdown()
    set_stored_next_run(settings, datetime.now(timezone.utc) - timedelta(hours=3))
    runs = Runs()
    sched = start_scheduler(settings, run=runs)
    try:
        time.sleep(1.0)
        assert runs.count == 0
        assert next_run_time(sched) > datetime.now(timezone.utc)
    finally:
        sched.shutdown()


def test_changing_the_cron_replaces_the_stored_schedule(cibot_home):
    first = load_settings(scheduler={"cron": "0 3 * * *"})
    start_scheduler(first, run=Runs()).shutdown()
    changed = load_settings(scheduler={"cron": "30 1 * * 1"})
    sched = start_scheduler(changed, run=Runs())
    try:
        nxt = next_run_time(sched)
        assert (nxt.hour, nxt.minute, nxt.weekday()) == (1, 30, 0)
        assert [j.id for j in sched.get_jobs() if j.id == JOB_ID] == [JOB_ID]
    finally:
        sched.shutdown()


def test_invalid_cron_is_a_config_error(cibot_home):
    with pytest.raises(ConfigError, match="scheduler.cron"):
        make_trigger(load_settings(scheduler={"cron": "every night"}))


def test_retrain_report_is_posted_to_the_report_channel(cibot_home):
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs

    from bot.learning.scheduler import report_poster

    received = []

    class FakeSlack(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            fields = json.loads(body) if body.startswith("{") else {k: v[0] for k, v in parse_qs(body).items()}
            received.append((self.path, self.headers.get("Authorization"), fields))
            payload = json.dumps({"ok": True, "channel": fields.get("channel"), "ts": "1.1"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSlack)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = load_settings(slack={"bot_token": "xoxb-test", "report_channel": "CREPORTS",
                                        "api_url": f"http://127.0.0.1:{server.server_port}/api/"})
        post = report_poster(settings)
        post("Retrain run 3: promoted candidate v0004")
    finally:
        server.shutdown()
    (path, auth, fields), = received
    assert path == "/api/chat.postMessage" and auth == "Bearer xoxb-test"
    assert fields["channel"] == "CREPORTS" and fields["text"].startswith("Retrain run 3: promoted")
    assert report_poster(load_settings()) is None
