"""The simulated plug fleet: deterministic, realistic energy, spread reports, anomalies."""

from __future__ import annotations

import collections
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from backend.plugs.fleet_model import (
    DAY_S,
    DEFAULT_REPORT_INTERVAL_S,
    MAX_POWER_W,
    OFFLINE_MAX_S,
    OFFLINE_MIN_S,
    DeviceKind,
    Emission,
    EmissionKind,
    FleetModel,
    local_hour,
    local_weekday,
)
from backend.plugs.readings import Vendor

SEOUL = ZoneInfo("Asia/Seoul")
T0 = datetime(2026, 3, 2, tzinfo=SEOUL).timestamp()   # a Monday, local midnight
ID_PATTERNS = {
    Vendor.TASMOTA: re.compile(r"^tasmota_[0-9A-F]{6}$"),
    Vendor.SHELLY_GEN1: re.compile(r"^shellyplug-s-[0-9A-F]{12}$"),
    Vendor.SHELLY_GEN2: re.compile(r"^shellyplusplugs-[0-9a-f]{12}$"),
}


def _key(e: Emission) -> tuple:
    return (e.kind, e.device_id, e.ts, e.power_w, e.counter_wh, e.online, e.relay_on)


def _readings(ems: list[Emission]) -> list[Emission]:
    return [e for e in ems if e.kind is EmissionKind.READING]


def _run(model: FleetModel, days: float, step_s: float = 3600.0) -> list[Emission]:
    return list(model.history(T0, T0 + days * DAY_S, step_s))


# --- construction -------------------------------------------------------------------------

def test_fleet_composition_and_ids() -> None:
    model = FleetModel(400, seed=7)
    per_house = collections.Counter(p.household for p in model.plugs)
    assert set(per_house) == set(range(400))
    assert all(2 <= n <= 5 for n in per_house.values())
    kinds = collections.Counter(p.kind for p in model.plugs)
    assert set(kinds) == set(DeviceKind)
    assert kinds[DeviceKind.FRIDGE] < 400 * 0.6      # only some households plug the fridge
    for house in range(400):
        hk = collections.Counter(p.kind for p in model.plugs if p.household == house)
        assert hk[DeviceKind.FRIDGE] <= 1 and hk[DeviceKind.WASHING_MACHINE] <= 1
    ids = [p.device_id for p in model.plugs]
    assert len(set(ids)) == len(ids)
    vendors = collections.Counter(p.vendor for p in model.plugs)
    assert Vendor.HTTP not in vendors and len(vendors) == 3
    for p in model.plugs:
        assert ID_PATTERNS[p.vendor].match(p.device_id), p.device_id
        assert p.report_interval_s == DEFAULT_REPORT_INTERVAL_S[p.vendor]
        assert model.plug(p.device_id) is p
        assert p.relay_on and p.online and p.counter_wh >= 0
    assert model.plug("tasmota_000000X") is None


def test_vendor_mix_interval_override_and_plug_range() -> None:
    model = FleetModel(50, seed=1, vendor_mix={Vendor.HTTP: 1.0}, report_interval_s=5.0,
                       plugs_per_household=(1, 1))
    assert len(model.plugs) == 50
    assert {p.vendor for p in model.plugs} == {Vendor.HTTP}
    assert {p.report_interval_s for p in model.plugs} == {5.0}
    with pytest.raises(ValueError):
        FleetModel(1, vendor_mix={Vendor.TASMOTA: 0.0})
    with pytest.raises(ValueError):
        FleetModel(1, plugs_per_household=(3, 2))


def test_local_time_is_seoul() -> None:
    for ts in (T0, T0 + 3 * 3600 + 17, T0 + 5.5 * DAY_S, 1_700_000_000.0):
        dt = datetime.fromtimestamp(ts, SEOUL)
        assert local_hour(ts) == pytest.approx(dt.hour + dt.minute / 60 + dt.second / 3600)
        assert local_weekday(ts) == dt.weekday()


# --- determinism --------------------------------------------------------------------------

