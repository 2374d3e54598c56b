"""End to end on the real Mosquitto: notify -> switch off -> measure -> restore -> settle.

Simulated Tasmota plugs run on an accelerated clock (one simulated hour in about 15 s) through
the real bridge, so the event hour's rollups come from the plugs' own readings; the 50 days of
baseline history before it are written as rollups directly. In CI (CI=true) a missing broker
fails instead of skipping.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from backend.dr import service, settlement
from backend.dr.models import DrEvent, DrScope, DrSettlement, SettlementStatus
from backend.ledger.models import LedgerEntry
from backend.plugs.bridge import Bridge
from backend.plugs.fleet_model import FleetModel
from backend.plugs.models import CommandStatus, Plug, PlugCommand
from backend.plugs.mqtt import MqttError, forget_session
from backend.plugs.readings import Vendor
from backend.plugs.rollups import rollup_pending
from backend.plugs.simulator import Simulator, register_fleet
from tests.builders import build_world, principal_of
from tests.dr.settlement_support import SEOUL, flat, write_load
from tests.dr.support import commands_finished, until
from tests.services import require_service

BROKER = ("127.0.0.1", 1883)
SPEED = 240.0  # simulated seconds per real second
H = timedelta(hours=1)


async def test_dr_event_on_simulated_plugs_is_measured_and_settled_into_the_ledger(db):
    require_service("Mosquitto", *BROKER)
    world = await build_world()
    a1, a2 = world.family_a1.household.id, world.family_a2.household.id
    tag = uuid.uuid4().hex[:6]
    fleet = FleetModel(1, seed=int(tag, 16), report_interval_s=30.0, anomalies=False,
                       vendor_mix={Vendor.TASMOTA: 1.0})
    await register_fleet(fleet, [a1])
    plugs = await Plug.filter(household_id=a1, unpaired_at=None).order_by("id")
    # the plugs were paired two months ago: their baseline history is 100 W every hour
    t0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - 3 * H  # the event hour
    await Plug.filter(id__in=[p.id for p in plugs]).update(dr_automation=True, paired_at=t0 - timedelta(days=60))
    day = t0.astimezone(SEOUL).date()
    for plug in plugs:
        await write_load(plug.id, day - timedelta(days=50), day - timedelta(days=1), flat(100.0))

    client_id = f"test-settle-bridge-{tag}"
    settings = db.model_copy(update={"mqtt_url": f"mqtt://{BROKER[0]}:{BROKER[1]}", "mqtt_client_id": client_id,
                                     "plug_command_confirm_seconds": 2.0, "plug_command_attempts": 3})
    sim_start, real_start = (t0 - timedelta(minutes=5)).timestamp(), time.time()

    def clock() -> float:
        return sim_start + SPEED * (time.time() - real_start)

    async def sim_at(when: datetime) -> None:
        async def reached() -> bool:
            return clock() >= when.timestamp()
        await until(reached, timeout=120.0)

    bridge, stop = Bridge(settings), asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    simulator = Simulator(fleet, *BROKER, client_id=f"test-settle-sim-{tag}")
    sim_stop = asyncio.Event()
    sim_task = asyncio.create_task(simulator.run(sim_stop, clock=clock))
    try:
        await asyncio.wait_for(bridge.connected.wait(), 10)
        event = await service.create_event(
            settings, await principal_of(world.officer_a), title="Simulated peak", scope=DrScope.MUNICIPALITY,
            scope_id=world.muni_a.id, starts_at=t0, ends_at=t0 + H, target_kw=0.2, now=t0 - 2 * H)
        await sim_at(t0)
        report = await service.drive(settings, now=t0)  # notify was done at creation; now switch off
        assert (report.started, report.switched_off) == (1, len(plugs))
        await until(commands_finished(service.OFF_PURPOSE), 60.0)
        assert all(fleet.plug(p.device_id).relay_on is False for p in plugs)
        await sim_at(t0 + H + timedelta(minutes=3))
        report = await service.drive(settings, now=t0 + H)
        assert (report.ended, report.restored) == (1, len(plugs))
        await until(commands_finished(service.RESTORE_PURPOSE), 60.0)
        assert (await service.drive(settings, now=t0 + H + timedelta(minutes=1))).settled == 1
    finally:
        sim_stop.set()
        await sim_task
        stop.set()
        await task
        try:
            await forget_session(*BROKER, client_id)
        except (MqttError, OSError):
            pass
    assert {CommandStatus(s) for s in await PlugCommand.all().values_list("status", flat=True)} == {
        CommandStatus.CONFIRMED}
    await rollup_pending()  # the hourly rollups from the plugs' readings

    # the data is complete (every plug covered the event hour): settled without waiting
    result = await settlement.settle_due(settings, now=t0 + H + timedelta(minutes=5))
    assert (result.settled, result.pending_events) == (2, 0)
    s1 = await DrSettlement.get(event_id=event.id, household_id=a1)
    baseline = 0.1 * len(plugs)
    hour = s1.explanation["actual"][0]
    assert s1.status is SettlementStatus.SETTLED and not hour["missing"] and hour["coverage"] >= 0.9
    assert hour["baseline_kwh"] == pytest.approx(baseline, abs=1e-9) and 0 <= hour["kwh"] < 0.2 * baseline  # off for (almost) the whole hour
    assert s1.reduction_kwh > 0.8 * baseline and s1.points == int(round(s1.reduction_kwh * 1000, 6)) * 2
    legs = await LedgerEntry.filter(ref__startswith=f"dr:{event.id}:{a1}:settle:").order_by("ref")
    assert sum(leg.amount for leg in legs) == s1.points and {str(leg.account) for leg in legs} == {
        str(world.family_a1.parent.pseudonym), str(world.family_a1.student.pseudonym)}
    s2 = await DrSettlement.get(event_id=event.id, household_id=a2)
    assert s2.status is SettlementStatus.INSUFFICIENT_DATA and s2.points == 0
    assert (await DrEvent.get(id=event.id)).settled_at is not None
    again = await settlement.settle_due(settings, now=t0 + 2 * H)
    assert again.settled == 0 and await LedgerEntry.filter(ref__startswith=f"dr:{event.id}:").count() == len(legs)
