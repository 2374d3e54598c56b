"""Helpers for the settlement tests: plug load histories as rollups, and events run to the end."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from backend.dr import service
from backend.dr.models import DrEvent, DrScope
from backend.plugs import store
from backend.plugs.models import CommandStatus
from backend.plugs.rollup import HourRollup
from backend.savings.household_load import local_hour_start
from tests.builders import World, principal_of
from tests.dr.support import settle_commands

SEOUL = ZoneInfo("Asia/Seoul")
H = timedelta(hours=1)
EVENT_DAY = date(2031, 6, 10)  # a Tuesday; 6 June (Memorial Day) and 28 May (Buddha's Birthday) lie before it
EARLIER_EVENT_DAY = date(2031, 6, 3)
FIRST_DAY = EVENT_DAY - timedelta(days=50)

Watts = Callable[[date, int], float | None]


def at(day: date, hour: int) -> datetime:
    """The UTC start of a local Seoul hour."""
    return local_hour_start(day, hour, SEOUL)


async def write_load(plug_id: int, first: date, last: date, watts: Watts, *, now: datetime | None = None,
                     covered_s: float = 3600.0) -> int:
    """Hourly rollups of one plug for every local hour of ``first``..``last`` where ``watts``
    gives a value (None: no rollup, a missing hour). Watts over a whole hour = Wh."""
    rows = []
    for i in range((last - first).days + 1):
        day = first + timedelta(days=i)
        for hour in range(24):
            w = watts(day, hour)
            if w is not None:
                rows.append(HourRollup(at(day, hour), float(w), covered_s, 60, w, w, 0, 0))
    async with in_transaction() as tx:
        await store.ensure_partitions(tx, last, days_back=(last - first).days + 2, days_ahead=1)
        return await store.write_hours(tx, plug_id, rows, now or datetime.now(UTC))


def flat(base: float, *, event: tuple[date, Sequence[int], float] | None = None) -> Watts:
    """``base`` W every hour; during ``event`` (day, hours, watts) the given watts."""
    def watts(day: date, hour: int) -> float | None:
        if event is not None and day == event[0] and hour in event[1]:
            return event[2]
        return base
    return watts


async def run_event(settings, world: World, day: date = EVENT_DAY, start_hour: int = 16, hours: int = 2, *,
                    target_kw: float = 2.0, short_notice: bool = False, opt_out: Sequence[int] = (),
                    scope: DrScope = DrScope.MUNICIPALITY) -> DrEvent:
    """An event of municipality A (or school A) run through notice, start, end and tally, with
    every DR command confirmed."""
    start = at(day, start_hour)
    creator, scope_id = ((world.officer_a, world.muni_a.id) if scope is DrScope.MUNICIPALITY
                         else (world.admin_a, world.school_a.id))
    event = await service.create_event(
        settings, await principal_of(creator), title="Peak", scope=scope, scope_id=scope_id, starts_at=start,
        ends_at=start + hours * H, target_kw=target_kw, short_notice=short_notice,
        now=start - (timedelta(minutes=30) if short_notice else 3 * H))
    for household_id in opt_out:
        parent = next(f.parent for f in (world.family_a1, world.family_a2) if f.household.id == household_id)
        await service.set_decision(settings, await principal_of(parent), event.id, household_id, False,
                                   now=start - 2 * H)
    await service.drive(settings, now=start)
    await settle_commands(CommandStatus.CONFIRMED)
    await service.drive(settings, now=event.ends_at)
    await settle_commands(CommandStatus.CONFIRMED)
    await service.drive(settings, now=event.ends_at + timedelta(minutes=1))
    event = await DrEvent.get(id=event.id)
    assert event.settled_at is not None
    return event