def test_same_seed_same_fleet_and_emissions() -> None:
    a, b = FleetModel(30, seed=42), FleetModel(30, seed=42)
    assert [(p.device_id, p.kind, p.vendor) for p in a.plugs] == \
        [(p.device_id, p.kind, p.vendor) for p in b.plugs]
    ea = [_key(e) for e in _run(a, 1.0, 60)]
    eb = [_key(e) for e in _run(b, 1.0, 60)]
    assert ea == eb and len(ea) > 1000
    c = FleetModel(30, seed=43)
    assert [p.device_id for p in c.plugs] != [p.device_id for p in a.plugs]


def test_output_does_not_depend_on_step_size() -> None:
    fine = [_key(e) for e in _run(FleetModel(20, seed=5), 1.0, 7.0)]
    coarse = [_key(e) for e in _run(FleetModel(20, seed=5), 1.0, 3600.0)]
    assert fine == coarse


def test_emissions_in_time_order_and_bounded() -> None:
    model = FleetModel(40, seed=9)
    model.advance(T0)
    for k in range(1, 200):
        ems = model.advance(T0 + k * 37.0)
        ts = [e.ts for e in ems]
        assert ts == sorted(ts)
        assert all(T0 + (k - 1) * 37.0 < t <= T0 + k * 37.0 for t in ts)
    with pytest.raises(ValueError):
        model.advance(T0)
    with pytest.raises(ValueError):
        list(model.history(T0, T0 + 10))


# --- realistic energy and shapes ------------------------------------------------------------

ENERGY_KWH_PER_DAY = {   # fleet mean must fall in these; each plug in a wider sanity range
    DeviceKind.TV: (0.2, 0.8),
    DeviceKind.FRIDGE: (0.8, 1.6),
    DeviceKind.STANDBY: (0.05, 0.4),
    DeviceKind.PC: (0.15, 1.2),
    DeviceKind.CONSOLE: (0.15, 1.0),
}


def test_daily_energy_per_device_kind() -> None:
    days = 28
    model = FleetModel(80, seed=11, anomalies=False, report_interval_s=3600.0)
    start = {p.device_id: p.counter_wh for p in model.plugs}
    _run(model, days)
    per_kind: dict[DeviceKind, list[float]] = collections.defaultdict(list)
    for p in model.plugs:
        per_kind[p.kind].append((p.counter_wh - start[p.device_id]) / 1000.0)
    for kind, (lo, hi) in ENERGY_KWH_PER_DAY.items():
        daily = [kwh / days for kwh in per_kind[kind]]
        mean = sum(daily) / len(daily)
        assert lo <= mean <= hi, (kind, mean)
        assert all(lo * 0.5 <= d <= hi * 1.5 for d in daily), (kind, daily)
    weekly = [kwh / (days / 7) for kwh in per_kind[DeviceKind.WASHING_MACHINE]]
    assert 2.0 <= sum(weekly) / len(weekly) <= 8.0, weekly
    assert all(1.0 <= w <= 10.0 for w in weekly), weekly


