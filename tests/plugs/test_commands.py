"""Switch commands: who may switch, the outbox a bridge publishes, and confirmation by the
device's own state report (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from backend.errors import NotAllowed, ValidationFailed
from backend.plugs import commands
from backend.plugs.commands import CommandDispatcher
from backend.plugs.ingest import Ingestor
from backend.plugs.models import CommandStatus, Plug, PlugCommand
from backend.plugs.readings import Vendor
from backend.plugs.vendors import render_switch_state
from tests.builders import build_world, principal_of
from tests.plugs.test_plug_service import _pair


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Published(list):
    async def __call__(self, topic: str, payload: bytes) -> None:
        self.append((topic, payload))


async def test_who_may_switch_and_what_cannot_be_switched(db):
    world = await build_world()
    parent = await principal_of(world.family_a1.parent)
    plug = (await _pair(db, world.family_a1.parent)).plug
    for someone in (world.family_a1.student, world.family_b.parent, world.teacher_a):
        with pytest.raises(NotAllowed):
            await commands.request_switch(await principal_of(someone), plug.id, False)
    with pytest.raises(NotAllowed):
        await commands.request_switch(parent, 999_999, False)
    assert await PlugCommand.all().count() == 0

    first = await commands.request_switch(parent, plug.id, False)
    second = await commands.request_switch(parent, plug.id, True)
    await first.refresh_from_db()
    assert (first.status, second.status, second.switch_on) == (CommandStatus.SUPERSEDED, CommandStatus.PENDING, True)
    assert second.requested_by_id == world.family_a1.parent.id and first.finished_at is not None

    http_plug = (await _pair(db, world.family_a1.parent, Vendor.HTTP, "bridge-kitchen", "Kettle")).plug
    with pytest.raises(ValidationFailed, match="HTTP"):
        await commands.request_switch(parent, http_plug.id, False)
    # a DR event still gets the failure on record
    recorded = await commands.queue_switch(http_plug, False, purpose="dr_event")
    assert recorded.status is CommandStatus.FAILED and "HTTP" in recorded.error

    unpaired = (await _pair(db, world.family_a1.parent, Vendor.TASMOTA, "tasmota_old", "Old")).plug
    await Plug.filter(id=unpaired.id).update(unpaired_at=datetime.now(UTC))
    with pytest.raises(ValidationFailed, match="no longer paired"):
        await commands.request_switch(parent, unpaired.id, True)


async def test_published_then_confirmed_only_by_a_later_matching_report(db):
    world = await build_world()
    parent = await principal_of(world.family_a1.parent)
    tasmota = (await _pair(db, world.family_a1.parent, Vendor.TASMOTA, "tasmota_TV01", "TV")).plug
    gen2 = (await _pair(db, world.family_a1.parent, Vendor.SHELLY_GEN2, "shellyplusplugs-PC01", "PC")).plug
    clock, published = Clock(), Published()
    dispatcher = CommandDispatcher(confirm_s=10, attempts=3, clock=clock)
    ingestor = Ingestor(clock=clock)

    # a state report that arrived before the command was sent confirms nothing
    ingestor.submit(*render_switch_state(Vendor.TASMOTA, "tasmota_TV01", False))
    await ingestor.flush()
    off = await commands.request_switch(parent, tasmota.id, False)
    on = await commands.request_switch(parent, gen2.id, True)
    clock.advance(1)
    assert await dispatcher.tick(published) == {tasmota.id, gen2.id}
    assert published[0] == ("cmnd/tasmota_TV01/POWER", b"OFF")
    rpc_topic, rpc = published[1]
    assert rpc_topic == "shellyplusplugs-PC01/rpc"
    assert json.loads(rpc) | {"src": None} == {"id": on.id, "src": None, "method": "Switch.Set",
                                                "params": {"id": 0, "on": True}}
    assert await dispatcher.tick(published) == set()  # nothing is sent twice

    await ingestor.directory.refresh()
    assert ingestor.directory.awaiting == {tasmota.id, gen2.id}
    clock.advance(1)
    ingestor.submit(*render_switch_state(Vendor.TASMOTA, "tasmota_TV01", True))  # the wrong state
    ingestor.submit(*render_switch_state(Vendor.SHELLY_GEN2, "shellyplusplugs-PC01", True))
    await ingestor.flush()
    await off.refresh_from_db()
    await on.refresh_from_db()
    assert (off.status, on.status) == (CommandStatus.SENT, CommandStatus.CONFIRMED)
    clock.advance(1)
    ingestor.submit(*render_switch_state(Vendor.TASMOTA, "tasmota_TV01", False))
    await ingestor.flush()
    await off.refresh_from_db()
    assert off.status is CommandStatus.CONFIRMED and off.finished_at == clock.now
    assert (await Plug.get(id=tasmota.id)).relay_on is False


async def test_unconfirmed_commands_are_resent_then_fail(db):
    world = await build_world()
    parent = await principal_of(world.family_a1.parent)
    plug = (await _pair(db, world.family_a1.parent, Vendor.SHELLY_GEN1, "shellyplug-s-DEAD01", "Fan")).plug
    clock, published = Clock(), Published()
    dispatcher = CommandDispatcher(confirm_s=10, attempts=3, clock=clock)
    command = await commands.request_switch(parent, plug.id, False)
    for attempt in (1, 2, 3):
        await dispatcher.tick(published)
        await command.refresh_from_db()
        assert (command.status, command.attempts) == (CommandStatus.SENT, attempt)
        clock.advance(5)
        await dispatcher.tick(published)  # not overdue yet: nothing resent
        assert len(published) == attempt
        clock.advance(6)
    await dispatcher.tick(published)
    await command.refresh_from_db()
    assert command.status is CommandStatus.FAILED and "did not confirm" in command.error
    assert published == [("shellies/shellyplug-s-DEAD01/relay/0/command", b"off")] * 3
    latest = await commands.latest_commands([plug.id])
    assert latest[plug.id].id == command.id
