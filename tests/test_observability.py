"""Metrics exposition, readiness semantics, and JSON logs that never carry secrets or log text."""
from __future__ import annotations

import contextvars
import io
import json
import logging
import threading

import pytest

from bot.server import observability as obs
from retrieval.errors import ConfigError


def _sample(name: str, labels: dict[str, str] | None = None) -> float:
    return obs.REGISTRY.get_sample_value(name, labels or {}) or 0.0


# --- metrics -------------------------------------------------------------------------------------


def test_render_metrics_is_prometheus_text_with_every_cibot_family():
    obs.REQUESTS.labels(route="rag", surface="mention").inc()
    body, content_type = obs.render_metrics()
    text = body.decode()
    assert content_type.startswith("text/plain") and "version=" in content_type
    for family in (
        "cibot_requests_total",
        "cibot_answer_stage_seconds",
        "cibot_feedback_total",
        "cibot_adapter_info",
        "cibot_retrain_runs_total",
        "cibot_queue_depth",
    ):
        assert f"# TYPE {family.removesuffix('_total').removesuffix('_info')}" in text, family
    # Only cibot's own registry: no default process/python collectors.
    assert "python_gc_objects_collected_total" not in text


def test_an_answered_mention_counts_one_request_by_route_and_surface():
    from slack_fakes import ANSWER, Harness

    labels = {"route": ANSWER.route, "surface": "mention"}
    before = _sample("cibot_requests_total", labels)
    harness = Harness()
    try:
        harness.mention("why did the build fail?\n```\nnpm ERR! gyp ERR! build error\n```")
        assert len(harness.answered(1)) == 1
        harness.api.settle()  # the count follows the posted answer
    finally:
        harness.close()
    assert _sample("cibot_requests_total", labels) == before + 1


def test_stage_timer_observes_even_when_the_block_raises():
    before = _sample("cibot_answer_stage_seconds_count", {"stage": "retrieve"})
    with pytest.raises(RuntimeError):
        with obs.stage_timer("retrieve"):
            raise RuntimeError("boom")
    with obs.stage_timer("retrieve"):
        pass
    assert _sample("cibot_answer_stage_seconds_count", {"stage": "retrieve"}) == before + 2


def test_set_adapter_replaces_the_version_label():
    obs.set_adapter("v0003", base="cibot-tiny")
    obs.set_adapter("v0004", base="cibot-tiny")
    text = obs.render_metrics()[0].decode()
    assert 'cibot_adapter_info{base="cibot-tiny",version="v0004"} 1.0' in text
    assert 'version="v0003"' not in text


def test_queue_depth_counts_answers_waiting_in_the_pool_and_returns():
    from bot.slack.pool import WorkPool

    before = _sample("cibot_queue_depth") or 0
    release = threading.Event()
    pool = WorkPool(workers=1, max_pending=4)
    try:
        assert pool.submit(lambda: release.wait(10)) and pool.submit(lambda: None)
        assert _sample("cibot_queue_depth") == before + 2  # one running, one waiting
    finally:
        release.set()
        pool.shutdown(wait=True)
    assert _sample("cibot_queue_depth") == before


# --- readiness -----------------------------------------------------------------------------------


def test_not_ready_until_model_index_and_database_are_all_loaded():
    ready = obs.Readiness()
    assert ready.status() == (False, {"model": "loading", "index": "loading", "database": "loading"})
    ready.loaded("model")
    ready.loaded("index")
    assert ready.status()[0] is False
    ready.register("database", lambda: True)
    assert ready.status() == (True, {"model": "ok", "index": "ok", "database": "ok"})


def test_a_failed_load_keeps_the_process_not_ready_for_good():
    ready = obs.Readiness()
    for name in ("model", "index", "database"):
        ready.loaded(name)
    ready.fail("model", "adapter v0002 is corrupt\nTraceback ...")
    ok, detail = ready.status()
    assert ok is False
    assert detail["model"].startswith("failed: adapter v0002 is corrupt")
    ready.loaded("model")  # a later registration does not paper over the failure
    assert ready.status()[0] is False


def test_a_check_that_raises_or_returns_false_is_not_ready():
    ready = obs.Readiness(required=("database",))
    ready.register("database", lambda: 1 / 0)
    ok, detail = ready.status()
    assert not ok and detail["database"].startswith("error: ZeroDivisionError")
    ready.register("database", lambda: False)
    assert ready.status() == (False, {"database": "not ready"})


