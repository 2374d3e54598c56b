"""Settlement of DR events against the database: points through the ledger, completeness,
restatement, forgiveness, insufficient data, idempotence under retries and two workers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from backend.dr import settlement
from backend.dr.explain import DisplayStatus, explain
from backend.dr.models import (
    AdjustmentCause,
    DrSettlement,
    DrSettlementAdjustment,
    SettlementStatus,
)
from backend.ledger.entries import EntryKind
from backend.ledger.models import LedgerEntry
from tests.builders import build_world, principal_of
from tests.dr.settlement_support import (
    EVENT_DAY,
    FIRST_DAY,
    flat,
    run_event,
    write_load,
)
from tests.dr.support import dr_plug
from tests.workers.test_rewards_jobs import _run

MINUTE = timedelta(minutes=1)


async def _legs(event_id: int) -> list[tuple[str, str, str, int]]:
    rows = await LedgerEntry.filter(ref__startswith=f"dr:{event_id}:").order_by("seq")
    return [(r.ref, str(r.kind), str(r.account), r.amount) for r in rows]


async def _setup(db, event_watts: float = 200.0, missing: tuple[int, ...] = ()):
    """a1 has a TV plug at 500 W every hour for 50 days; on the event day 16:00-18:00 it drew
    ``event_watts`` (hours in ``missing`` have no rollup); a2 has no plug at all."""
    w = await build_world()
    plug = await dr_plug(w.family_a1.household.id, "tv")
    base = flat(500.0, event=(EVENT_DAY, (16, 17), event_watts))
    await write_load(plug.id, FIRST_DAY, EVENT_DAY,
                     lambda d, h: None if d == EVENT_DAY and h in missing else base(d, h))
    return w, plug


async def test_settles_measured_reduction_into_points_shared_by_the_household(db):
    w, _ = await _setup(db)
    a1, a2 = w.family_a1.household.id, w.family_a2.household.id
    event = await run_event(db, w)
    report = await settlement.settle_due(db, now=event.ends_at + 10 * MINUTE)  # complete: no need to wait
    assert (report.settled, report.pending_events) == (2, 0)
    s1 = await DrSettlement.get(event_id=event.id, household_id=a1)
    assert (s1.status, s1.method, round(s1.reduction_kwh, 9), s1.points, s1.version) == (
        SettlementStatus.SETTLED, "kpx_mid_6_10", 0.6, 1_200, 1)  # 0.3 kWh less in each hour x 2,000 points/kWh
    assert s1.contracted_kwh == 2.0  # 2 kW x 2 h over the 2 opted-in households
    assert s1.explanation["points_reason"].startswith("0.6 kWh x 1000 points/kWh x 1 (measured) x 2 (DR event)")
    parent, student = w.family_a1.parent, w.family_a1.student
    assert await _legs(event.id) == [(f"dr:{event.id}:{a1}:settle:1", "award", str(parent.pseudonym), 600),
                                     (f"dr:{event.id}:{a1}:settle:2", "award", str(student.pseudonym), 600)]
    s2 = await DrSettlement.get(event_id=event.id, household_id=a2)  # no plugs: refused, not guessed
    assert (s2.status, s2.points, s2.explanation["insufficient"]["reason"]) == (
        SettlementStatus.INSUFFICIENT_DATA, 0, "low_coverage")
    again = await settlement.settle_due(db, now=event.ends_at + 20 * MINUTE)
    assert (again.settled, again.restated) == (0, 0) and len(await _legs(event.id)) == 2


async def test_a_retried_job_and_two_workers_write_each_leg_once(db):
    w, _ = await _setup(db)
    event = await run_event(db, w)
    first, second = await asyncio.gather(settlement.settle_event(db, event.id, event.ends_at + MINUTE),
                                         settlement.settle_event(db, event.id, event.ends_at + MINUTE))
    assert first + second == 2
    worker, results = await _run(db, ("settle_dr_events", (), None), ("settle_dr_events", (), None))
    assert worker.jobs_failed == 0 and all(r["settled"] == 0 for r in results)
    assert await DrSettlement.filter(event_id=event.id).count() == 2 and len(await _legs(event.id)) == 2
    # the baseline choice on demand: the same worker function the monthly cron runs
    worker, [chosen] = await _run(db, ("choose_baselines", ([w.family_a1.household.id],), None))
    assert worker.jobs_failed == 0 and chosen["households"] == 1


async def test_waits_for_late_readings_then_settles_missing_hours_as_no_saving_and_restates(db):
    w, plug = await _setup(db, missing=(17,))
    a1 = w.family_a1.household.id
    event = await run_event(db, w)
    assert await settlement.settle_event(db, event.id, event.ends_at + 5 * timedelta(hours=1)) is None
    pending = await explain(db, await principal_of(w.family_a1.parent), event.id, a1)
    assert (pending.status, pending.provisional, pending.points) == (DisplayStatus.PENDING_DATA, True, 600)

    assert await settlement.settle_event(db, event.id, event.ends_at + 6 * timedelta(hours=1)) == 2
    s1 = await DrSettlement.get(event_id=event.id, household_id=a1)
    assert (round(s1.reduction_kwh, 9), s1.points, s1.explanation["missing_hours"]) == (0.3, 600, [17])
    hour17 = s1.explanation["actual"][1]
    assert (hour17["hour"], hour17["kwh"], hour17["missing"], hour17["reduction_kwh"]) == (17, None, True, 0.0)

    # the late readings arrive: the rollup of 17:00 is written after the settlement was computed
    await write_load(plug.id, EVENT_DAY, EVENT_DAY, lambda d, h: 200.0 if h == 17 else None,
                     now=datetime.now(UTC) + timedelta(seconds=2))
    assert await settlement.restate(db, now=event.ends_at + 7 * timedelta(hours=1)) == 1
    s1 = await DrSettlement.get(event_id=event.id, household_id=a1)
    assert (round(s1.reduction_kwh, 9), s1.points, s1.version, s1.explanation["missing_hours"]) == (0.6, 1_200, 2, [])
    change = await DrSettlementAdjustment.get(settlement_id=s1.id)
    assert (change.version, change.cause, change.points_before, change.points_after) == (
        2, AdjustmentCause.RESTATEMENT, 600, 1_200)
    assert change.previous_explanation["missing_hours"] == [17]
    legs = await _legs(event.id)
    assert [(ref, kind, amount) for ref, kind, _, amount in legs] == [
        (f"dr:{event.id}:{a1}:settle:1", "award", 300), (f"dr:{event.id}:{a1}:settle:2", "award", 300),
        (f"dr:{event.id}:{a1}:v2:1", "adjustment", 300), (f"dr:{event.id}:{a1}:v2:2", "adjustment", 300)]
    assert await settlement.restate(db, now=event.ends_at + 8 * timedelta(hours=1)) == 0
    view = await explain(db, await principal_of(w.family_a1.student), event.id, a1)
    assert (view.status, view.points, [a.points_after for a in view.adjustments]) == (DisplayStatus.ADJUSTED, 1_200,
                                                                                      [1_200])


async def test_forgiven_households_are_measured_but_never_penalised(db):
    w, _ = await _setup(db, event_watts=900.0)  # used more than usual during the event
    a1 = w.family_a1.household.id
    event = await run_event(db, w, short_notice=True)
    assert await settlement.settle_event(db, event.id, event.ends_at + MINUTE) == 2
    s1 = await DrSettlement.get(event_id=event.id, household_id=a1)
    assert (s1.status, round(s1.reduction_kwh, 9), s1.points) == (SettlementStatus.FORGIVEN, -0.8, 0)
    assert await _legs(event.id) == []  # no penalty exists: a negative reduction earns 0, never less
    view = await explain(db, await principal_of(w.operator), event.id, a1)
    assert (view.status, view.forgiven_reason) == (DisplayStatus.FORGIVEN, "short_notice")


async def test_opted_out_households_are_not_settled(db):
    w, _ = await _setup(db)
    a1, a2 = w.family_a1.household.id, w.family_a2.household.id
    event = await run_event(db, w, opt_out=[a2])
    assert await settlement.settle_event(db, event.id, event.ends_at + MINUTE) == 1
    s1 = await DrSettlement.get(event_id=event.id, household_id=a1)
    assert s1.contracted_kwh == 4.0  # the whole target: a1 is the only household taking part
    assert not await DrSettlement.filter(household_id=a2).exists()
    assert EntryKind.AWARD.value in {kind for _, kind, _, _ in await _legs(event.id)}
