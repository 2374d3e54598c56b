"""Recompute hourly rollups for the (plug, hour) pairs that received new readings.

The ingest marks every hour that got a new reading; this job takes marks in batches,
widens each plug's range to the neighbouring readings (an interval that crosses into an
earlier or later hour changes those hours too), recomputes with the pure
:func:`backend.plugs.rollup.rollup_hours` and replaces the stored hours, all in one
transaction: a crash leaves the marks, and the rerun gives the same rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from backend.plugs import store
from backend.plugs.models import Plug
from backend.plugs.rollup import hour_floor, rollup_hours
from backend.plugs.vendors import MAX_METER_POWER_W

HOUR = timedelta(hours=1)
MAX_WIDEN = timedelta(days=7)
MAX_GAP_S = 900.0
MAX_POWER_W = 3680.0


async def recompute_plug(conn, plug_id: int, hours: list[datetime], now: datetime,
                         max_power_w: float = MAX_POWER_W) -> int:
    """Recompute the hours around ``hours`` for one plug; returns rollup rows written."""
    start, end = min(hours), max(hours) + HOUR
    first = await store.neighbour(conn, plug_id, start, before=True)
    last = await store.neighbour(conn, plug_id, end, before=False)
    if first is not None:
        start = max(hour_floor(first.ts), start - MAX_WIDEN)
    if last is not None:
        end = min(hour_floor(last.ts) + HOUR, end + MAX_WIDEN)
    samples = await store.samples_between(conn, plug_id, start, end)
    before = await store.neighbour(conn, plug_id, start, before=True)
    after = await store.neighbour(conn, plug_id, end, before=False)
    rollups = rollup_hours(samples, start, end, before=before, after=after,
                           max_gap_s=MAX_GAP_S, max_power_w=max_power_w)
    return await store.write_hours(conn, plug_id, rollups, now)


async def rollup_pending(batch: int = 500, max_batches: int | None = None) -> int:
    """Process rollup marks until none are left (or ``max_batches``); returns plugs done."""
    done = batches = 0
    while max_batches is None or batches < max_batches:
        async with in_transaction() as conn:
            marks = await store.take_dirty(conn, batch)
            now = datetime.now(UTC)
            # a whole-home meter channel may draw far more than a plug: its counter is not a glitch
            meters = set(await Plug.filter(id__in=list(marks), meter=True).using_db(conn)
                         .values_list("id", flat=True)) if marks else set()
            for plug_id, hours in marks.items():
                await recompute_plug(conn, plug_id, hours, now,
                                     MAX_METER_POWER_W if plug_id in meters else MAX_POWER_W)
        if not marks:
            break
        done += len(marks)
        batches += 1
    return done
