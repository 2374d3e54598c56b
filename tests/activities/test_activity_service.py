"""Logging activities through the service: idempotency, dates, caps, evidence, points."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from backend.activities.models import Activity, ActivityStatus
from backend.activities.service import decide_activity, log_activity
from backend.errors import (
    IdempotencyConflict,
    LimitReached,
    NotAllowed,
    ValidationFailed,
)
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import LedgerEntry
from backend.ledger.service import balances_of
from tests.builders import build_world, principal_of, start_programmes

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
TODAY = date(2026, 11, 21)
GAMING = {"device": "pc", "hours": "2"}  # 300 W x 2 h = 0.6 kWh deemed -> 300 points


@pytest.fixture
async def world(db):
    w = await build_world()
    await start_programmes(w, year=2026)
    return w


async def _log(settings, user, key="key-00000001", type_key="gaming_reduced", params=GAMING, on=TODAY):
    return await log_activity(await principal_of(user), settings, key, type_key, on, params, now=NOW)


async def test_an_activity_awards_its_deemed_points_once(world, db):
    student = world.family_a2.student
    first = await _log(db, student)
    assert (first.replayed, first.activity.status, first.activity.points) == (False, ActivityStatus.ACCEPTED, 300)
    again = await _log(db, student)
    assert again.replayed and again.activity.id == first.activity.id
    assert await balances_of(student.pseudonym) == {(Asset.POINTS, ""): 300}
    entry = await LedgerEntry.get(ref=f"activity:{first.activity.id}:award")
    assert (entry.kind, entry.account, entry.amount) == (EntryKind.AWARD, student.pseudonym, 300)


async def test_same_key_with_another_report_is_a_conflict(world, db):
    await _log(db, world.family_a2.student)
    with pytest.raises(IdempotencyConflict):
        await _log(db, world.family_a2.student, params={"device": "pc", "hours": "3"})
    assert await Activity.all().count() == 1


async def test_concurrent_retries_of_one_report_count_once(world, db):
    results = await asyncio.gather(*(_log(db, world.family_a2.student) for _ in range(8)))
    assert sum(not r.replayed for r in results) == 1
    assert await Activity.all().count() == 1
    assert await LedgerEntry.all().count() == 1


@pytest.mark.parametrize(("on", "field"), [(date(2026, 11, 22), "occurredOn"), (date(2026, 10, 1), "occurredOn")])
async def test_future_and_too_old_dates_are_refused(world, db, on, field):
    with pytest.raises(ValidationFailed) as exc:
        await _log(db, world.family_a2.student, on=on)
    assert exc.value.field == field


async def test_activity_before_the_programme_is_refused(world, db):
    programme = await world.muni_a.programmes.all().first()
    programme.starts_on = date(2026, 11, 21)
    await programme.save()
    with pytest.raises(ValidationFailed) as exc:
        await _log(db, world.family_a2.parent, on=date(2026, 11, 20))
    assert "starts on 2026-11-21" in exc.value.message
    assert await LedgerEntry.all().count() == 0


@pytest.mark.parametrize("params", [
    {"device": "pc", "hours": "-1"}, {"device": "pc", "hours": "5"}, {"device": "pc", "hours": "NaN"},
    {"device": "pc", "hours": "1e999"}, {"device": "toaster", "hours": "1"}, {"device": "pc"}, "not an object",
])
async def test_bad_parameters_are_refused_and_nothing_is_written(world, db, params):
    with pytest.raises(ValidationFailed):
        await _log(db, world.family_a2.student, params=params)
    assert await Activity.all().count() == 0 and await LedgerEntry.all().count() == 0


async def test_over_cap_reports_are_refused_even_when_sent_at_once(world, db):
    # gaming_reduced: at most once a day
    results = await asyncio.gather(
        *(_log(db, world.family_a2.student, key=f"key-cap-{i:04d}") for i in range(5)), return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, LimitReached) and r.limit == "daily_cap" for r in results if isinstance(r, Exception))
    assert await Activity.all().count() == 1


async def test_staff_cannot_report(world, db):
    with pytest.raises(NotAllowed):
        await _log(db, world.teacher_a)


async def test_photo_activities_wait_for_evidence_then_award_or_reverse(world, db):
    student = world.family_a2.student
    logged = await _log(db, student, type_key="waste_found", params={"waste_kind": "empty_room_lights"})
    assert logged.activity.status is ActivityStatus.PENDING_EVIDENCE and logged.activity.points > 0
    assert await balances_of(student.pseudonym) == {}
    accepted = await decide_activity(logged.activity.id, True, "teacher approved", now=NOW)
    await decide_activity(logged.activity.id, True, "approved twice", now=NOW)
    assert accepted.status is ActivityStatus.ACCEPTED
    assert await balances_of(student.pseudonym) == {(Asset.POINTS, ""): logged.activity.points}
    await decide_activity(logged.activity.id, False, "duplicate photo found later", now=NOW)
    assert await balances_of(student.pseudonym) == {(Asset.POINTS, ""): 0}
    kinds = await LedgerEntry.all().order_by("seq").values_list("kind", flat=True)
    assert kinds == [EntryKind.AWARD, EntryKind.REVERSAL]