def test_extra_checks_also_gate_readiness():
    ready = obs.Readiness(required=())
    assert ready.status() == (True, {})
    ready.register("chroma", lambda: False)
    assert ready.status()[0] is False


# --- request ids ---------------------------------------------------------------------------------


def test_new_request_id_sets_the_context_and_is_unique():
    a = obs.new_request_id()
    assert obs.request_id.get() == a
    b = obs.new_request_id()
    assert a != b and len(a) == 16
    assert obs.new_request_id("Ev123") == "Ev123"


def test_bound_request_id_restores_the_previous_value():
    obs.new_request_id("outer")
    with obs.bound_request_id("inner") as rid:
        assert rid == obs.request_id.get() == "inner"
    assert obs.request_id.get() == "outer"


# --- logs ----------------------------------------------------------------------------------------


@pytest.fixture
def json_log():
    stream = io.StringIO()
    obs.configure_logging("json", "DEBUG", stream=stream)
    yield stream
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, obs._HANDLER_MARK, False)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_carry_level_logger_message_request_id_and_extras(json_log):
    def handle():
        obs.new_request_id("Ev42")
        logging.getLogger("cibot.test").info("answered %s", "ok", extra={"route": "rag", "ms": 12})

    contextvars.copy_context().run(handle)
    [entry] = _lines(json_log)
    assert entry["level"] == "info" and entry["logger"] == "cibot.test"
    assert entry["msg"] == "answered ok"
    assert entry["request_id"] == "Ev42"
    assert entry["route"] == "rag" and entry["ms"] == 12
    assert entry["ts"].endswith("+00:00")


def test_request_id_follows_a_copied_context_into_a_worker_thread(json_log):
    obs.new_request_id("Ev-thread")
    ctx = contextvars.copy_context()
    worker = threading.Thread(target=ctx.run, args=(logging.getLogger("cibot.worker").warning, "generating"))
    worker.start()
    worker.join()
    assert _lines(json_log)[0]["request_id"] == "Ev-thread"


def test_secrets_in_messages_extras_and_tracebacks_are_redacted(json_log):
    token = "xoxb-123456789012-abcdefABCDEF"
    log = logging.getLogger("cibot.test")
    log.warning("posting with %s", token, extra={"url": "postgresql://cibot:hunter22@db/cibot"})
    try:
        raise ValueError(f"bad header Authorization: token={token}")
    except ValueError:
        log.exception("request failed")
    raw = json_log.getvalue()
    assert token not in raw and "hunter22" not in raw
    entries = _lines(json_log)
    assert "exc" in entries[1] and "ValueError" in entries[1]["exc"]


def test_raw_log_text_never_reaches_the_log(json_log):
    ci_log = "\n".join(f"step {i}: compiling customer_secret_module_{i}" for i in range(50))
    log = logging.getLogger("cibot.test")
    log.info("excerpt built", extra={"excerpt": ci_log, "log": ci_log.encode()})
    log.info("got a log:\n%s", ci_log)
    raw = json_log.getvalue()
    assert "customer_secret_module_7" not in raw
    first, second = _lines(json_log)
    assert first["excerpt"] == {"chars": len(ci_log)}
    assert second["msg"].startswith("got a log:") and "lines elided" in second["msg"]


def test_console_format_includes_the_request_id():
    stream = io.StringIO()
    obs.configure_logging("console", "INFO", stream=stream)
    try:
        with obs.bound_request_id("Ev-console"):
            logging.getLogger("cibot.test").info("hello")
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, obs._HANDLER_MARK, False)]:
            root.removeHandler(handler)
    assert "[Ev-console] hello" in stream.getvalue()


def test_configure_logging_twice_installs_one_handler():
    obs.configure_logging("json", "INFO", stream=io.StringIO())
    obs.configure_logging("json", "INFO", stream=io.StringIO())
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, obs._HANDLER_MARK, False)]
    assert len(ours) == 1
    root.removeHandler(ours[0])


@pytest.mark.parametrize("fmt, level", [("json", "CHATTY"), ("xml", "INFO")])
def test_configure_logging_rejects_unknown_format_or_level(fmt, level):
    with pytest.raises(ConfigError):
        obs.configure_logging(fmt, level)
