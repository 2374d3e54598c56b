"""arq ``WorkerSettings``: functions, cron jobs and start-up."""

from __future__ import annotations

import logging
import time
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import run_worker as arq_run_worker

from backend.db import close_db, init_db
from backend.operations.logs import configure_logging
from backend.outages import is_outage
from backend.settings import Settings, SettingsError, get_settings
from workers.accounts import purge_ended_sessions, purge_unconsented_children
from workers.dr import drive_dr_events
from workers.ledger import publish_checkpoint
from workers.photos import requeue_unverified_photos, verify_photo
from workers.plugs import maintain_plug_storage, rollup_plug_hours
from workers.reports import monthly_municipal_reports
from workers.rewards import settle_previous_month, settle_programme_month
from workers.settlement import choose_baselines, settle_dr_events


log = logging.getLogger("pvpp.worker")
#: Longest pause between attempts to get the worker going again after an outage.
MAX_RESTART_DELAY_SECONDS = 10.0


async def ping(ctx: dict[str, Any]) -> str:
    """A trivial job used by health checks and tests to prove the worker runs jobs."""
    return "pong"


async def startup(ctx: dict[str, Any]) -> None:
    await close_db()  # a run that ended in an outage may have left connections behind
    await init_db(ctx.get("settings") or get_settings())


async def shutdown(ctx: dict[str, Any]) -> None:
    await close_db()


def redis_settings(settings: Settings) -> RedisSettings:
    if not settings.redis_url:
        raise SettingsError("PVPP_REDIS_URL is not set (use 'pvpp run' for an embedded Redis)")
    return RedisSettings.from_dsn(settings.redis_url)


class WorkerSettings:
    functions = [ping, purge_ended_sessions, purge_unconsented_children, publish_checkpoint,
                 rollup_plug_hours, maintain_plug_storage, drive_dr_events,
                 settle_programme_month, settle_previous_month, verify_photo, requeue_unverified_photos,
                 settle_dr_events, choose_baselines, monthly_municipal_reports]
    cron_jobs = [
        cron(purge_ended_sessions, hour={4}, minute={17}, unique=True),
        cron(rollup_plug_hours, unique=True),  # every minute
        # DR events every 15 s, and at start-up so a restart mid-event ends it and restores plugs
        cron(drive_dr_events, second={0, 15, 30, 45}, unique=True, run_at_startup=True),
        cron(maintain_plug_storage, minute={3}, unique=True),  # the bridge also ensures partitions at start
        cron(purge_unconsented_children, hour={4}, minute={27}, unique=True),
        # photos whose verify job was never queued (Redis was down at upload): soon, and at start
        cron(requeue_unverified_photos, minute=set(range(1, 60, 5)), unique=True, run_at_startup=True),
        cron(settle_previous_month, day={1}, hour={2}, minute={7}, unique=True),
        cron(settle_dr_events, minute=set(range(2, 60, 5)), unique=True),  # DR settlement and restatement
        cron(choose_baselines, day={1}, hour={3}, minute={17}, unique=True),  # monthly baseline choice
        cron(monthly_municipal_reports, day={2}, hour={4}, minute={47}, unique=True),  # last month's reports
        cron(publish_checkpoint, minute=set(range(0, 60, 10)), unique=True),
    ]
    on_startup = startup
    on_shutdown = shutdown
    max_tries = 5
    job_timeout = 300


def run_worker(settings: Settings) -> int:
    configure_logging(settings.log_level, settings.log_format)
    WorkerSettings.redis_settings = redis_settings(settings)
    WorkerSettings.cron_jobs = [*WorkerSettings.cron_jobs[:-1], cron(
        publish_checkpoint, minute=set(range(0, 60, min(settings.ledger_checkpoint_minutes, 60))), unique=True)]
    return run_until_stopped(WorkerSettings)


def run_until_stopped(worker_settings: Any, max_delay: float = MAX_RESTART_DELAY_SECONDS) -> int:
    """Run the arq worker; when Redis or the database goes away (at start or while running)
    wait and start it again, so the worker comes back by itself when the service does.
    Returns 0 when the worker is stopped by a signal; any other error is raised."""
    delay = 1.0
    while True:
        started = time.monotonic()
        try:
            arq_run_worker(worker_settings)
            return 0
        except Exception as exc:
            if not is_outage(exc):
                raise
            if time.monotonic() - started > 60:
                delay = 1.0  # it ran for a while: a new outage starts with a short wait
            log.warning("worker stopped by an outage (%s: %s); starting again in %.0f s",
                        type(exc).__name__, exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, max_delay)