def test_power_limits_and_daily_shapes() -> None:
    model = FleetModel(50, seed=3, anomalies=False, report_interval_s=120.0)
    ems = _readings(_run(model, 7.0))
    assert all(0.0 <= e.power_w < 3_680.0 and e.power_w <= MAX_POWER_W for e in ems)
    by_kind: dict[DeviceKind, list[Emission]] = collections.defaultdict(list)
    for e in ems:
        by_kind[e.plug.kind].append(e)

    def on_hours(kind: DeviceKind, threshold: float) -> list[float]:
        return [local_hour(e.ts) for e in by_kind[kind] if e.power_w > threshold]

    tv = on_hours(DeviceKind.TV, 40.0)
    assert sum(18 <= h or h < 1 for h in tv) / len(tv) > 0.6       # mostly evenings
    assert max(e.power_w for e in by_kind[DeviceKind.TV]) < 130.0
    assert min(e.power_w for e in by_kind[DeviceKind.TV]) < 1.0      # standby ~0.5 W
    pc = on_hours(DeviceKind.PC, 30.0)
    assert sum(13 <= h or h < 1 for h in pc) / len(pc) > 0.9
    fridge = by_kind[DeviceKind.FRIDGE]
    duty = sum(e.power_w > 50.0 for e in fridge) / len(fridge)
    assert 0.28 <= duty <= 0.5, duty                                  # compressor ~35 %
    washer = by_kind[DeviceKind.WASHING_MACHINE]
    assert max(e.power_w for e in washer) >= 1_400.0                  # heating phase
    washers = len({e.device_id for e in washer})
    heating_min = 2 * sum(e.power_w > 1_000.0 for e in washer) / washers  # 1 per 2 min
    assert 3 * 13 * 0.8 <= heating_min <= 5 * 20 * 1.2                # 3-5 cycles x ~15 min
    standby = by_kind[DeviceKind.STANDBY]
    assert all(2.5 <= e.power_w <= 16.0 for e in standby)


# --- relay ------------------------------------------------------------------------------------

def test_relay_off_stops_energy_and_power() -> None:
    model = FleetModel(10, seed=2, anomalies=False, report_interval_s=300.0)
    model.advance(T0)
    fridge_or_any = next((p for p in model.plugs if p.kind is DeviceKind.FRIDGE),
                         model.plugs[0])
    model.advance(T0 + 3600)
    assert model.set_relay(fridge_or_any.device_id, False) is True
    frozen = fridge_or_any.counter_wh
    ems = [e for t in range(1, 25) for e in model.advance(T0 + 3600 + t * 3600)
           if e.plug is fridge_or_any]
    assert ems and all(e.power_w == 0.0 and not e.relay_on for e in ems)
    assert fridge_or_any.counter_wh == frozen
    assert all(e.counter_wh == frozen for e in ems)
    assert model.set_relay(fridge_or_any.device_id, True) is True
    model.advance(T0 + 3 * DAY_S)
    assert fridge_or_any.counter_wh > frozen
    assert model.set_relay("shellyplug-s-000000000000", True) is False


def test_status_poll_and_sync() -> None:
    model = FleetModel(5, seed=2, anomalies=False)
    plug = model.plugs[0]
    assert model.status(plug.device_id) is None           # clock not started
    model.advance(T0)
    model.advance(T0 + 7_200.0)
    before = plug.counter_wh
    st = model.status(plug.device_id)
    assert st is not None and st.ts == T0 + 7_200.0 and st.counter_wh >= before
    assert model.status("nope") is None
    model.advance(T0 + 7_250.0)
    model.sync()
    assert all(p._t == T0 + 7_250.0 for p in model.plugs)


def test_offline_plug_does_not_obey_switch() -> None:
    model = FleetModel(20, seed=4, offline_rate_per_day=50.0, reset_rate_per_day=0.0)
    model.advance(T0)
    t = T0
    while not any(not p.online for p in model.plugs):
        t += 60.0
        model.advance(t)
    plug = next(p for p in model.plugs if not p.online)
    assert model.set_relay(plug.device_id, False) is False
    assert plug.relay_on is True


# --- report spread ----------------------------------------------------------------------------

def test_reports_spread_over_the_interval() -> None:
    model = FleetModel(400, seed=6, vendor_mix={Vendor.TASMOTA: 1.0}, anomalies=False)
    n = len(model.plugs)
    model.advance(T0)
    per_second = [len(model.advance(T0 + s)) for s in range(1, 301)]
    assert sum(per_second) == n                       # one TelePeriod: one report each
    assert max(per_second) <= 0.02 * n + 3            # never a thundering herd
    per_30s = [sum(per_second[i:i + 30]) for i in range(0, 300, 30)]
    assert all(abs(c - n / 10) <= 0.05 * n for c in per_30s), per_30s
    shelly = FleetModel(100, seed=6, vendor_mix={Vendor.SHELLY_GEN1: 1.0}, anomalies=False)
    ems = _run(shelly, 300 / DAY_S, 1.0)
    counts = collections.Counter(e.device_id for e in _readings(ems))
    assert set(counts.values()) == {10}               # every 30 s


