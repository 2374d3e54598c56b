"""Pairing, ingestion, rollups and HTTP push against the real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from backend.errors import (
    AlreadyExists,
    IdempotencyConflict,
    InvalidToken,
    NotAllowed,
    ValidationFailed,
)
from backend.plugs import service
from backend.plugs.ingest import Ingestor
from backend.plugs.models import PairingCode, Plug, RejectCount
from backend.plugs.readings import Vendor
from backend.plugs.rollups import rollup_pending
from backend.plugs.vendors import render_availability, render_reading, render_switch_state
from tests.builders import build_world, principal_of

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)


async def _pair(settings, parent, vendor=Vendor.TASMOTA, device_id="tasmota_A1B2C3", name="TV"):
    principal = await principal_of(parent)
    issued = await service.create_pairing_code(settings, principal, principal.household_id)
    return await service.pair_plug(settings, issued.code, vendor, device_id, name, principal)


async def _rejects() -> dict[tuple[str, str], int]:
    return {(r.vendor, r.reason): r.count for r in await RejectCount.all()}


async def test_pairing_code_rules(db):
    world = await build_world()
    parent = await principal_of(world.family_a1.parent)
    student = await principal_of(world.family_a1.student)
    with pytest.raises(NotAllowed):
        await service.create_pairing_code(db, student, student.household_id)
    with pytest.raises(NotAllowed):
        await service.create_pairing_code(db, parent, world.family_b.household.id)
    issued = await service.create_pairing_code(db, parent, parent.household_id, now=NOW)
    assert len(issued.code) == 11 and issued.expires_at == NOW + timedelta(seconds=600)
    with pytest.raises(InvalidToken, match="expired"):
        await service.pair_plug(db, issued.code, Vendor.TASMOTA, "tasmota_1", "TV", parent,
                                now=NOW + timedelta(seconds=601))
    with pytest.raises(InvalidToken, match="wrong"):
        await service.pair_plug(db, "ABCDE-FGHJK", Vendor.TASMOTA, "tasmota_1", "TV", parent, now=NOW)
    with pytest.raises(InvalidToken, match="not a pairing code"):
        await service.pair_plug(db, "short", Vendor.TASMOTA, "tasmota_1", "TV", parent, now=NOW)
    with pytest.raises(ValidationFailed):
        await service.pair_plug(db, issued.code, Vendor.TASMOTA, "bad/id+", "TV", parent, now=NOW)
    with pytest.raises(ValidationFailed):
        await service.pair_plug(db, issued.code, Vendor.TASMOTA, "tasmota_1", " ", parent, now=NOW)
    paired = await service.pair_plug(db, issued.code.lower(), Vendor.TASMOTA, "tasmota_1", "  TV  ", parent, now=NOW)
    assert paired.plug.name == "TV" and paired.plug.household_id == parent.household_id and paired.token is None
    with pytest.raises(InvalidToken, match="already used"):
        await service.pair_plug(db, issued.code, Vendor.TASMOTA, "tasmota_2", "PC", parent, now=NOW)
    # another household cannot take a paired device
    other = await principal_of(world.family_b.parent)
    code_b = await service.create_pairing_code(db, other, other.household_id, now=NOW)
    with pytest.raises(AlreadyExists, match="another household"):
        await service.pair_plug(db, code_b.code, Vendor.TASMOTA, "tasmota_1", "Mine", other, now=NOW)
    # nothing half-written: the code stays usable after the refusal
    assert await PairingCode.filter(used_at=None, household_id=other.household_id).count() == 1
    # unpair keeps the row; then the other household can pair it
    with pytest.raises(NotAllowed):
        await service.unpair_plug(other, paired.plug.id)
    with pytest.raises(NotAllowed):
        await service.unpair_plug(student, paired.plug.id)
    await service.unpair_plug(parent, paired.plug.id)
    again = await service.pair_plug(db, code_b.code, Vendor.TASMOTA, "tasmota_1", "Mine", other, now=NOW)
    assert again.plug.id != paired.plug.id
    assert [p.id for p in await service.household_plugs(parent, parent.household_id, include_unpaired=True)] \
        == [paired.plug.id]
    assert await service.household_plugs(parent, parent.household_id) == []
    with pytest.raises(NotAllowed):
        await service.household_plugs(parent, other.household_id)


async def test_concurrent_use_of_one_code_pairs_once(db):
    world = await build_world()
    parent = await principal_of(world.family_a1.parent)
    issued = await service.create_pairing_code(db, parent, parent.household_id)
    results = await asyncio.gather(*[
        service.pair_plug(db, issued.code, Vendor.SHELLY_GEN1, f"shellyplug-s-{i:012d}", "Plug", parent)
        for i in range(5)], return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, InvalidToken) for r in results if isinstance(r, Exception)), results
    assert await Plug.all().count() == 1


def _tasmota_series(device_id: str, start: datetime, minutes: int, watts: float, counter0_wh: float, step_min=5):
    """(topic, payload, received_at) of a steady load sampled every ``step_min`` minutes."""
    out = []
    for m in range(0, minutes + 1, step_min):
        ts = start + timedelta(minutes=m)
        counter = counter0_wh + watts * m / 60
        for topic, payload in render_reading(Vendor.TASMOTA, device_id, ts, watts, counter, service.ZoneInfo("Asia/Seoul")):
            out.append((topic, payload, ts + timedelta(seconds=2)))
    return out


async def test_ingest_counters_duplicates_out_of_order_and_gaps(db):
    world = await build_world()
    paired = await _pair(db, world.family_a1.parent)
    plug = paired.plug
    await Plug.filter(id=plug.id).update(clock_offset_min=540)  # its zone (KST) learned before
    clock = NOW + timedelta(hours=2, minutes=30)
    ingestor = Ingestor(clock=lambda: clock)
    await ingestor.directory.refresh()
    hour0 = NOW - timedelta(hours=1)
    messages = _tasmota_series(plug.device_id, hour0, 60, 120.0, 5_000.0)       # hour 0: 120 W
    messages += _tasmota_series(plug.device_id, hour0 + timedelta(hours=2), 60, 60.0, 5_120.0)  # after a 1 h gap
    acks = []
    # out of order (reversed) and every message delivered twice (QoS 1 redelivery)
    for topic, payload, received in reversed(messages + messages):
        ingestor.submit(topic, payload, ack=lambda: acks.append(1), received_at=received)
    ingestor.submit("tele/tasmota_A1B2C3/SENSOR", b"{not json", ack=lambda: acks.append(1))
    sensor = next(m for m in messages if m[0].endswith("/SENSOR"))
    ingestor.submit("tele/unknown_plug/SENSOR", sensor[1], ack=lambda: acks.append(1), received_at=sensor[2])
    ingestor.submit("weird", b"x", ack=lambda: acks.append(1))
    result = await ingestor.flush()
    sensors = sum(topic.endswith("/SENSOR") for topic, _, _ in messages)  # the rest are STATE
    assert len(acks) == 2 * len(messages) + 3
    # the second copies arrive with the same values at once: the bridge knows them (counted by
    # vendor) or the primary key does (counted under "*")
    assert result.stored == sensors and result.duplicates + result.rejects.get(("tasmota", "duplicate"), 0) == sensors
    rejects = await _rejects()
    assert rejects.get(("*", "duplicate"), 0) + rejects.get(("tasmota", "duplicate"), 0) == sensors
    assert rejects[("tasmota", "malformed")] == 1 and rejects[("tasmota", "unknown_device")] == 1
    assert sum(n for (v, r), n in rejects.items() if r == "unknown_topic") == 1
    # a second flush of the same readings stores nothing new
    for topic, payload, received in messages[:3]:
        ingestor.submit(topic, payload, received_at=received)
    assert (await ingestor.flush()).stored == 0
    assert await rollup_pending() == 1
    series = (await service.hourly([plug.id], hour0, hour0 + timedelta(hours=3)))[plug.id]
    assert [round(p.energy_wh, 6) for p in series] == [120.0, 0.0, 60.0]
    assert [p.coverage for p in series] == [1.0, 0.0, 1.0]  # the offline hour is missing, not a saving
    # the counter over the gap did not move, so no energy appears there; totals match the counter
    total, coverage = (await service.energy_since([plug.id], hour0, hour0 + timedelta(hours=3)))[plug.id]
    assert round(total, 6) == 180.0 and round(coverage, 6) == round(2 / 3, 6)


async def test_counter_reset_late_reading_and_spike(db):
    world = await build_world()
    plug = (await _pair(db, world.family_a1.parent, Vendor.SHELLY_GEN1, "shellyplug-s-C45BBE5F7F39", "PC")).plug
    hour0 = NOW - timedelta(hours=1)
    clock = NOW + timedelta(hours=1)
    ingestor = Ingestor(clock=lambda: clock)
    await ingestor.directory.refresh()
    # Gen1 energy counter in watt-minutes, once a minute: 60 W = 60 Wm per minute; reset at minute 30
    counter = 600_000
    for m in range(61):
        if m == 30:
            counter = 60  # rebooted: the counter starts again
        elif m:
            counter += 60
        if m == 45:
            continue  # this one arrives late
        ingestor.submit(f"shellies/{plug.device_id}/relay/0/energy", str(counter).encode(),
                        received_at=hour0 + timedelta(minutes=m))
    await ingestor.flush()
    await rollup_pending()
    first = (await service.hourly([plug.id], hour0, hour0 + timedelta(hours=1)))[plug.id][0]
    assert first.resets == 1
    # 59 one-minute intervals of 1 Wh; the reset interval counts what the new counter shows (1 Wh)
    # and is not covered: the hour is 59/60 covered, so it is flagged incomplete
    assert round(first.energy_wh, 6) == 60.0
    assert round(first.coverage, 6) == round(59 / 60, 6)
    # the late reading arrives: hours are recomputed, energy unchanged, coverage unchanged
    ingestor.submit(f"shellies/{plug.device_id}/relay/0/energy", str(60 + 15 * 60).encode(),
                    received_at=hour0 + timedelta(minutes=45))
    assert (await ingestor.flush()).stored == 1
    await rollup_pending()
    again = (await service.hourly([plug.id], hour0, hour0 + timedelta(hours=1)))[plug.id][0]
    assert round(again.energy_wh, 6) == 60.0 and again.resets == 1 and again.coverage == first.coverage
    # a spike: power above what a plug can carry is rejected at the door
    ingestor.submit(f"shellies/{plug.device_id}/relay/0/power", b"9000", received_at=clock)
    await ingestor.flush()
    assert (await _rejects())[("shelly_gen1", "spike")] == 1


async def test_availability_and_unpaired_device(db):
    world = await build_world()
    parent = await principal_of(world.family_a1.parent)
    plug = (await _pair(db, world.family_a1.parent)).plug
    ingestor = Ingestor()
    await ingestor.directory.refresh()
    topic, payload = render_availability(Vendor.TASMOTA, plug.device_id, False)
    ingestor.submit(topic, payload)
    await ingestor.flush()
    await plug.refresh_from_db()
    assert plug.online is False
    assert (await service.live_state(plug)).online is False
    await service.unpair_plug(parent, plug.id)
    await ingestor.directory.refresh()
    ingestor.submit(topic, payload)
    await ingestor.flush()
    assert (await _rejects())[("tasmota", "unpaired")] == 1


async def test_http_push_token_replay_and_validation(db):
    world = await build_world()
    paired = await _pair(db, world.family_a1.parent, Vendor.HTTP, "bridge-kitchen-1", "Kettle bridge")
    assert paired.token and paired.plug.token_hash and paired.token not in paired.plug.token_hash
    now = datetime.now(UTC)
    items = [{"ts": (now - timedelta(minutes=10 - i)).isoformat(), "powerW": 50.0, "energyWh": 1000.0 + i}
             for i in range(5)]
    bad = [{"ts": now.isoformat(), "powerW": "NaN"}, {"ts": (now + timedelta(days=1)).isoformat(), "powerW": 1.0},
           {"ts": now.isoformat(), "powerW": -1}, "not an object"]
    result = await service.push_readings(db, "bridge-kitchen-1", paired.token, "batch-1", items + bad, now=now)
    assert (result.accepted, result.duplicates, result.replayed) == (5, 0, False)
    assert [i for i, _ in result.rejected] == [5, 6, 7, 8]
    replay = await service.push_readings(db, "bridge-kitchen-1", paired.token, "batch-1", items + bad, now=now)
    assert replay.replayed and replay.accepted == 5
    with pytest.raises(IdempotencyConflict):
        await service.push_readings(db, "bridge-kitchen-1", paired.token, "batch-1", items[:2], now=now)
    again = await service.push_readings(db, "bridge-kitchen-1", paired.token, "batch-2", items, now=now)
    assert (again.accepted, again.duplicates) == (0, 5)
    with pytest.raises(InvalidToken):
        await service.push_readings(db, "bridge-kitchen-1", paired.token + "x", "batch-3", items, now=now)
    with pytest.raises(InvalidToken):
        await service.push_readings(db, "other-device", paired.token, "batch-3", items, now=now)
    with pytest.raises(ValidationFailed):
        await service.push_readings(db, "bridge-kitchen-1", paired.token, "b", [], now=now)
    with pytest.raises(ValidationFailed):
        await service.push_readings(db, "bridge-kitchen-1", paired.token, "b", items * 201, now=now)
    rejects = await _rejects()
    assert rejects[("http", "bad_token")] == 2 and rejects[("*", "duplicate")] == 5


async def test_live_state_of_several_plugs(db):
    """Fresh plugs are online with their latest power; a stale, unpaired or announced-offline
    plug is not, and shows no power."""
    world = await build_world()
    parent = await principal_of(world.family_a1.parent)
    now = datetime.now(UTC).replace(microsecond=0)
    names = ["tasmota_LIVE1", "tasmota_LIVE2", "tasmota_LIVE3", "tasmota_LIVE4", "tasmota_LIVE5"]
    plugs = [(await _pair(db, world.family_a1.parent, Vendor.TASMOTA, n, n[-5:])).plug for n in names]
    ingestor = Ingestor()
    await ingestor.directory.refresh()
    ages = {0: 60, 1: 60, 2: 20 * 60, 3: 60}  # seconds since the latest reading; plug 4 never reported
    for index, age in ages.items():
        for extra, watts in ((120, 10.0), (0, 42.0 + index)):
            ts = now - timedelta(seconds=age + extra)
            for topic, payload in render_reading(Vendor.TASMOTA, names[index], ts, watts, 1000.0 + index,
                                                 service.ZoneInfo("Asia/Seoul")):
                ingestor.submit(topic, payload, received_at=ts)
    await ingestor.flush()
    await service.unpair_plug(parent, plugs[1].id)
    await Plug.filter(id=plugs[3].id).update(online=False, online_changed_at=now)
    live = await service.live_states([await Plug.get(id=p.id) for p in plugs], now)
    assert [(s.online, s.power_w) for s in live] == [(True, 42.0), (False, None), (False, None), (False, None),
                                                      (False, None)]
    assert live[2].last_seen_at == now - timedelta(seconds=20 * 60) and live[4].last_seen_at is None


@pytest.mark.parametrize(("tz", "today", "month"), [
    ("Asia/Seoul", datetime(2026, 5, 14, 15, tzinfo=UTC), datetime(2026, 4, 30, 15, tzinfo=UTC)),
    # +05:30: the day starts in the UTC hour that holds local midnight (18:30 → 18:00)
    ("Asia/Kolkata", datetime(2026, 5, 14, 18, tzinfo=UTC), datetime(2026, 4, 30, 18, tzinfo=UTC)),
    ("Asia/Kathmandu", datetime(2026, 5, 14, 18, tzinfo=UTC), datetime(2026, 4, 30, 18, tzinfo=UTC)),
])
def test_local_bounds_are_whole_utc_hours(tz, today, month):
    now = datetime(2026, 5, 15, 7, 41, 12, tzinfo=UTC)
    assert service.local_bounds(now, tz) == (today, month, datetime(2026, 5, 15, 8, tzinfo=UTC))


async def test_two_bridges_keep_the_relay_state_right(db):
    """With a shared subscription each bridge sees only some of a plug's messages; a state
    change written by one must not be skipped by the other as 'already known'."""
    world = await build_world()
    plug = (await _pair(db, world.family_a1.parent, Vendor.TASMOTA, "tasmota_SHARE1", "Lamp")).plug
    await _pair(db, world.family_a1.parent, Vendor.TASMOTA, "tasmota_SHARE2", "Fan")  # changed last
    first, second = Ingestor(), Ingestor()
    for bridge in (first, second):
        await bridge.directory.refresh()
    for bridge, on in ((first, True), (second, False), (first, True)):
        await bridge.directory.refresh()
        bridge.submit(*render_switch_state(Vendor.TASMOTA, "tasmota_SHARE1", on))
        await bridge.flush()
        assert (await Plug.get(id=plug.id)).relay_on is on



async def _reading_times(plug_id: int) -> list[datetime]:
    """The stored readings' times of one plug (last 8 days to 1 day ahead)."""
    from tortoise import Tortoise

    from backend.plugs import store

    now = datetime.now(UTC)
    samples = await store.samples_between(Tortoise.get_connection("default"), plug_id,
                                          now - timedelta(days=8), now + timedelta(days=1))
    return [s.ts for s in samples]
