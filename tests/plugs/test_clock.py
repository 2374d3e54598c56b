"""Device clocks: wrong zones, unset clocks, backlogs, drift and DST never misplace or drop a reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from backend.plugs.clock import DeviceClocks

BERLIN = ZoneInfo("Europe/Berlin")  # Tasmota's default time zone rules (CET/CEST)
KEY = ("tasmota", "plug")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def tasmota_time(true_utc: datetime, zone=BERLIN) -> datetime:
    """The naive ``Time`` a device kept in ``zone`` sends (to the second, like Tasmota)."""
    return true_utc.astimezone(zone).replace(tzinfo=None, microsecond=0)


def test_a_tasmota_left_at_its_default_zone_is_placed_right_in_seoul():
    clocks = DeviceClocks()
    measured = utc(2026, 1, 10, 3, 0, 0)  # 12:00 in Seoul, 04:00 on the device (CET)
    at = measured + timedelta(seconds=1.4)
    p = clocks.place(KEY, tasmota_time(measured), at)  # not learned yet: the receive time
    assert (p.ts, p.device_time, p.offset_min, p.off) == (at, False, None, False)
    later = measured + timedelta(seconds=60)  # the same offset for a minute: learned
    p = clocks.place(KEY, tasmota_time(later), later + timedelta(seconds=1.4))
    assert (p.ts, p.device_time, p.offset_min, p.off) == (later, True, 60, False)


def test_a_burst_of_queued_messages_teaches_no_wrong_offset():
    clocks, now = DeviceClocks(), utc(2026, 1, 10, 3, 20, 0)
    out = [clocks.place(KEY, tasmota_time(now - timedelta(seconds=1200 - i)), now + timedelta(milliseconds=i))
           for i in range(1200)]  # 20 minutes of readings arrive within 1.2 s, nothing learned before
    assert all(not p.device_time and p.offset_min is None for p in out)
    assert len({p.ts for p in out}) == 1200  # receipt stamps: no two readings collide


def test_unset_clocks_give_the_receive_time_and_are_flagged():
    clocks, at = DeviceClocks(), utc(2026, 1, 10, 3, 0, 0)
    p = clocks.place(KEY, datetime(1970, 1, 1, 0, 0, 3), at)  # Tasmota before NTP sync
    assert (p.ts, p.device_time, p.off) == (at, False, True)
    p = clocks.place(("shelly_gen2", "x"), datetime.fromtimestamp(3.2, UTC), at)  # Gen2 uptime seconds
    assert (p.ts, p.device_time, p.off) == (at, False, True)
    # once synced, the flag clears with the first reading
    p = clocks.place(KEY, tasmota_time(at), at + timedelta(seconds=1))
    assert (p.ts, p.off) == (at + timedelta(seconds=1), False)


def test_a_backlog_after_an_outage_keeps_the_device_times():
    clocks, start = DeviceClocks(seed=lambda key: 60), utc(2026, 1, 10, 3, 0, 0)  # learned earlier
    delivered = start + timedelta(hours=2)  # the bridge was away; the broker queued 1 per 10 s
    for i in range(1, 700):
        measured = start + timedelta(seconds=10 * i)
        p = clocks.place(KEY, tasmota_time(measured), delivered + timedelta(milliseconds=5 * i))
        assert p.ts == measured and p.device_time and p.offset_min == 60 and not p.off


def test_a_drifting_clock_is_flagged_and_timed_by_receipt():
    clocks, start = DeviceClocks(), utc(2026, 1, 10, 3, 0, 0)
    clocks.place(KEY, tasmota_time(start), start)
    results = []
    for minute in range(1, 16):
        at = start + timedelta(minutes=minute)
        results.append(clocks.place(KEY, tasmota_time(at + timedelta(minutes=5)), at))  # 5 min fast
    assert not results[0].off and results[-1].off  # flagged once it has lasted 10 minutes
    assert all(not r.device_time and r.ts == start + timedelta(minutes=i + 1) for i, r in enumerate(results))


def test_an_aware_clock_ahead_or_too_old_is_not_trusted():
    clocks, at = DeviceClocks(), utc(2026, 1, 10, 3, 0, 0)
    key = ("shelly_gen2", "x")
    p = clocks.place(key, at + timedelta(minutes=3), at)
    assert (p.ts, p.device_time, p.off) == (at, False, True)
    p = clocks.place(key, at - timedelta(days=8), at)
    assert (p.ts, p.off) == (at, True)
    p = clocks.place(key, at - timedelta(seconds=30), at)  # a healthy one again
    assert (p.ts, p.device_time, p.off) == (at - timedelta(seconds=30), True, False)
    p = clocks.place(key, at - timedelta(hours=3), at)  # a queued message: its own time
    assert (p.ts, p.device_time, p.off) == (at - timedelta(hours=3), True, False)


def _run_across(start: datetime, minutes: int) -> list:
    clocks, out = DeviceClocks(seed=lambda key: start.astimezone(BERLIN).utcoffset().seconds // 60), []
    for m in range(minutes):
        measured = start + timedelta(minutes=m)
        out.append((measured, clocks.place(KEY, tasmota_time(measured), measured + timedelta(seconds=2))))
    return out


def test_dst_end_and_start_on_the_device_never_misplace_a_reading():
    # CEST -> CET at 2026-10-25 01:00 UTC (device clock jumps back), CET -> CEST at 2026-03-29 01:00 UTC
    autumn = _run_across(utc(2026, 10, 25, 0, 0), 120)
    spring = _run_across(utc(2026, 3, 29, 0, 0), 120)
    for measured, p in autumn + spring:
        assert not p.off
        # device-timed, or for the minute DST starts (a new offset not yet confirmed) its receipt
        assert (p.ts, p.device_time) == (measured, True) or p.ts == measured + timedelta(seconds=2)
    assert sum(not p.device_time for _, p in autumn + spring) == 1
    assert autumn[0][1].offset_min == 120 and autumn[-1][1].offset_min == 60  # re-learned after 20 min
    assert spring[0][1].offset_min == 60 and spring[-1][1].offset_min == 120


def test_dst_ended_while_the_device_was_away_is_learned_after_a_while():
    clocks, start = DeviceClocks(seed=lambda key: 120), utc(2026, 10, 24, 23, 0)  # learned in CEST
    back = utc(2026, 10, 25, 3, 0)  # offline across the change, back in CET (+60): clock ran forward
    out = [clocks.place(KEY, tasmota_time(back + timedelta(minutes=m)), back + timedelta(minutes=m, seconds=2))
           for m in range(0, 30)]
    assert out[0].offset_min == 120 and out[-1].offset_min == 60
    assert out[-1].ts == back + timedelta(minutes=29)  # right again once learned
    assert all(not p.off for p in out)


async def test_the_bridge_stores_wrong_zone_and_unset_clocks_at_the_right_time(db):
    from backend.plugs import service
    from backend.plugs.ingest import Ingestor
    from backend.plugs.models import Plug
    from backend.plugs.readings import Vendor
    from tests.builders import build_world, principal_of
    from tests.plugs.test_plug_service import _reading_times

    world = await build_world()
    parent = await principal_of(world.family_a1.parent)
    plugs = []
    for device in ("tasmota_cet", "tasmota_nontp"):
        issued = await service.create_pairing_code(db, parent, parent.household_id)
        plugs.append((await service.pair_plug(db, issued.code, Vendor.TASMOTA, device, "TV", parent)).plug)
    now = datetime.now(UTC).replace(microsecond=0)
    ingestor = Ingestor()
    await ingestor.directory.refresh()
    sensor = '{"Time":"%s","ENERGY":{"Total":1.5,"Power":40}}'
    before = now - timedelta(seconds=60)  # the bridge has seen this device's clock for a minute
    ingestor.submit("tele/tasmota_cet/SENSOR", (sensor % tasmota_time(before).isoformat()).encode(),
                    received_at=before + timedelta(seconds=1))
    ingestor.submit("tele/tasmota_cet/SENSOR", (sensor % tasmota_time(now).isoformat()).encode(),
                    received_at=now + timedelta(seconds=1))
    ingestor.submit("tele/tasmota_nontp/SENSOR", (sensor % "1970-01-01T00:00:03").encode(),
                    received_at=now + timedelta(seconds=1))
    result = await ingestor.flush()
    assert result.stored == 3 and not result.rejects
    assert await _reading_times(plugs[0].id) == [before + timedelta(seconds=1), now]
    assert await _reading_times(plugs[1].id) == [now + timedelta(seconds=1)]
    cet, nontp = [await Plug.get(id=p.id) for p in plugs]
    assert (cet.clock_offset_min, cet.clock_off) == (60 if now.astimezone(BERLIN).utcoffset().seconds == 3600
                                                     else 120, False)
    assert nontp.clock_off is True