# --- anomalies ----------------------------------------------------------------------------------

def _drops(ems: list[Emission]) -> dict[str, int]:
    last: dict[str, float] = {}
    drops: collections.Counter[str] = collections.Counter()
    for e in _readings(ems):
        prev = last.get(e.device_id)
        if prev is not None and e.counter_wh < prev:
            drops[e.device_id] += 1
        last[e.device_id] = e.counter_wh
    return drops


def test_anomalies_at_configured_rates() -> None:
    days = 6.0
    model = FleetModel(40, seed=8, report_interval_s=120.0, reset_rate_per_day=1.0,
                       offline_rate_per_day=2.0, duplicate_rate=0.05)
    ems = _run(model, days)
    n = len(model.plugs)
    resets = sum(p.resets for p in model.plugs)
    assert 0.7 * n * days <= resets <= 1.3 * n * days
    # offline spells: rate 2/day while online, mean spell 65 min
    expected = n * days * 2.0 / (1 + 2.0 * (OFFLINE_MIN_S + OFFLINE_MAX_S) / 2 / DAY_S)
    spells = sum(p.offline_spells for p in model.plugs)
    assert 0.7 * expected <= spells <= 1.3 * expected
    readings = _readings(ems)
    dups = [i for i, e in enumerate(ems) if e.kind is EmissionKind.DUPLICATE]
    assert 0.035 <= len(dups) / len(readings) <= 0.065
    for i in dups:                                    # exact re-send of the reading before
        prev, dup = ems[i - 1], ems[i]
        assert prev.kind is EmissionKind.READING
        assert _key(prev)[1:] == _key(dup)[1:]
    # availability alternates offline/online; no readings while offline; 10-120 min spells
    state = {p.device_id: True for p in model.plugs}
    went_offline: dict[str, float] = {}
    for e in ems[n:]:                                 # skip the initial "online" of each plug
        if e.kind is EmissionKind.AVAILABILITY:
            assert e.online != state[e.device_id]
            state[e.device_id] = e.online
            if not e.online:
                went_offline[e.device_id] = e.ts
            else:
                length = e.ts - went_offline.pop(e.device_id)
                assert OFFLINE_MIN_S - 1 <= length <= OFFLINE_MAX_S + 1
        else:
            assert state[e.device_id], "a reading from an offline plug"
    # the counter only drops at modelled resets, and drops back near zero
    drops = _drops(ems)
    assert sum(drops.values()) >= 0.9 * resets
    for p in model.plugs:
        assert drops[p.device_id] <= p.resets


def test_default_anomaly_rates_are_low_but_present() -> None:
    days = 60.0
    model = FleetModel(60, seed=12, report_interval_s=3600.0)
    ems = _run(model, days, 6 * 3600.0)
    n = len(model.plugs)
    resets = sum(p.resets for p in model.plugs)
    assert 0.6 * n * days / 30 <= resets <= 1.4 * n * days / 30
    spells = sum(p.offline_spells for p in model.plugs)
    assert 0.6 * n * days / 14 <= spells <= 1.4 * n * days / 14
    dups = sum(e.kind is EmissionKind.DUPLICATE for e in ems)
    assert 0.002 <= dups / len(_readings(ems)) <= 0.009


def test_no_anomalies_when_off() -> None:
    model = FleetModel(40, seed=8, anomalies=False, report_interval_s=120.0,
                       reset_rate_per_day=5.0, offline_rate_per_day=5.0, duplicate_rate=0.5)
    ems = _run(model, 5.0)
    n = len(model.plugs)
    assert all(e.kind is EmissionKind.AVAILABILITY and e.online for e in ems[:n])
    assert all(e.kind is EmissionKind.READING for e in ems[n:])
    assert all(p.resets == 0 and p.offline_spells == 0 and p.online for p in model.plugs)
    assert not _drops(ems)                             # monotonic counters
    per_plug = collections.Counter(e.device_id for e in ems[n:])
    assert set(per_plug.values()) == {5 * 720}


