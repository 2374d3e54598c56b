"""DR services against the database: creating, permissions, notices, decisions, the clock's
steps, forgiveness, idempotence, restarts and two workers at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from backend.dr import service
from backend.dr.models import DrEvent, DrParticipation, DrScope, DrState, DrSwitch
from backend.errors import NotAllowed, ValidationFailed
from backend.plugs import store
from backend.plugs.commands import queue_switch
from backend.plugs.models import CommandStatus, Plug, PlugCommand
from backend.plugs.readings import Vendor
from backend.plugs.rollup import HourRollup
from tests.builders import build_world, principal_of
from tests.dr.support import NOW, dr_plug, event_for, settle_commands

H = timedelta(hours=1)


async def _create(settings, user, scope, scope_id, start, end, target=5.0, short=False, now=NOW):
    return await service.create_event(settings, await principal_of(user), title="t", scope=scope, scope_id=scope_id,
                                      starts_at=start, ends_at=end, target_kw=target, short_notice=short, now=now)


async def test_who_may_create_events_for_which_scope(db):
    w = await build_world()
    start, end = NOW + 2 * H, NOW + 3 * H
    refused = [
        (w.officer_b, DrScope.MUNICIPALITY, w.muni_a.id), (w.officer_a, DrScope.NATIONAL, None),
        (w.admin_a, DrScope.MUNICIPALITY, w.muni_a.id), (w.admin_a, DrScope.SCHOOL, w.school_b.id),
        (w.teacher_a, DrScope.SCHOOL, w.school_a.id), (w.family_a1.parent, DrScope.MUNICIPALITY, w.muni_a.id),
        (w.family_a1.student, DrScope.SCHOOL, w.school_a.id), (w.officer_a, DrScope.MUNICIPALITY, 2**31 - 1),
    ]
    for user, scope, scope_id in refused:
        with pytest.raises(NotAllowed):
            await _create(db, user, scope, scope_id, start, end)
    assert await DrEvent.all().count() == 0
    await _create(db, w.officer_a, DrScope.MUNICIPALITY, w.muni_a.id, start, end)
    await _create(db, w.admin_a, DrScope.SCHOOL, w.school_a.id, start + 2 * H, end + 2 * H)
    await _create(db, w.operator, DrScope.NATIONAL, None, start + 4 * H, end + 4 * H)
    with pytest.raises(ValidationFailed) as caught:  # an operator may name anything: a missing one is invalid
        await _create(db, w.operator, DrScope.SCHOOL, 2**31 - 1, start + 6 * H, end + 6 * H)
    assert caught.value.field == "scopeId"


async def test_validation_errors_and_overlap_in_scope(db):
    w = await build_world()
    with pytest.raises(ValidationFailed) as caught:
        await _create(db, w.officer_a, DrScope.MUNICIPALITY, w.muni_a.id, NOW + 2 * H, NOW + H)
    assert caught.value.field == "endsAt"
    with pytest.raises(ValidationFailed) as caught:
        await _create(db, w.officer_a, DrScope.MUNICIPALITY, w.muni_a.id, NOW + 2 * H, NOW + 3 * H, target=0)
    assert caught.value.field == "targetKw"
    await _create(db, w.officer_a, DrScope.MUNICIPALITY, w.muni_a.id, NOW + 2 * H, NOW + 3 * H)
    for user, scope, scope_id in ((w.admin_a, DrScope.SCHOOL, w.school_a.id), (w.operator, DrScope.NATIONAL, None),
                                  (w.officer_a, DrScope.MUNICIPALITY, w.muni_a.id)):
        with pytest.raises(ValidationFailed) as caught:
            await _create(db, user, scope, scope_id, NOW + 2.5 * H, NOW + 3.5 * H)
        assert "overlaps" in caught.value.message
    await _create(db, w.officer_b, DrScope.MUNICIPALITY, w.muni_b.id, NOW + 2.5 * H, NOW + 3.5 * H)  # elsewhere
    await _create(db, w.admin_a, DrScope.SCHOOL, w.school_a.id, NOW + 3 * H, NOW + 4 * H)  # right after


async def test_households_in_scope_are_notified_at_once(db):
    w = await build_world()
    muni = await event_for(db, w)
    school = await event_for(db, w, scope=DrScope.SCHOOL, lead=4 * H)
    national = await event_for(db, w, scope=DrScope.NATIONAL, lead=6 * H)
    for event, households in ((muni, [w.family_a1, w.family_a2]), (school, [w.family_a1, w.family_a2]),
                              (national, [w.family_a1, w.family_a2, w.family_b])):
        assert event.state is DrState.NOTIFIED and event.notified_at == NOW
        rows = await DrParticipation.filter(event_id=event.id)
        assert {r.household_id for r in rows} == {f.household.id for f in households}
        assert all(r.notified_at == NOW and r.forgiven_reason is None and not r.opted_out for r in rows)
    # the pollable list: a household sees its events, another municipality's family not A's
    a1 = await service.visible_events(await principal_of(w.family_a1.student), upcoming=True, now=NOW)
    b = await service.visible_events(await principal_of(w.family_b.parent), upcoming=True, now=NOW)
    assert {e.id for e in a1} == {muni.id, school.id, national.id} and [e.id for e in b] == [national.id]
    with pytest.raises(NotAllowed):
        await service.visible_event(await principal_of(w.family_b.parent), muni.id)
    # another city's officer sees only the national event (it covers their city too), not A's
    assert [e.id for e in await service.visible_events(await principal_of(w.officer_b), upcoming=True)] == [national.id]


async def test_parents_opt_out_until_the_deadline_and_back_in_before_the_start(db):
    w = await build_world()
    event = await event_for(db, w)
    a1 = w.family_a1.household.id
    parent = await principal_of(w.family_a1.parent)
    for user, household in ((w.family_a1.student, a1), (w.family_a2.parent, a1), (w.family_b.parent,
                                                                                   w.family_b.household.id)):
        with pytest.raises(NotAllowed):  # a student, another household's parent, a household not taking part
            await service.set_decision(db, await principal_of(user), event.id, household, False, now=NOW)
    row = await service.set_decision(db, parent, event.id, a1, False, now=NOW)
    assert row.opted_out and row.decided_by_id == w.family_a1.parent.id
    row = await service.set_decision(db, parent, event.id, a1, True, now=event.starts_at - timedelta(seconds=1))
    assert not row.opted_out
    with pytest.raises(ValidationFailed):
        await service.set_decision(db, parent, event.id, a1, True, now=event.starts_at)
    await service.set_decision(db, parent, event.id, a1, False, now=event.starts_at + timedelta(minutes=15))
    with pytest.raises(ValidationFailed) as caught:
        await service.set_decision(db, await principal_of(w.family_a2.parent), event.id, w.family_a2.household.id,
                                   False, now=event.starts_at + timedelta(minutes=16))
    assert caught.value.field == "optedIn"


async def _commands(purpose=None):
    query = PlugCommand.all().order_by("id")
    if purpose:
        query = query.filter(purpose=purpose)
    return await query


async def test_the_job_switches_only_consented_plugs_of_opted_in_households_and_restores_them(db):
    w = await build_world()
    a1, a2 = w.family_a1.household.id, w.family_a2.household.id
    tv = await dr_plug(a1, "tv")
    fridge = await dr_plug(a1, "fridge", automation=False)
    await dr_plug(a1, "lamp (already off)", relay_on=False)
    other = await dr_plug(a2, "console")
    event = await event_for(db, w)
    await service.set_decision(db, await principal_of(w.family_a2.parent), event.id, a2, False, now=NOW)

    assert (await service.drive(db, now=event.starts_at - timedelta(seconds=1))).started == 0
    report = await service.drive(db, now=event.starts_at)
    assert (report.started, report.switched_off) == (1, 1)
    offs = await _commands(service.OFF_PURPOSE)
    assert [(c.plug_id, c.switch_on) for c in offs] == [(tv.id, False)]
    again = await service.drive(db, now=event.starts_at + timedelta(seconds=20))  # idempotent
    assert (again.started, again.switched_off, again.restored) == (0, 0, 0)
    assert len(await _commands()) == 1
    await settle_commands(CommandStatus.CONFIRMED)
    await service.drive(db, now=event.starts_at + timedelta(seconds=40))
    part = await DrParticipation.get(event_id=event.id, household_id=a1)
    assert (part.commands_issued, part.commands_failed, part.forgiven_reason) == (1, 0, None)

    report = await service.drive(db, now=event.ends_at)
    assert (report.ended, report.restored) == (1, 1)
    restores = await _commands(service.RESTORE_PURPOSE)
    assert [(c.plug_id, c.switch_on) for c in restores] == [(tv.id, True)]
    assert (await service.drive(db, now=event.ends_at + timedelta(seconds=15))).restored == 0
    await settle_commands(CommandStatus.CONFIRMED)
    assert (await service.drive(db, now=event.ends_at + timedelta(seconds=30))).settled == 1
    event = await DrEvent.get(id=event.id)
    assert event.state is DrState.ENDED and event.settled_at is not None
    assert {p.id: p.relay_on for p in await Plug.filter(id__in=[tv.id, fridge.id, other.id])} == {
        tv.id: True, fridge.id: True, other.id: True}
    assert not await PlugCommand.filter(plug_id__in=[fridge.id, other.id]).exists()
    part = await DrParticipation.get(event_id=event.id, household_id=a1)
    assert (part.commands_issued, part.commands_failed, part.forgiven_reason) == (2, 0, None)


async def test_worker_restart_mid_event_still_ends_it_and_restores_plugs(db):
    w = await build_world()
    plugs = [await dr_plug(w.family_a1.household.id, "tv"), await dr_plug(w.family_a2.household.id, "pc")]
    event = await event_for(db, w)
    await service.drive(db, now=event.starts_at + timedelta(seconds=5))
    assert len(await _commands(service.OFF_PURPOSE)) == 2
    await settle_commands(CommandStatus.CONFIRMED)
    # ... the worker process dies here and nothing runs for the rest of the window ...
    report = await service.drive(db, now=event.ends_at + timedelta(minutes=7))  # a fresh process at start-up
    assert (report.ended, report.restored) == (1, 2)
    assert {(c.plug_id, c.switch_on) for c in await _commands(service.RESTORE_PURPOSE)} == {
        (p.id, True) for p in plugs}


async def test_a_crash_while_switching_leaves_nothing_half_done(db, monkeypatch):
    w = await build_world()
    await dr_plug(w.family_a1.household.id, "tv")
    await dr_plug(w.family_a2.household.id, "pc")
    event = await event_for(db, w)
    calls = 0
    real = service.queue_switch

    async def dying(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("worker killed")
        return await real(*args, **kwargs)

    monkeypatch.setattr(service, "queue_switch", dying)
    with pytest.raises(RuntimeError):
        await service.drive(db, now=event.starts_at)
    assert await PlugCommand.all().count() == 0 and await DrSwitch.all().count() == 0
    assert not await DrParticipation.filter(switched_at__isnull=False).exists()
    monkeypatch.setattr(service, "queue_switch", real)
    report = await service.drive(db, now=event.starts_at + timedelta(seconds=15))
    assert report.switched_off == 2 and await DrSwitch.all().count() == 2


async def test_two_workers_at_once_switch_each_plug_once(db):
    w = await build_world()
    for family in (w.family_a1, w.family_a2):
        for name in ("tv", "pc", "console"):
            await dr_plug(family.household.id, name)
    event = await event_for(db, w)
    reports = await asyncio.gather(*[service.drive(db, now=event.starts_at) for _ in range(3)])
    assert sum(r.started for r in reports) == 1
    offs = await _commands(service.OFF_PURPOSE)
    assert len(offs) == 6 and len({c.plug_id for c in offs}) == 6
    reports = await asyncio.gather(*[service.drive(db, now=event.ends_at) for _ in range(3)])
    assert sum(r.ended for r in reports) == 1
    restores = await _commands(service.RESTORE_PURPOSE)
    assert len(restores) == 6 and len({c.plug_id for c in restores}) == 6


async def test_forgiveness_short_and_late_notice(db):
    w = await build_world()
    short = await event_for(db, w, lead=timedelta(minutes=10), short_notice=True)
    reasons = set(await DrParticipation.filter(event_id=short.id).values_list("forgiven_reason", flat=True))
    assert reasons == {"short_notice"}
    # an event the job notifies only 30 minutes before its start (e.g. no worker ran until then)
    late = await DrEvent.create(title="late", scope=DrScope.MUNICIPALITY, municipality_id=w.muni_b.id,
                                starts_at=NOW + 3 * H, ends_at=NOW + 4 * H, target_kw=1.0, changed_at=NOW)
    await service.drive(db, now=late.starts_at - timedelta(minutes=30))
    rows = await DrParticipation.filter(event_id=late.id)
    assert [r.forgiven_reason for r in rows] == ["late_notice"]


async def test_forgiveness_when_a_switch_or_a_restore_fails(db):
    w = await build_world()
    a1, a2 = w.family_a1.household.id, w.family_a2.household.id
    await dr_plug(a1, "tv")
    await dr_plug(a2, "pc")
    http = await dr_plug(w.family_b.household.id, "bridge", vendor=Vendor.HTTP)  # cannot be switched remotely
    event = await event_for(db, w, scope=DrScope.NATIONAL)
    await service.drive(db, now=event.starts_at)
    assert (await PlugCommand.get(plug_id=http.id)).status is CommandStatus.FAILED
    await PlugCommand.filter(plug__household_id=a1).update(status=CommandStatus.FAILED, error="no answer")
    await settle_commands(CommandStatus.CONFIRMED)
    await service.drive(db, now=event.ends_at)
    await PlugCommand.filter(plug__household_id=a2, purpose=service.RESTORE_PURPOSE).update(
        status=CommandStatus.FAILED)
    await service.drive(db, now=event.ends_at + timedelta(seconds=15))
    reasons = dict(await DrParticipation.filter(event_id=event.id).values_list("household_id", "forgiven_reason"))
    assert reasons == {a1: "switch_failed", a2: "restore_failed", w.family_b.household.id: "switch_failed"}
    part = await DrParticipation.get(event_id=event.id, household_id=a2)
    assert (part.commands_issued, part.commands_failed) == (2, 1)


async def test_cancel_restores_plugs_and_only_creator_or_operator_may(db):
    w = await build_world()
    tv = await dr_plug(w.family_a1.household.id, "tv")
    event = await event_for(db, w)
    await service.drive(db, now=event.starts_at)
    for user in (w.officer_b, w.admin_a, w.family_a1.parent):
        with pytest.raises(NotAllowed):
            await service.cancel_event(db, await principal_of(user), event.id, now=event.starts_at + H / 2)
    cancelled = await service.cancel_event(db, await principal_of(w.officer_a), event.id,
                                           now=event.starts_at + H / 2)
    assert cancelled.state is DrState.CANCELLED
    assert [(c.plug_id, c.switch_on) for c in await _commands(service.RESTORE_PURPOSE)] == [(tv.id, True)]
    with pytest.raises(ValidationFailed):
        await service.cancel_event(db, await principal_of(w.operator), event.id, now=event.starts_at + H / 2)
    assert (await service.drive(db, now=event.ends_at)).restored == 0


async def test_opting_out_mid_event_restores_at_once_and_manual_switches_are_respected(db):
    w = await build_world()
    a1, a2 = w.family_a1.household.id, w.family_a2.household.id
    tv = await dr_plug(a1, "tv")
    pc = await dr_plug(a2, "pc")
    event = await event_for(db, w)
    await service.drive(db, now=event.starts_at)
    await service.set_decision(db, await principal_of(w.family_a1.parent), event.id, a1, False,
                               now=event.starts_at + timedelta(minutes=5))
    assert [(c.plug_id, c.switch_on) for c in await _commands(service.RESTORE_PURPOSE)] == [(tv.id, True)]
    await queue_switch(pc, False)  # parent_a2 switches the pc off by hand during the event: it stays off
    await service.drive(db, now=event.ends_at)
    assert [c.plug_id for c in await _commands(service.RESTORE_PURPOSE)] == [tv.id]
    assert (await DrSwitch.get(plug_id=pc.id)).restore_skipped


async def test_plug_dr_automation_is_the_parents_choice(db):
    w = await build_world()
    plug = await dr_plug(w.family_a1.household.id, "tv", automation=False)
    http = await dr_plug(w.family_a1.household.id, "http", automation=False, vendor=Vendor.HTTP)
    for user in (w.family_a1.student, w.family_a2.parent, w.operator):
        with pytest.raises(NotAllowed):
            await service.set_plug_dr_automation(await principal_of(user), plug.id, True)
    with pytest.raises(ValidationFailed):
        await service.set_plug_dr_automation(await principal_of(w.family_a1.parent), http.id, True)
    updated = await service.set_plug_dr_automation(await principal_of(w.family_a1.parent), plug.id, True)
    assert updated.dr_automation and (await Plug.get(id=plug.id)).dr_automation


async def test_live_view_reduction_against_the_same_hour_of_earlier_days(db):
    w = await build_world()
    now = datetime.now(UTC).replace(microsecond=0)
    hour = now.replace(minute=0, second=0)
    conn = Tortoise.get_connection("default")
    await store.ensure_partitions(conn, now.date(), days_back=12)
    a1, a2 = w.family_a1.household.id, w.family_a2.household.id
    tv, pc, new = await dr_plug(a1, "tv"), await dr_plug(a2, "pc"), await dr_plug(a2, "new")
    async with in_transaction() as tx:
        for plug, watts in ((tv, 120.0), (pc, 200.0)):
            days = [hour - timedelta(days=k) for k in range(1, 5)]
            await store.write_hours(tx, plug.id, [HourRollup(d, watts, 3600.0, 60, watts, watts, 0, 0) for d in days],
                                    now)
        await store.write_hours(tx, new.id, [HourRollup(hour - timedelta(days=1), 50.0, 3600.0, 60, 50, 50, 0, 0)],
                                now)
        await store.insert_readings(tx, [store.StoredRow(tv.id, now - timedelta(minutes=1), 0.0, None, now),
                                         store.StoredRow(pc.id, now - timedelta(minutes=1), 150.0, None, now),
                                         store.StoredRow(new.id, now - timedelta(minutes=1), 0.0, None, now)])
    event = await event_for(db, w, now=now - 3 * H, lead=2.5 * H, length=H, target_kw=0.5)
    await service.drive(db, now=now)
    view = await service.live_view(db, await DrEvent.get(id=event.id), now=now)
    # tv 120 -> 0 W, pc 200 -> 150 W: 170 W; the new plug has one day of history only: skipped
    assert (view.reduction_kw, view.plugs_counted, view.plugs_skipped) == (0.17, 2, 1)
    assert (view.target_kw, view.households_participating, view.plugs_switched_off) == (0.5, 2, 3)
    again = await service.live_view(db, await DrEvent.get(id=event.id), now=now + timedelta(seconds=1))
    assert again == view  # the stored snapshot, not a new computation
