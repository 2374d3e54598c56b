"""Readings without a device timestamp (Shelly Gen1, Gen2 status/switch:N) are stored once,
however often the broker or the device sends them again; an idle plug's repeats still count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from backend.plugs import service
from backend.plugs.ingest import Ingestor
from backend.plugs.readings import Vendor
from tests.builders import build_world, principal_of
from tests.plugs.test_plug_service import _rejects, _reading_times

FIX = Path(__file__).parent / "fixtures"


async def test_resent_and_redelivered_untimed_readings_are_stored_once(db):
    world = await build_world()
    parent = await principal_of(world.family_a1.parent)
    plugs = {}
    for vendor, device in ((Vendor.SHELLY_GEN2, "shellyplusplugs-e86beae8a1b0"), (Vendor.SHELLY_GEN1, "shellyplug-s-1")):
        issued = await service.create_pairing_code(db, parent, parent.household_id)
        plugs[vendor] = (await service.pair_plug(db, issued.code, vendor, device, "x", parent)).plug
    gen2 = plugs[Vendor.SHELLY_GEN2]
    status = (FIX / "shelly_gen2_status_switch0.json").read_bytes()  # the documented switch:0 status
    topic = f"{gen2.device_id}/status/switch:0"
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    ingestor = Ingestor()
    await ingestor.directory.refresh()
    ingestor.submit(topic, status, received_at=t0)
    ingestor.submit(topic, status, received_at=t0 + timedelta(seconds=2))            # the device re-sent it
    ingestor.submit(topic, status, received_at=t0 + timedelta(seconds=40), dup=True)  # the broker re-sent it
    energy = "shellies/shellyplug-s-1/relay/0/energy"
    ingestor.submit(energy, b"6000", received_at=t0)
    ingestor.submit(energy, b"6000", received_at=t0 + timedelta(seconds=1), dup=True)
    first = await ingestor.flush()
    assert first.stored == 2 and first.duplicates == 0
    assert sum(first.rejects.values()) == 3
    # after a restart the bridge has no memory: a DUP copy is checked against the stored readings
    restarted = Ingestor()
    await restarted.directory.refresh()
    restarted.submit(topic, status, received_at=t0 + timedelta(seconds=50), dup=True)
    restarted.submit(energy, b"6000", received_at=t0 + timedelta(seconds=50), dup=True)
    again = await restarted.flush()
    assert again.stored == 0 and again.duplicates == 2
    # an idle plug repeating its values a minute later is a new sample (coverage), not a copy
    restarted.submit(topic, status, received_at=t0 + timedelta(seconds=60))
    restarted.submit(energy, b"6000", received_at=t0 + timedelta(seconds=60))
    assert (await restarted.flush()).stored == 2
    assert await _reading_times(gen2.id) == [t0, t0 + timedelta(seconds=60)]
    rejects = await _rejects()
    assert rejects[("shelly_gen2", "duplicate")] == 2 and rejects[("shelly_gen1", "duplicate")] == 1
    assert rejects[("*", "duplicate")] == 2
