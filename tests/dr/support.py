"""Helpers for the DR tests: plugs that allow DR automation, events at a given time."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from backend.dr import service
from backend.dr.models import DrEvent, DrScope
from backend.plugs.models import CommandStatus, Plug, PlugCommand
from backend.plugs.readings import Vendor
from tests.builders import World, principal_of

NOW = datetime(2031, 7, 1, 5, 0, tzinfo=UTC)  # 14:00 in Seoul


async def dr_plug(household_id: int, name: str, *, automation: bool = True, relay_on: bool | None = True,
                  vendor: Vendor = Vendor.TASMOTA) -> Plug:
    return await Plug.create(household_id=household_id, vendor=vendor, device_id=f"dr-{household_id}-{name}",
                             name=name, dr_automation=automation, relay_on=relay_on)


async def event_for(settings, world: World, *, scope: DrScope = DrScope.MUNICIPALITY, now: datetime = NOW,
                    lead: timedelta = timedelta(hours=2), length: timedelta = timedelta(hours=1),
                    target_kw: float = 5.0, short_notice: bool = False) -> DrEvent:
    """An event created by operator (national) or officer_a (municipality A) or admin_a (school A)."""
    creator = {DrScope.NATIONAL: world.operator, DrScope.MUNICIPALITY: world.officer_a,
               DrScope.SCHOOL: world.admin_a}[scope]
    scope_id = {DrScope.NATIONAL: None, DrScope.MUNICIPALITY: world.muni_a.id, DrScope.SCHOOL: world.school_a.id}[scope]
    return await service.create_event(
        settings, await principal_of(creator), title="Peak July", scope=scope, scope_id=scope_id,
        starts_at=now + lead, ends_at=now + lead + length, target_kw=target_kw, short_notice=short_notice, now=now)


async def settle_commands(status: CommandStatus, *, purpose: str | None = None) -> int:
    """Play the bridge and the devices: finish every unfinished command with ``status``."""
    query = PlugCommand.filter(status__in=(CommandStatus.PENDING, CommandStatus.SENT))
    if purpose:
        query = query.filter(purpose=purpose)
    changed = await query.update(status=status, finished_at=datetime.now(UTC))
    if status is CommandStatus.CONFIRMED:
        for command in await PlugCommand.filter(status=CommandStatus.CONFIRMED):
            await Plug.filter(id=command.plug_id).update(relay_on=command.switch_on)
    return changed


async def until(predicate, timeout: float = 30.0) -> None:
    """Wait until the async ``predicate`` holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def commands_finished(purpose: str):
    """A predicate: every switch command with this purpose is confirmed or failed."""
    async def check() -> bool:
        statuses = await PlugCommand.filter(purpose=purpose).values_list("status", flat=True)
        return bool(statuses) and all(CommandStatus(s) in (CommandStatus.CONFIRMED, CommandStatus.FAILED)
                                      for s in statuses)
    return check
