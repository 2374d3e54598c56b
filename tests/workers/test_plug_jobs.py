"""The plug cron jobs run by a real arq worker: hourly rollups and storage maintenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from backend.plugs import store
from backend.plugs.models import Plug
from backend.plugs.readings import Vendor
from tests.builders import build_world
from tests.workers.test_rewards_jobs import _run


async def _plug() -> Plug:
    world = await build_world()
    return await Plug.create(household_id=world.family_a1.household.id, vendor=Vendor.TASMOTA,
                             device_id="tasmota_JOB01", name="TV")


async def _readings(plug: Plug, start: datetime, minutes: int, wh_per_minute: float) -> None:
    rows = [store.StoredRow(plug.id, start + timedelta(minutes=m), 60.0 * wh_per_minute, 1000.0 + m * wh_per_minute,
                            start + timedelta(minutes=m)) for m in range(minutes + 1)]
    async with in_transaction() as conn:
        if store.is_postgres(conn):
            await store.ensure_partitions(conn, start.date(), days_back=0, days_ahead=1)
        assert await store.insert_readings(conn, rows) == len(rows)


async def _hours(plug: Plug, start: datetime, end: datetime) -> dict[datetime, float]:
    rows = await store.hours_of(Tortoise.get_connection("default"), [plug.id], start, end)
    return {row.hour: round(row.energy_wh, 6) for row in rows}


async def test_rollup_job_computes_marked_hours_once(db):
    plug = await _plug()
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    await _readings(plug, start, 120, 0.5)  # two whole hours at 30 W
    worker, [done] = await _run(db, ("rollup_plug_hours", (), None))
    assert worker.jobs_failed == 0 and done == 1
    hours = await _hours(plug, start, start + timedelta(hours=3))
    # the closing reading on the hour opens the third hour with nothing in it yet
    assert hours == {start: 30.0, start + timedelta(hours=1): 30.0, start + timedelta(hours=2): 0.0}
    worker, [again] = await _run(db, ("rollup_plug_hours", (), None))
    assert again == 0  # nothing new was marked
    # a late reading inside the first hour marks it again; the total is unchanged (counters)
    async with in_transaction() as conn:
        late = store.StoredRow(plug.id, start + timedelta(minutes=30, seconds=30), 30.0, 1015.25, datetime.now(UTC))
        assert await store.insert_readings(conn, [late]) == 1
    worker, [redone] = await _run(db, ("rollup_plug_hours", (), None))
    assert redone == 1 and (await _hours(plug, start, start + timedelta(hours=1)))[start] == 30.0


async def test_storage_job_drops_raw_data_past_retention_and_keeps_rollups(db):
    plug = await _plug()
    today = datetime.now(UTC).date()
    old = datetime(today.year, today.month, today.day, 10, tzinfo=UTC) - timedelta(days=db.plug_raw_retention_days + 5)
    recent = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=2)
    await _readings(plug, old, 60, 1.0)
    await _readings(plug, recent, 60, 1.0)
    await _run(db, ("rollup_plug_hours", (), None))
    worker, [report] = await _run(db, ("maintain_plug_storage", (), None))
    assert worker.jobs_failed == 0
    conn = Tortoise.get_connection("default")
    remaining = await store.samples_between(conn, plug.id, old - timedelta(days=1), datetime.now(UTC))
    assert {s.ts.date() for s in remaining} == {recent.date()}  # the old day's raw readings are gone
    assert await _hours(plug, old, old + timedelta(hours=1)) == {old: 60.0}  # its rollup stays
    if store.is_postgres(conn):
        assert report["dropped"] >= 1
        names = await store._existing_partitions(conn, "plug_reading")
        assert f"plug_reading_{old:%Y%m%d}" not in names
        assert f"plug_reading_{today + timedelta(days=3):%Y%m%d}" in names  # made ahead of time
    else:
        assert report["dropped"] == 61
