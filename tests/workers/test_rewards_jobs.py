"""The rewards and ledger arq jobs, run by a real arq Worker in burst mode on the test Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from arq import create_pool
from arq.jobs import Job
from arq.worker import Worker

from backend.ledger import merkle
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import Checkpoint, LedgerEntry
from backend.ledger.service import (
    balances_of,
    leaf_hashes,
    ledger_size,
    ledger_transaction,
)
from backend.rewards.programmes import local_date
from tests.builders import build_world, start_programmes
from workers.main import WorkerSettings, redis_settings

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


async def _grants(world) -> None:
    async with ledger_transaction(NOW) as w:
        w.add(EntryKind.ADJUSTMENT, world.family_a2.student.pseudonym, Asset.POINTS, 12_345, "grant:student")
        w.add(EntryKind.ADJUSTMENT, world.family_a2.parent.pseudonym, Asset.MILEAGE_WON, 7_000, "grant:parent")


async def _run(settings, *jobs: tuple[str, tuple, str | None]) -> tuple[Any, list[Any]]:
    """Enqueue ``(function, args, job_id)`` jobs, run a burst worker until the queue is empty,
    and return the worker and each enqueued job's result (None when arq refused the job)."""
    pool = await create_pool(redis_settings(settings))
    try:
        enqueued = [await pool.enqueue_job(name, *args, _job_id=job_id or f"test-{uuid.uuid4()}")
                    for name, args, job_id in jobs]
        worker = Worker(functions=WorkerSettings.functions, redis_pool=pool, burst=True, poll_delay=0.05,
                        handle_signals=False, ctx={"settings": settings})
        await worker.main()
        results = [await job.result(timeout=5) if job else None for job in enqueued]
        worker.extra_results = {job_id: await Job(job_id, pool).result(timeout=5)
                                for job_id in await _settle_job_ids(pool)}
    finally:
        await pool.aclose()
    return worker, results


async def _settle_job_ids(pool) -> list[str]:
    keys = await pool.keys("arq:result:settle:*")
    return sorted(k.decode().removeprefix("arq:result:") for k in keys)


async def test_settle_programme_month_job_settles_and_signs_a_checkpoint(db):
    world = await build_world()
    programme, _ = await start_programmes(world)
    await _grants(world)
    worker, [report] = await _run(db, ("settle_programme_month", (programme.id, 2026, 11), None))
    assert worker.jobs_complete == 1 and worker.jobs_failed == 0
    assert (report["month"], report["volunteer_minutes"], report["coins_won"]) == ("2026-11", 240, 5_000)
    assert await balances_of(world.family_a2.parent.pseudonym) == {
        (Asset.MILEAGE_WON, ""): 2_000, (Asset.COINS_WON, "46170"): 5_000}
    size = await ledger_size()
    checkpoint = await Checkpoint.get(tree_size=size)
    assert checkpoint.root_hash == merkle.root_hash(await leaf_hashes(0, size)).hex()

    # run again (a retry after a crash): nothing new, the same checkpoint
    worker, [again] = await _run(db, ("settle_programme_month", (programme.id, 2026, 11), None))
    assert worker.jobs_failed == 0 and again["entries"] == 0 and again["skipped"] >= 2
    assert await ledger_size() == size and await Checkpoint.all().count() == 1


async def test_settle_previous_month_queues_each_programme_month_once(db):
    today = local_date(datetime.now(UTC), db.display_timezone)
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    world = await build_world()
    programme_a, programme_b = await start_programmes(world, year=year)
    await _grants(world)
    # two cron firings (e.g. two workers) in the same burst, and a third afterwards
    worker, [first, second] = await _run(db, ("settle_previous_month", (), None), ("settle_previous_month", (), None))
    expected = {f"settle:{p.id}:{year:04d}-{month:02d}" for p in (programme_a, programme_b)}
    assert sorted(first + second) == sorted(expected)  # each id queued by exactly one of them
    assert worker.jobs_failed == 0 and worker.jobs_complete == 4  # 2 cron runs + 2 settlements
    assert set(worker.extra_results) == expected
    settled = worker.extra_results[f"settle:{programme_a.id}:{year:04d}-{month:02d}"]
    assert settled["month"] == f"{year:04d}-{month:02d}" and settled["entries"] == 4
    entries = await LedgerEntry.filter(ref__startswith=f"settle:{programme_a.id}:").count()
    assert entries == 4

    worker, [third] = await _run(db, ("settle_previous_month", (), None))
    assert third == [] and worker.jobs_complete == 1  # the settlements' results are still kept
    assert await LedgerEntry.filter(ref__startswith="settle:").count() == entries


async def test_publish_checkpoint_job_is_idempotent(db):
    worker, [empty] = await _run(db, ("publish_checkpoint", (), None))
    assert empty == 0 and worker.jobs_failed == 0 and await Checkpoint.all().count() == 0
    world = await build_world()
    await _grants(world)
    worker, [size, again] = await _run(db, ("publish_checkpoint", (), None), ("publish_checkpoint", (), None))
    assert size == again == await ledger_size() == 2 and worker.jobs_failed == 0
    assert await Checkpoint.all().count() == 1
    async with ledger_transaction(NOW) as w:
        w.add(EntryKind.ADJUSTMENT, world.family_a1.parent.pseudonym, Asset.POINTS, 5, "grant:more")
    _, [grown] = await _run(db, ("publish_checkpoint", (), None))
    assert grown == 3 and await Checkpoint.all().count() == 2
