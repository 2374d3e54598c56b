"""Plug jobs: hourly rollups of new readings, partitions and raw-data retention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from backend.plugs import store
from backend.plugs.rollups import rollup_pending
from backend.settings import get_settings


async def rollup_plug_hours(ctx: dict[str, Any]) -> int:
    """Recompute the hours that received readings since the last run; returns plugs done."""
    return await rollup_pending()


async def maintain_plug_storage(ctx: dict[str, Any]) -> dict[str, int]:
    """Create upcoming partitions and drop raw readings past the retention."""
    settings = ctx.get("settings") or get_settings()
    today = datetime.now(UTC).date()
    async with in_transaction() as conn:
        created = await store.ensure_partitions(conn, today)
        dropped = await store.drop_expired_raw(conn, today, settings.plug_raw_retention_days)
    return {"created": len(created), "dropped": dropped}