def test_steady_households_never_drop_out_and_leave_the_rest_unchanged() -> None:
    rates = dict(report_interval_s=120.0, reset_rate_per_day=2.0, offline_rate_per_day=3.0)
    steady = FleetModel(12, seed=4, steady_households={0, 5}, **rates)
    plain = FleetModel(12, seed=4, **rates)
    ems, ref = _run(steady, 4.0), _run(plain, 4.0)
    quiet = {p.device_id for p in steady.plugs if p.household in {0, 5}}
    assert quiet and all(p.resets == 0 and p.offline_spells == 0 for p in steady.plugs if p.device_id in quiet)
    assert not _drops([e for e in ems if e.device_id in quiet])
    assert sum(p.offline_spells for p in plain.plugs if p.device_id in quiet) > 0  # they would have
    others = [_key(e) for e in ems if e.device_id not in quiet]
    assert others == [_key(e) for e in ref if e.device_id not in quiet] and others


def test_counter_keeps_counting_while_offline() -> None:
    on = FleetModel(20, seed=21, offline_rate_per_day=6.0, reset_rate_per_day=0.0)
    off = FleetModel(20, seed=21, anomalies=False)
    _run(on, 3.0)
    _run(off, 3.0)
    on.sync()
    off.sync()
    assert sum(p.offline_spells for p in on.plugs) > 50
    for a, b in zip(on.plugs, off.plugs, strict=True):
        assert a.counter_wh == pytest.approx(b.counter_wh, rel=1e-9)


# --- performance ----------------------------------------------------------------------------------

def test_advance_ten_thousand_plugs_over_one_interval() -> None:
    model = FleetModel(2_900, seed=1)
    assert len(model.plugs) >= 10_000
    model.advance(T0 + 20 * 3600)
    began = time.perf_counter()
    emitted = sum(len(model.advance(T0 + 20 * 3600 + s)) for s in range(1, 301))
    spent = time.perf_counter() - began
    assert emitted > len(model.plugs)
    print(f"\n{len(model.plugs)} plugs, 300 x 1 s advances: {spent * 1e3:.0f} ms, "
          f"{emitted} emissions, {spent / emitted * 1e6:.2f} us/emission, "
          f"{spent / 300 / len(model.plugs) * 1e6:.3f} us/plug/advance")


def test_tasmota_strips_report_all_outlets_in_one_sensor_message():
    """With --strip-share, Tasmota households get a 4CH-style device whose outlets report together:
    one SENSOR with Power and Total lists (SetOption129 1), read back as one reading per channel."""
    from datetime import UTC

    from backend.plugs.simulator import fleet_messages
    from backend.plugs.vendors import parse_mqtt

    fleet = FleetModel(400, seed=7, report_interval_s=10.0, strip_share=0.5)
    assert fleet.strip_sizes and all(2 <= n <= 4 for n in fleet.strip_sizes.values())
    shelly = {p.device_id for p in fleet.plugs if p.vendor is not Vendor.TASMOTA and p.channel}
    assert shelly  # the Shelly strips are still there
    device, size = next(iter(fleet.strip_sizes.items()))
    start = 1_714_500_000.0
    fleet.advance(start)
    emissions = fleet.advance(start + 30.0)
    sensors = []
    for emission, messages in fleet_messages(fleet, emissions, SEOUL):
        for topic, payload in messages:
            if topic == f"tele/{device}/SENSOR":
                sensors.append((emission.ts, payload))
    assert len(sensors) == 3  # every 10 s: one message for all outlets, not one per outlet
    ts, payload = sensors[0]
    readings = parse_mqtt(f"tele/{device}/SENSOR", payload, datetime.fromtimestamp(ts, UTC)).items
    assert [r.channel for r in readings] == list(range(size))
    assert all(r.device_id == device and r.counter_wh is not None for r in readings)
