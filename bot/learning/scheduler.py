"""Nightly retraining on a cron schedule (apscheduler 3), with a persistent job store.

The job's next run time lives in a database (CIBOT_HOME/scheduler.db, or the shared store when it
is Postgres), so a restart picks up a run it missed (once, within the misfire grace time) and never
reschedules one it already started. Several replicas may each run a scheduler: the retrain job
takes a database lease and counts new examples, so at most one of them trains.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable

from bot.learning.trainer import build_retrainer
from retrieval.errors import ConfigError

log = logging.getLogger(__name__)

JOB_ID = "cibot-retrain"
JOB_FUNC = "bot.learning.scheduler:run_scheduled"
PRUNE_ID = "cibot-prune-claims"
CLAIM_DAYS = 7  # Slack retries within minutes and GitHub redeliveries within days; a week covers both


@dataclass
class _Context:
    settings: Any
    run: Callable[[], Any]


# The job is stored by reference (JOB_FUNC) with no arguments, so it stays picklable; what it
# needs at run time is registered here by start_scheduler in this process.
_CONTEXT: _Context | None = None


def run_scheduled() -> Any:
    if _CONTEXT is None:
        log.error("scheduled retrain fired before start_scheduler set it up; skipped")
        return None
    try:
        result = _CONTEXT.run()
    except Exception:  # the scheduler thread must survive a failed run
        log.exception("scheduled retrain failed")
        return None
    log.info("scheduled retrain: %s", getattr(result, "reason", result))
    return result


def prune_claims() -> int:
    """Drop idempotency claims older than CLAIM_DAYS, so the claims table stays small."""
    from datetime import timedelta

    from bot.store import Store
    from bot.store.models import utcnow

    if _CONTEXT is None:
        return 0
    store = Store.from_settings(_CONTEXT.settings)
    try:
        return store.prune_claims(utcnow() - timedelta(days=CLAIM_DAYS))
    finally:
        store.close()


def make_trigger(settings: Any):
    """A CronTrigger from a standard five-field crontab line. APScheduler numbers weekdays from
    Monday = 0, cron from Sunday = 0, so numeric weekdays are turned into names first."""
    from apscheduler.triggers.cron import CronTrigger

    cron, tz = settings.scheduler.cron, settings.scheduler.timezone
    fields = cron.split()
    try:
        if len(fields) != 5:
            raise ValueError(f"expected 5 fields, got {len(fields)}")
        minute, hour, day, month, dow = fields
        return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                           day_of_week=_DOW_NUMBER.sub(lambda m: _DOW_NAMES[int(m.group()) % 7], dow),
                           timezone=tz)
    except (ValueError, LookupError) as exc:
        raise ConfigError(f"invalid scheduler.cron {cron!r} or timezone {tz!r}: {exc}",
                          hint='five fields, e.g. "0 3 * * *" for 03:00 nightly') from None


_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# Digits that are weekdays, not step values ("*/2" keeps its 2).
_DOW_NUMBER = re.compile(r"(?<![/\d])[0-7](?!\d)")


def jobstore_url(settings: Any) -> str:
    """The shared database when one is configured (so replicas share one schedule), else a local file."""
    if settings.store.url is not None and not settings.store_url.startswith("sqlite"):
        return settings.store_url
    settings.paths.scheduler.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{settings.paths.scheduler}"


def jobstore_engine(settings: Any):
    from bot.store.store import create_store_engine

    return create_store_engine(jobstore_url(settings))


def start_scheduler(settings: Any, run: Callable[[], Any] | None = None,
                    post: Callable[[str], None] | None = None):
    """Start the retrain schedule in a background thread and return the scheduler (call
    .shutdown() to stop). `run` replaces the default job (build a Retrainer and run it)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    global _CONTEXT
    trigger = make_trigger(settings)
    _CONTEXT = _Context(settings, run or (lambda: default_run(settings, post)))
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=jobstore_engine(settings),
                                                tablename="cibot_scheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": settings.scheduler.misfire_grace_s},
        timezone=settings.scheduler.timezone,
    )
    # Start paused: first look at what the store already holds, then let due jobs fire.
    scheduler.start(paused=True)
    _ensure_job(scheduler, trigger)
    scheduler.resume()
    return scheduler


def _ensure_job(scheduler, trigger) -> None:
    """Keep the stored job (and its pending next run) when the schedule is unchanged; replacing it
    would recompute next_run_time from now and silently drop a run missed while we were down."""
    job = scheduler.get_job(JOB_ID)
    if job is not None and str(job.trigger) == str(trigger) and job.func_ref == JOB_FUNC:
        return
    scheduler.add_job(JOB_FUNC, trigger=trigger, id=JOB_ID, name="retrain", replace_existing=True)
    if scheduler.get_job(PRUNE_ID) is None:
        scheduler.add_job("bot.learning.scheduler:prune_claims", trigger="interval", hours=24, id=PRUNE_ID,
                          name="prune idempotency claims")


def next_run_time(scheduler):
    job = scheduler.get_job(JOB_ID)
    return job.next_run_time if job else None


def stored_next_run(settings: Any):
    """The next run the job store holds, read without starting a scheduler (None if never started)."""
    from datetime import datetime, timezone

    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    engine = jobstore_engine(settings)
    try:
        with engine.connect() as conn:
            ts = conn.execute(text("SELECT next_run_time FROM cibot_scheduler_jobs WHERE id = :i"),
                              {"i": JOB_ID}).scalar()
    except DBAPIError:  # no table yet
        return None
    finally:
        engine.dispose()
    return datetime.fromtimestamp(ts, timezone.utc) if ts is not None else None


def default_run(settings: Any, post: Callable[[str], None] | None = None):
    retrainer = build_retrainer(settings, post=post or report_poster(settings))
    try:
        return retrainer.run()
    finally:
        retrainer.store.close()


def report_poster(settings: Any) -> Callable[[str], None] | None:
    """Post retrain reports to slack.report_channel, when it and a bot token are configured."""
    channel = settings.slack.report_channel
    if not channel or settings.slack.bot_token is None:
        return None

    def post(text: str) -> None:
        from slack_sdk import WebClient

        client = WebClient(token=settings.slack.bot_token.get_secret_value(), base_url=settings.slack.api_url)
        client.chat_postMessage(channel=channel, text=text)

    return post
