"""The explanation of a settlement ("why did I get this?"), disputes, team pooling and the
per-household baseline choice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.dr import choice, disputes, settlement
from backend.dr.explain import DisplayStatus, explain
from backend.dr.models import (
    BaselineChoice,
    DisputeStatus,
    DrSettlement,
    SettlementStatus,
)
from backend.dr.pooling_service import team_delivery, visible_team_delivery
from backend.errors import AlreadyExists, NotAllowed, ValidationFailed
from backend.ledger.models import LedgerEntry
from backend.savings.methods import Method
from tests.builders import _family, build_world, gql, principal_of, sign_in
from tests.dr.settlement_support import (
    EARLIER_EVENT_DAY,
    EVENT_DAY,
    FIRST_DAY,
    at,
    flat,
    run_event,
    write_load,
)
from tests.dr.support import dr_plug

MINUTE = timedelta(minutes=1)
HOLIDAYS = {date(2031, 6, 6), date(2031, 5, 28)}

SETTLEMENT = """
query($e: ID!, $h: ID!) { drSettlement(eventId: $e, householdId: $h) {
  __typename
  ... on Error { message }
  ... on DrSettlement { status provisional method requestedMethod dayType eventDay baselineKwh actualKwh reductionKwh
    contractedKwh points pointsReason rulesYear recipients version missingHours usedDays earlierEventDays
    excludedDays { day reason } droppedDays { day kwh }
    hours { hour baselineKwh unadjustedKwh actualKwh coverage missing reductionKwh kept { day kwh } dropped { day kwh } }
    readings { day hour kwh coverage } adjustment { appliedKwhPerHour } warnings { code }
    adjustments { version cause pointsDelta } disputes { id status reason } }
} }"""


def _varied(day: date, hour: int) -> float:
    """A load that differs from day to day, so the trimmed mean keeps and drops visibly."""
    if day == EVENT_DAY and hour in (16, 17):
        return 100.0
    return 400.0 + 20.0 * (day.toordinal() % 7) + hour


def _expected_used_days() -> list[date]:
    out, day = [], EVENT_DAY
    while len(out) < 10:
        day -= timedelta(days=1)
        if day.weekday() < 5 and day not in HOLIDAYS and day != EARLIER_EVENT_DAY:
            out.append(day)
    return sorted(out)


async def test_the_explanation_names_the_days_readings_and_figures_behind_the_points(client, db):
    w = await build_world()
    a1 = w.family_a1.household.id
    plug = await dr_plug(a1, "tv")
    await write_load(plug.id, FIRST_DAY, EVENT_DAY, _varied)
    earlier = await run_event(db, w, EARLIER_EVENT_DAY, 16, 1)
    event = await run_event(db, w)
    report = await settlement.settle_due(db, now=event.ends_at + MINUTE)
    assert report.settled == 4 and await DrSettlement.filter(event_id=earlier.id).count() == 2

    token = await sign_in(client, w.family_a1.parent.email)
    body = await gql(client, SETTLEMENT, {"e": str(event.id), "h": str(a1)}, token)
    s = body["data"]["drSettlement"]
    used = _expected_used_days()
    assert s["usedDays"] == [d.isoformat() for d in used] and s["earlierEventDays"] == [EARLIER_EVENT_DAY.isoformat()]
    excluded = {x["day"]: x["reason"] for x in s["excludedDays"]}
    assert excluded["2031-06-06"] == "holiday" and excluded["2031-05-28"] == "holiday"
    assert excluded[EARLIER_EVENT_DAY.isoformat()] == "event_day" and excluded["2031-06-07"] == "weekend"
    assert set(excluded) | set(s["usedDays"]) == {(used[0] + timedelta(days=i)).isoformat()
                                                  for i in range((EVENT_DAY - used[0]).days)}
    assert (s["status"], s["provisional"], s["method"], s["dayType"], s["version"]) == (
        "SETTLED", False, "kpx_mid_6_10", "working", 1)
    assert len(s["readings"]) == 20 and {r["coverage"] for r in s["readings"]} == {1.0}
    total = 0.0
    for hour in s["hours"]:
        assert len(hour["kept"]) == 6 and len(hour["dropped"]) == 4 and not hour["missing"]
        kept = sorted(v["kwh"] for v in hour["kept"])
        assert kept == sorted(v["kwh"] for v in hour["kept"] + hour["dropped"])[2:8]  # 2 lowest, 2 highest dropped
        assert hour["baselineKwh"] == pytest.approx(sum(kept) / 6)
        readings = {r["day"]: r["kwh"] for r in s["readings"] if r["hour"] == hour["hour"]}
        assert {v["day"]: v["kwh"] for v in hour["kept"] + hour["dropped"]} == readings
        assert (hour["actualKwh"], hour["coverage"]) == (0.1, 1.0)
        assert hour["reductionKwh"] == pytest.approx(hour["baselineKwh"] - 0.1)
        total += hour["reductionKwh"]
    assert s["reductionKwh"] == pytest.approx(total) and s["points"] == int(total * 2000 + 1e-9)
    assert (s["rulesYear"], s["recipients"], s["adjustment"], s["missingHours"]) == (2026, 2, None, [])

    other = await gql(client, SETTLEMENT, {"e": str(event.id), "h": str(a1)},
                      await sign_in(client, w.family_a2.parent.email))
    assert other["data"]["drSettlement"]["__typename"] == "NotAllowed"
    creator = await gql(client, SETTLEMENT, {"e": str(event.id), "h": str(a1)},
                        await sign_in(client, w.officer_a.email))
    assert creator["data"]["drSettlement"]["points"] == s["points"]


async def test_disputes_typed_errors_acceptance_as_an_adjustment_and_rejection(db):
    w = await build_world()
    a1, a2 = w.family_a1.household.id, w.family_a2.household.id
    plug = await dr_plug(a1, "tv")
    await write_load(plug.id, FIRST_DAY, EVENT_DAY, flat(500.0, event=(EVENT_DAY, (16, 17), 200.0)))
    event = await run_event(db, w)
    parent = await principal_of(w.family_a1.parent)
    reason = "The washing machine was broken that week, our baseline is too low."
    with pytest.raises(ValidationFailed) as caught:  # not settled yet
        await disputes.raise_dispute(parent, event.id, a1, reason)
    assert caught.value.field == "eventId"
    await settlement.settle_event(db, event.id, event.ends_at + MINUTE)
    for user in (w.family_a2.parent, w.family_a1.student, w.operator):
        with pytest.raises(NotAllowed):  # another household's settlement; a student; operators decide, not dispute
            await disputes.raise_dispute(await principal_of(user), event.id, a1, reason)
    with pytest.raises(ValidationFailed) as caught:
        await disputes.raise_dispute(parent, event.id, a1, "too low")
    assert caught.value.field == "reason"
    dispute = await disputes.raise_dispute(parent, event.id, a1, reason)
    with pytest.raises(AlreadyExists):
        await disputes.raise_dispute(parent, event.id, a1, reason)
    assert (await explain(db, parent, event.id, a1)).status is DisplayStatus.DISPUTED

    with pytest.raises(NotAllowed):
        await disputes.resolve_dispute(db, await principal_of(w.officer_a), dispute.id, accept=True, reason="ok",
                                       adjusted_kwh=1.0)
    operator = await principal_of(w.operator)
    with pytest.raises(ValidationFailed) as caught:
        await disputes.resolve_dispute(db, operator, dispute.id, accept=True, reason="ok")
    assert caught.value.field == "adjustedKwh"
    resolved = await disputes.resolve_dispute(db, operator, dispute.id, accept=True, adjusted_kwh=1.0,
                                              reason="Meter photo shows the machine was out of order.")
    assert resolved.status is DisputeStatus.ACCEPTED and resolved.open_key is None
    with pytest.raises(AlreadyExists):
        await disputes.resolve_dispute(db, operator, dispute.id, accept=False, reason="again")
    s1 = await DrSettlement.get(event_id=event.id, household_id=a1)
    assert (s1.points, s1.reduction_kwh, s1.version) == (2_000, 1.0, 2)
    adjustments = await LedgerEntry.filter(ref__startswith=f"dr:{event.id}:{a1}:v2").order_by("ref")
    assert [(e.kind, e.amount) for e in adjustments] == [("adjustment", 400), ("adjustment", 400)]
    view = await explain(db, parent, event.id, a1)
    assert view.status is DisplayStatus.ADJUSTED and [d.status for d in view.disputes] == [DisputeStatus.ACCEPTED]
    officer_view = await explain(db, await principal_of(w.officer_a), event.id, a1)
    assert officer_view.disputes == []  # a family's words are for the household and operators
    # the operator's figure stands: new readings no longer restate it
    await write_load(plug.id, EVENT_DAY, EVENT_DAY, flat(0.0))
    assert await settlement.restate(db, now=event.ends_at + timedelta(hours=2)) == 0

    parent_a2 = await principal_of(w.family_a2.parent)  # insufficient data can be disputed too
    second = await disputes.raise_dispute(parent_a2, event.id, a2, "We have a plug, it was just offline that month.")
    rejected = await disputes.resolve_dispute(db, operator, second.id, accept=False, reason="No readings at all.")
    assert rejected.status is DisputeStatus.REJECTED and rejected.adjusted_kwh is None
    assert not await LedgerEntry.filter(ref__startswith=f"dr:{event.id}:{a2}:").exists()
    assert (await explain(db, parent_a2, event.id, a2)).status is DisplayStatus.INSUFFICIENT_DATA
    await disputes.raise_dispute(parent_a2, event.id, a2, "Here is a photo of the plug's own energy counter.")


async def test_team_pooling_raises_the_class_delivery_rate_from_87_40_to_100_percent(db):
    """The KT paper's example through the service: 4 households of class A contracted 25 kWh
    each (a 100 kW, one-hour event); they deliver 25, 20.4, 17 and 40 kWh."""
    w = await build_world()
    a3 = await _family("a3", w.muni_a, w.class_a)
    a4 = await _family("a4", w.muni_a, w.class_a)
    families = [w.family_a1, w.family_a2, a3, a4]
    for family, actual in zip(families, (25_000.0, 29_600.0, 33_000.0, 10_000.0), strict=True):
        plug = await dr_plug(family.household.id, "heater")
        await write_load(plug.id, FIRST_DAY, EVENT_DAY, flat(50_000.0, event=(EVENT_DAY, (16,), actual)))
    event = await run_event(db, w, hours=1, target_kw=100.0)
    assert await settlement.settle_event(db, event.id, event.ends_at + MINUTE) == 4
    team = await team_delivery(event.id, w.class_a.id)
    assert team.households_pooled == 4 and team.result is not None
    assert [m.contracted_kwh for m in team.result.members] == [25.0] * 4
    assert team.result.rate_before == pytest.approx(0.874) and team.result.rate_after == pytest.approx(1.0)
    assert team.result.transferred_kwh == pytest.approx(12.6)
    points = {s.household_id: s.points for s in await DrSettlement.filter(event_id=event.id)}
    assert points[a4.household.id] == 80_000  # pooling moves delivery, not points: 40 kWh are paid to who saved them

    for user in (w.teacher_a, w.admin_a, w.operator):
        assert (await visible_team_delivery(await principal_of(user), event.id, w.class_a.id, 5)).households_pooled == 4
    for user in (w.teacher_b, w.officer_a, w.family_a1.parent, w.family_b.parent):
        with pytest.raises(NotAllowed):  # households: fewer than 5 counted
            await visible_team_delivery(await principal_of(user), event.id, w.class_a.id, 5)
    seen = await visible_team_delivery(await principal_of(w.family_a1.student), event.id, w.class_a.id, 4)
    assert seen.result is not None and seen.result.rate_after == pytest.approx(1.0)


def _noisy(day: date, hour: int) -> float:
    x = ((day.toordinal() * 24 + hour) * 2_654_435_761) % 1_000
    return 300.0 + 0.4 * x + (150.0 if 17 <= hour < 21 else 0.0)


async def test_the_baseline_choice_is_recorded_and_used_by_settlement(db):
    w = await build_world()
    a1, a2 = w.family_a1.household.id, w.family_a2.household.id
    plug = await dr_plug(a1, "tv")
    await write_load(plug.id, EVENT_DAY - timedelta(days=110), EVENT_DAY, _noisy)
    report = await choice.evaluate(db, [a1, a2], now=at(EVENT_DAY, 0))
    assert (report.households, report.chosen, report.insufficient) == (2, 1, 1)
    chosen = await BaselineChoice.get(household_id=a1)
    assert chosen.method in {m.value for m in Method} and chosen.insufficient_reason is None
    assert chosen.days_used >= 30 and set(chosen.scores) == {m.value for m in Method}
    assert all(v["rrmse"] is not None for v in chosen.scores.values())
    fallback = await BaselineChoice.get(household_id=a2)
    assert (fallback.method, fallback.days_used) == ("kpx_mid_6_10", 0) and "needed" in fallback.insufficient_reason

    event = await run_event(db, w)
    await settlement.settle_event(db, event.id, event.ends_at + MINUTE)
    s1 = await DrSettlement.get(event_id=event.id, household_id=a1)
    assert s1.explanation["requested_method"] == chosen.method and s1.status is SettlementStatus.SETTLED
    assert s1.explanation["method_choice"].startswith("chosen for this household")

