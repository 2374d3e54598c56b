"""DR event services: create, cancel, decide, see; the clock-driven steps the worker runs.

Every step is idempotent and guarded by a conditional update (``state = old``) so two workers
never both perform a transition; per-household switching and restoring happen in one
transaction per participation that first locks the row (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite has a single writer). A worker that dies half-way leaves the remaining
rows unmarked, and the next run finishes them — so an event always ends and every plug it
switched off is switched back on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from backend.accounts.models import Role, User
from backend.accounts.principal import Principal
from backend.dr import live, rules
from backend.dr.models import DrEvent, DrParticipation, DrScope, DrState, DrSwitch
from backend.errors import NotAllowed, ValidationFailed
from backend.households.models import Household
from backend.municipalities.models import Municipality
from backend.plugs import service as plug_service
from backend.plugs import store
from backend.plugs.commands import UNFINISHED, queue_switch, switchable
from backend.plugs.models import CommandStatus, Plug, PlugCommand
from backend.schools.models import School
from backend.settings import Settings

OFF_PURPOSE = "dr_event"
RESTORE_PURPOSE = "dr_restore"
LIVE_STATES = (DrState.SCHEDULED, DrState.NOTIFIED, DrState.RUNNING)
OVER_STATES = (DrState.ENDED, DrState.CANCELLED)
SETTLE_AFTER = timedelta(hours=1)  # unfinished DR commands count as failed this long after the end
BATCH = 500
NOT_ALLOWED_EVENT = "You cannot see this DR event."


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _wall() -> datetime:
    """``changed_at`` is a change-feed cursor for subscriptions: always the wall clock, even
    when a step runs with another ``now`` (tests, catching up)."""
    return datetime.now(UTC)


def limits(settings: Settings) -> rules.Limits:
    return rules.Limits(min_notice=timedelta(minutes=settings.dr_min_notice_minutes),
                        max_duration=timedelta(minutes=settings.dr_max_duration_minutes))


def grace(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.dr_opt_out_grace_minutes)


def area_of(event: DrEvent) -> rules.Area:
    return rules.Area(event.scope, event.municipality_id, event.school_id)


def window_of(event: DrEvent) -> rules.Window:
    return rules.Window(event.starts_at, event.ends_at)


# -- who may do what ----------------------------------------------------------------------------
def can_create(principal: Principal, area: rules.Area) -> bool:
    """National: operators. A municipality: its officers. A school: its school admins."""
    if principal.is_operator:
        return True
    if area.scope is DrScope.MUNICIPALITY:
        return principal.role is Role.OFFICER and area.municipality_id == principal.municipality_id
    if area.scope is DrScope.SCHOOL:
        return principal.role is Role.SCHOOL_ADMIN and area.school_id == principal.school_id
    return False


def can_manage(principal: Principal, event: DrEvent) -> bool:
    """Operators, the creator, and the staff who could have created it (its officers or the
    school's admins) see everything of an event; only the creator and operators cancel it."""
    return (principal.is_operator or principal.user_id == event.created_by_id
            or can_create(principal, area_of(event)))


def can_cancel(principal: Principal, event: DrEvent) -> bool:
    return principal.is_operator or principal.user_id == event.created_by_id


async def _participation_of(principal: Principal, event_id: int) -> DrParticipation | None:
    if principal.household_id is None or principal.role not in (Role.PARENT, Role.STUDENT):
        return None
    return await DrParticipation.get_or_none(event_id=event_id, household_id=principal.household_id)


async def home_municipality(principal: Principal) -> int | None:
    """The municipality an officer serves, or the one a school's staff member's school lies in."""
    if principal.role is Role.OFFICER:
        return principal.municipality_id
    if principal.is_school_staff and principal.school_id is not None:
        school = await School.get_or_none(id=principal.school_id)
        return school.municipality_id if school else None
    return None


def can_see_as_staff(principal: Principal, event: DrEvent, municipality_id: int | None) -> bool:
    """Staff see the events that reach their area: national ones, their municipality's (officers:
    its schools' too), and their own school's; the events they manage in any case."""
    if can_manage(principal, event):
        return True
    if municipality_id is None or not (principal.role is Role.OFFICER or principal.is_school_staff):
        return False
    if event.scope is DrScope.NATIONAL:
        return True
    if event.municipality_id != municipality_id:
        return False
    return event.scope is DrScope.MUNICIPALITY or principal.role is Role.OFFICER or (
        event.school_id == principal.school_id)


async def visible_event(principal: Principal, event_id: int) -> DrEvent:
    event = await DrEvent.get_or_none(id=event_id)
    if event is None:
        raise NotAllowed(NOT_ALLOWED_EVENT)
    if can_manage(principal, event) or await _participation_of(principal, event_id) is not None:
        return event
    if can_see_as_staff(principal, event, await home_municipality(principal)):
        return event
    raise NotAllowed(NOT_ALLOWED_EVENT)


def _visible_filter(principal: Principal, municipality_id: int | None) -> Q | None:
    """The events a principal may see, as a filter (None: none at all)."""
    if principal.is_operator:
        return Q()
    if principal.role in (Role.PARENT, Role.STUDENT):
        if principal.household_id is None:
            return None
        return Q(participations__household_id=principal.household_id)
    mine = Q(created_by_id=principal.user_id)
    if municipality_id is None:
        return mine
    area = Q(scope=DrScope.NATIONAL) | Q(scope=DrScope.MUNICIPALITY, municipality_id=municipality_id)
    if principal.role is Role.OFFICER:
        return mine | area | Q(scope=DrScope.SCHOOL, municipality_id=municipality_id)
    if principal.is_school_staff:
        return mine | area | Q(scope=DrScope.SCHOOL, school_id=principal.school_id)
    return mine


async def visible_events(principal: Principal, *, upcoming: bool, now: datetime | None = None,
                         changed_after: datetime | None = None, limit: int = 100) -> list[DrEvent]:
    """Events the principal may see, newest start first; ``upcoming``: not over yet."""
    where = _visible_filter(principal, await home_municipality(principal))
    if where is None:
        return []
    query = DrEvent.filter(where)
    if upcoming:
        query = query.filter(ends_at__gt=_now(now), state__in=LIVE_STATES)
    if changed_after is not None:
        query = query.filter(changed_at__gt=changed_after)
        return await query.distinct().order_by("changed_at", "id").limit(limit)
    return await query.distinct().order_by("-starts_at", "-id").limit(limit)


# -- creating and cancelling --------------------------------------------------------------------
async def _area(principal: Principal, scope: DrScope, scope_id: int | None) -> rules.Area:
    if scope is DrScope.NATIONAL:
        if not can_create(principal, rules.Area(scope)):
            raise NotAllowed("Only operators create national DR events.")
        if scope_id is not None:
            raise ValidationFailed("scopeId", "A national event has no scope id.")
        return rules.Area(scope)
    if scope_id is None:
        raise ValidationFailed("scopeId", f"Name the {scope.value} of the event.")
    if scope is DrScope.MUNICIPALITY:
        found = await Municipality.get_or_none(id=scope_id)
        area = rules.Area(scope, scope_id)
    else:
        school = await School.get_or_none(id=scope_id)
        found = school
        area = rules.Area(scope, school.municipality_id if school else None, scope_id)
    if not can_create(principal, area):
        raise NotAllowed("You cannot create DR events for this scope.")
    if found is None:
        raise ValidationFailed("scopeId", f"There is no such {scope.value}.")
    return area


async def _lock_creation(conn) -> None:
    """Serialise event creation on PostgreSQL so two overlapping events cannot both pass the
    overlap check (SQLite has a single writer)."""
    if store.is_postgres(conn):
        await conn.execute_query("SELECT pg_advisory_xact_lock(7301)")


async def create_event(settings: Settings, principal: Principal, *, title: str, scope: DrScope,
                       scope_id: int | None, starts_at: datetime, ends_at: datetime, target_kw: float,
                       short_notice: bool = False, now: datetime | None = None) -> DrEvent:
    now = _now(now)
    area = await _area(principal, scope, scope_id)
    window = rules.Window(starts_at.astimezone(UTC) if starts_at.utcoffset() is not None else starts_at,
                          ends_at.astimezone(UTC) if ends_at.utcoffset() is not None else ends_at)
    cleaned = rules.validate_new_event(title, window, target_kw, short_notice, now, limits(settings))
    async with in_transaction() as conn:
        await _lock_creation(conn)
        others = await DrEvent.filter(state__in=LIVE_STATES, starts_at__lt=window.ends_at,
                                      ends_at__gt=window.starts_at).using_db(conn)
        clash = next((e for e in others if rules.conflicts(area, window, [(area_of(e), window_of(e))])), None)
        if clash is not None:
            raise ValidationFailed("startsAt", f"DR event {clash.id} ('{clash.title}') overlaps this one in time "
                                               "and place; it is listed in drEvents.")
        event = await DrEvent.create(
            title=cleaned, scope=scope, municipality_id=area.municipality_id, school_id=area.school_id,
            starts_at=window.starts_at, ends_at=window.ends_at, target_kw=float(target_kw),
            short_notice=short_notice, created_by_id=principal.user_id, changed_at=_wall(), using_db=conn)
    await notify(settings, event.id, now=now)
    return await DrEvent.get(id=event.id)


async def cancel_event(settings: Settings, principal: Principal, event_id: int,
                       now: datetime | None = None) -> DrEvent:
    now = _now(now)
    event = await visible_event(principal, event_id)
    if not can_cancel(principal, event):
        raise NotAllowed("Only the creator of this event or an operator can cancel it.")
    if event.state in OVER_STATES or now >= event.ends_at:
        raise ValidationFailed("eventId", "This event is already over.")
    updated = await DrEvent.filter(id=event.id, state__in=LIVE_STATES).update(
        state=DrState.CANCELLED, cancelled_at=now, changed_at=_wall())
    if updated != 1:
        raise ValidationFailed("eventId", "This event is already over.")
    await restore_pending(event.id, now=now)
    return await DrEvent.get(id=event.id)


# -- households deciding ------------------------------------------------------------------------
async def set_decision(settings: Settings, principal: Principal, event_id: int, household_id: int,
                       opted_in: bool, now: datetime | None = None) -> DrParticipation:
    """A parent opts the household out (until 15 minutes into the event) or back in (before
    the start). Opting out of a running event switches its plugs back on at once."""
    now = _now(now)
    if not (principal.role is Role.PARENT and principal.household_id == household_id):
        raise NotAllowed("Only a parent of this household can decide about DR events.")
    participation = await DrParticipation.get_or_none(event_id=event_id, household_id=household_id)
    if participation is None:
        raise NotAllowed(NOT_ALLOWED_EVENT)
    event = await DrEvent.get(id=event_id)
    rules.check_decision(not opted_in, event.state, event.starts_at, now, grace(settings))
    if participation.opted_out != (not opted_in):
        participation.opted_out = not opted_in
        participation.opted_out_at = now if not opted_in else None
        participation.decided_by_id = principal.user_id
        await participation.save(update_fields=["opted_out", "opted_out_at", "decided_by_id"])
        await DrEvent.filter(id=event_id).update(changed_at=_wall())
        if not opted_in and participation.switched_at is not None:
            await _restore_participation(participation.id, now)
    return await DrParticipation.get(id=participation.id)


# -- the clock's steps --------------------------------------------------------------------------
async def households_in(event: DrEvent) -> list[int]:
    """Households in the event's scope: all, a municipality's, or those with a student of a school."""
    if event.scope is DrScope.NATIONAL:
        return list(await Household.all().order_by("id").values_list("id", flat=True))
    if event.scope is DrScope.MUNICIPALITY:
        return list(await Household.filter(municipality_id=event.municipality_id).order_by("id")
                    .values_list("id", flat=True))
    ids = await User.filter(role=Role.STUDENT, school_id=event.school_id, household_id__isnull=False) \
        .distinct().values_list("household_id", flat=True)
    return sorted(set(ids))


async def _busy_households(event: DrEvent) -> set[int]:
    """Households already taking part in another live event at the same time (a school's
    family may live in another municipality): they join only the first."""
    rows = await DrParticipation.filter(
        event__state__in=(*LIVE_STATES,), event__starts_at__lt=event.ends_at, event__ends_at__gt=event.starts_at,
    ).exclude(event_id=event.id).values_list("household_id", flat=True)
    return set(rows)


async def notify(settings: Settings, event_id: int, now: datetime | None = None) -> int:
    """Write a participation row (the notice) for every household in scope; idempotent.
    Returns how many were written."""
    now = _now(now)
    event = await DrEvent.get(id=event_id)
    if event.state is not DrState.SCHEDULED:
        return 0
    busy = await _busy_households(event)
    have = set(await DrParticipation.filter(event_id=event.id).values_list("household_id", flat=True))
    todo = [h for h in await households_in(event) if h not in busy and h not in have]
    reason = rules.notice_forgiveness(event.short_notice, event.starts_at, now, limits(settings).min_notice)
    for start in range(0, len(todo), BATCH):
        await DrParticipation.bulk_create(
            [DrParticipation(event_id=event.id, household_id=h, notified_at=now,
                             forgiven_reason=reason.value if reason else None, forgiven_at=now if reason else None)
             for h in todo[start:start + BATCH]], ignore_conflicts=True)
    await DrEvent.filter(id=event.id, state=DrState.SCHEDULED).update(
        state=DrState.NOTIFIED, notified_at=now, changed_at=_wall())
    return len(todo)


async def start(event_id: int, now: datetime | None = None) -> tuple[bool, int]:
    """NOTIFIED → RUNNING (one worker wins), then switch the opted-in households' DR plugs off.
    Returns (this call made the transition, commands queued)."""
    now = _now(now)
    won = await DrEvent.filter(id=event_id, state=DrState.NOTIFIED).update(
        state=DrState.RUNNING, started_at=now, changed_at=_wall())
    return won == 1, await switch_off_pending(event_id, now=now)


async def end(event_id: int, now: datetime | None = None) -> tuple[bool, int]:
    """RUNNING → ENDED (one worker wins), then restore every plug the event switched off.
    Returns (this call made the transition, commands queued)."""
    now = _now(now)
    won = await DrEvent.filter(id=event_id, state=DrState.RUNNING).update(
        state=DrState.ENDED, ended_at=now, changed_at=_wall())
    return won == 1, await restore_pending(event_id, now=now)


async def _claim(conn, query) -> list[DrParticipation]:
    """Lock a batch of participations, skipping rows another worker holds (PostgreSQL)."""
    query = query.order_by("id").limit(BATCH).using_db(conn)
    if store.is_postgres(conn):
        query = query.select_for_update(skip_locked=True)
    return await query


async def switch_off_pending(event_id: int, now: datetime | None = None) -> int:
    """Switch off the DR plugs of opted-in households not handled yet (while the event runs).
    Each household in its own transaction; returns the commands queued."""
    now = _now(now)
    queued = 0
    while True:
        event = await DrEvent.get(id=event_id)
        if event.state is not DrState.RUNNING or now >= event.ends_at:
            return queued
        async with in_transaction() as conn:
            batch = await _claim(conn, DrParticipation.filter(event_id=event_id, opted_out=False, switched_at=None))
            if not batch:
                return queued
            for participation in batch:
                queued += await _switch_off(conn, participation, now)
        if len(batch) < BATCH:
            return queued


async def _switch_off(conn, participation: DrParticipation, now: datetime) -> int:
    plugs = await Plug.filter(household_id=participation.household_id, unpaired_at=None,
                              dr_automation=True).order_by("id").using_db(conn)
    issued = 0
    for plug in plugs:
        if plug.relay_on is False:
            continue  # already off: the event did not switch it, so it will not switch it on
        command = await queue_switch(plug, False, purpose=OFF_PURPOSE, now=now)
        await DrSwitch.create(participation_id=participation.id, plug_id=plug.id, off_command_id=command.id,
                              using_db=conn)
        issued += 1
    await DrParticipation.filter(id=participation.id, switched_at=None).using_db(conn).update(
        switched_at=now, commands_issued=issued)
    return issued


async def restore_pending(event_id: int, now: datetime | None = None) -> int:
    """Queue the restore of every plug the event switched off (ended, cancelled, or opted
    out); idempotent. Returns the commands queued."""
    now = _now(now)
    queued = 0
    event = await DrEvent.get(id=event_id)
    over = event.state in OVER_STATES
    while True:
        async with in_transaction() as conn:
            query = DrParticipation.filter(event_id=event_id, switched_at__isnull=False, restored_at=None)
            if not over:
                query = query.filter(opted_out=True)
            batch = await _claim(conn, query)
            for participation in batch:
                queued += await _restore(conn, participation, now)
        if len(batch) < BATCH:
            return queued


async def _restore_participation(participation_id: int, now: datetime) -> int:
    async with in_transaction() as conn:
        batch = await _claim(conn, DrParticipation.filter(id=participation_id, restored_at=None))
        return sum([await _restore(conn, p, now) for p in batch])


async def _restore(conn, participation: DrParticipation, now: datetime) -> int:
    switches = await DrSwitch.filter(participation_id=participation.id, restore_command_id=None,
                                     restore_skipped=None).using_db(conn)
    plugs = {p.id: p for p in await Plug.filter(id__in=[s.plug_id for s in switches]).using_db(conn)}
    latest: dict[int, PlugCommand] = {}
    for command in await PlugCommand.filter(plug_id__in=list(plugs)).order_by("plug_id", "-id").using_db(conn):
        latest.setdefault(command.plug_id, command)
    issued = 0
    for switch in switches:
        newest = latest.get(switch.plug_id)
        if newest is not None and newest.id != switch.off_command_id and newest.purpose not in (OFF_PURPOSE,
                                                                                                RESTORE_PURPOSE):
            switch.restore_skipped = "the household switched the plug itself"
            await switch.save(update_fields=["restore_skipped"], using_db=conn)
            continue
        command = await queue_switch(plugs[switch.plug_id], True, purpose=RESTORE_PURPOSE, now=now)
        switch.restore_command_id = command.id
        await switch.save(update_fields=["restore_command_id"], using_db=conn)
        issued += 1
    await DrParticipation.filter(id=participation.id, restored_at=None).using_db(conn).update(restored_at=now)
    return issued


async def tally(event_id: int, now: datetime | None = None) -> bool:
    """Count each household's DR commands and failures, forgive failures, and mark the event
    settled once it is over and every command finished (or an hour passed). Returns settled."""
    now = _now(now)
    event = await DrEvent.get(id=event_id)
    switches = await DrSwitch.filter(participation__event_id=event_id).values(
        "participation_id", "off_command_id", "restore_command_id")
    ids = {i for s in switches for i in (s["off_command_id"], s["restore_command_id"]) if i is not None}
    status = {i: CommandStatus(v) for i, v in await PlugCommand.filter(id__in=list(ids)).values_list("id", "status")}
    give_up = event.state in OVER_STATES and now >= event.ends_at + SETTLE_AFTER
    per: dict[int, list[int]] = {}
    for s in switches:
        counts = per.setdefault(s["participation_id"], [0, 0, 0])  # issued, off failed, restore failed
        for key, slot in (("off_command_id", 1), ("restore_command_id", 2)):
            command_id = s[key]
            if command_id is None:
                continue
            counts[0] += 1
            state = status.get(command_id)
            if state is CommandStatus.FAILED or (give_up and slot == 2 and state in UNFINISHED):
                counts[slot] += 1
    for participation_id, (issued, off_failed, restore_failed) in per.items():
        await DrParticipation.filter(id=participation_id).update(
            commands_issued=issued, commands_failed=off_failed + restore_failed)
        reason = rules.command_forgiveness(off_failed, restore_failed)
        if reason is not None:
            await DrParticipation.filter(id=participation_id, forgiven_reason=None).update(
                forgiven_reason=reason.value, forgiven_at=now)
    if event.state not in OVER_STATES or event.settled_at is not None:
        return False
    pending_restore = await DrParticipation.filter(event_id=event_id, switched_at__isnull=False,
                                                   restored_at=None).exists()
    unfinished = any(status.get(i) in UNFINISHED for i in ids)
    if pending_restore or (unfinished and not give_up):
        return False
    await DrEvent.filter(id=event_id, settled_at=None).update(settled_at=now, changed_at=_wall())
    return True


@dataclass
class DriveReport:
    notified: int = 0
    started: int = 0
    ended: int = 0
    switched_off: int = 0
    restored: int = 0
    settled: int = 0


async def drive(settings: Settings, now: datetime | None = None) -> DriveReport:
    """What the clock calls for, for every event not yet settled. Safe to run at any time, as
    often as wanted, by several workers at once."""
    now = _now(now)
    report = DriveReport()
    events = await DrEvent.filter(Q(state__in=LIVE_STATES) | Q(state__in=OVER_STATES, settled_at=None)).order_by("id")
    for event in events:
        step = rules.due(event.state, event.starts_at, event.ends_at, now)
        if step is rules.Step.NOTIFY:
            report.notified += await notify(settings, event.id, now=now)
            event = await DrEvent.get(id=event.id)
            step = rules.due(event.state, event.starts_at, event.ends_at, now)
        if step is rules.Step.START:
            won, queued = await start(event.id, now=now)
            report.started += won
            report.switched_off += queued
            event = await DrEvent.get(id=event.id)
            step = rules.due(event.state, event.starts_at, event.ends_at, now)
        if step is rules.Step.END:
            await refresh_live(settings, event, now=now)  # the last figures of the window
            won, queued = await end(event.id, now=now)
            report.ended += won
            report.restored += queued
        event = await DrEvent.get(id=event.id)
        if event.state is DrState.RUNNING:
            report.switched_off += await switch_off_pending(event.id, now=now)
            report.restored += await restore_pending(event.id, now=now)  # households that opted out
            await refresh_live(settings, event, now=now)
        if event.state in OVER_STATES:
            report.restored += await restore_pending(event.id, now=now)
        if await tally(event.id, now=now):
            report.settled += 1
    return report


# -- the live view ------------------------------------------------------------------------------
async def _reference_rows(plug_ids: list[int], hours: list[datetime]) -> dict[int, dict[datetime, live.HourSample]]:
    conn = Tortoise.get_connection("default")
    out: dict[int, dict[datetime, live.HourSample]] = {}
    if not plug_ids or not hours:
        return out
    for start in range(0, len(plug_ids), BATCH):
        ids = plug_ids[start:start + BATCH]
        if store.is_postgres(conn):
            rows = await conn.execute_query_dict(
                "SELECT plug_id, hour, energy_wh, covered_s FROM plug_hour WHERE plug_id = ANY($1::int[]) "
                "AND hour = ANY($2::timestamptz[])", [ids, hours])
        else:
            rows = await conn.execute_query_dict(
                f"SELECT plug_id, hour, energy_wh, covered_s FROM plug_hour WHERE plug_id IN "
                f"({', '.join('?' * len(ids))}) AND hour IN ({', '.join('?' * len(hours))})",
                [*ids, *[int(h.timestamp()) for h in hours]])
        for r in rows:
            hour = r["hour"] if isinstance(r["hour"], datetime) else datetime.fromtimestamp(r["hour"], UTC)
            out.setdefault(r["plug_id"], {})[hour.astimezone(UTC)] = live.HourSample(
                r["energy_wh"], min(r["covered_s"] / 3600.0, 1.0))
    return out


async def _event_hours(household_ids: list[int], since: datetime, until: datetime) -> dict[int, list[rules.Window]]:
    """Earlier events the households took part in: their hours are not eligible as reference."""
    rows = await DrParticipation.filter(
        household_id__in=household_ids, opted_out=False, event__started_at__isnull=False,
        event__starts_at__lt=until, event__ends_at__gt=since,
    ).values_list("household_id", "event__starts_at", "event__ends_at")
    out: dict[int, list[rules.Window]] = {}
    for household_id, starts_at, ends_at in rows:
        out.setdefault(household_id, []).append(rules.Window(starts_at, ends_at))
    return out


async def compute_live(settings: Settings, event: DrEvent, now: datetime | None = None) -> live.LiveView:
    """Aggregate the event now: counts of households and DR plugs, and the kW reduction."""
    now = _now(now)
    parts = await DrParticipation.filter(event_id=event.id).values("id", "household_id", "opted_out",
                                                                     "forgiven_reason")
    taking_part = [p["household_id"] for p in parts if not p["opted_out"]]
    switches = await DrSwitch.filter(participation__event_id=event.id).values("off_command_id")
    off_ids = [s["off_command_id"] for s in switches if s["off_command_id"] is not None]
    statuses = [CommandStatus(v) for v in await PlugCommand.filter(id__in=off_ids).values_list("status", flat=True)]
    result = live.Reduction(0.0, 0, 0)
    if event.state is DrState.RUNNING or (event.state is DrState.ENDED and event.started_at is not None):
        result = await _reduction(settings, taking_part, now)
    return live.LiveView(
        target_kw=event.target_kw,
        reduction_kw=result.kw if event.started_at is not None else None,
        plugs_counted=result.plugs_counted, plugs_skipped=result.plugs_skipped,
        households_participating=len(taking_part),
        households_opted_out=sum(1 for p in parts if p["opted_out"]),
        households_forgiven=sum(1 for p in parts if p["forgiven_reason"]),
        plugs_switched_off=len(switches),
        plugs_confirmed=sum(1 for s in statuses if s is CommandStatus.CONFIRMED),
        plugs_failed=sum(1 for s in statuses if s is CommandStatus.FAILED),
        updated_at=now,
    )


async def _reduction(settings: Settings, household_ids: list[int], now: datetime) -> live.Reduction:
    if not household_ids:
        return live.Reduction(0.0, 0, 0)
    plugs = await Plug.filter(household_id__in=household_ids, unpaired_at=None).order_by("id")
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [hour - timedelta(days=k) for k in range(1, settings.dr_reference_days + 1)]
    history = await _reference_rows([p.id for p in plugs], hours)
    excluded = await _event_hours(household_ids, hours[-1], hour)
    current = await plug_service.live_states(plugs, now)  # power only from a plug online now
    samples = []
    for plug, state in zip(plugs, current, strict=True):
        windows = excluded.get(plug.household_id, [])
        eligible = [s for h, s in history.get(plug.id, {}).items()
                    if not any(w.overlaps(rules.Window(h, h + timedelta(hours=1))) for w in windows)]
        samples.append(live.PlugNow(live.reference_w(eligible, settings.dr_reference_min_days), state.power_w))
    return live.reduction(samples)


async def refresh_live(settings: Settings, event: DrEvent, now: datetime | None = None) -> live.LiveView:
    view = await compute_live(settings, event, now)
    await DrEvent.filter(id=event.id).update(live=view.to_json(), live_at=view.updated_at)
    return view


async def live_view(settings: Settings, event: DrEvent, now: datetime | None = None) -> live.LiveView:
    """The stored snapshot while it is fresh (at most one computation per ``dr_live_seconds``
    whoever asks), else a new one. Over events keep their last snapshot."""
    now = _now(now)
    fresh = event.live_at is not None and now - event.live_at < timedelta(seconds=settings.dr_live_seconds)
    if event.live is not None and (fresh or event.state in OVER_STATES):
        return live.LiveView.from_json(event.live)
    return await refresh_live(settings, event, now)


async def events_of(ids: Iterable[int]) -> dict[int, DrEvent]:
    return {e.id: e for e in await DrEvent.filter(id__in=list(ids))}


async def set_plug_dr_automation(principal: Principal, plug_id: int, enabled: bool) -> Plug:
    """A parent allows (or stops) DR events switching this plug. Parents only: this is the
    household's consent, which an operator cannot give for it."""
    plug = await Plug.get_or_none(id=plug_id)
    if plug is None or not (principal.role is Role.PARENT and principal.household_id == plug.household_id):
        raise NotAllowed("Only a parent of this plug's household can choose this.")
    if enabled and (refusal := switchable(plug)):
        raise ValidationFailed("plugId", refusal)
    if plug.dr_automation != enabled:
        plug.dr_automation = enabled
        await plug.save(update_fields=["dr_automation", "changed_at"])
    return plug
