"""Rewards jobs: the monthly settlement of each programme."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from backend.ledger.checkpoints import publish_checkpoint
from backend.rewards.models import Programme
from backend.rewards.programmes import local_date
from backend.rewards.settlement import settle_month
from backend.settings import get_settings


async def settle_programme_month(ctx: dict[str, Any], programme_id: int, year: int, month: int) -> dict:
    """Settle one programme's month, then sign a checkpoint. Idempotent: rerun after a crash."""
    settings = ctx.get("settings") or get_settings()
    report = await settle_month(settings, programme_id, year, month)
    await publish_checkpoint(settings)
    return asdict(report)


async def settle_previous_month(ctx: dict[str, Any]) -> list[str]:
    """Cron: enqueue the settlement of last month for every programme that ran in it.

    The job id names programme and month, so arq enqueues each settlement once.
    """
    settings = ctx.get("settings") or get_settings()
    today = local_date(datetime.now(UTC), settings.display_timezone)
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    queued = []
    for programme in await Programme.filter(year=year):
        job_id = f"settle:{programme.id}:{year:04d}-{month:02d}"
        if await ctx["redis"].enqueue_job("settle_programme_month", programme.id, year, month, _job_id=job_id):
            queued.append(job_id)
    return queued
