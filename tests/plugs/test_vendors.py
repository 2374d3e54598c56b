"""Vendor parsers, renderers and commands: documented payloads, round trips, nasty input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backend.plugs import vendors as v
from backend.plugs.clock import DeviceClocks
from backend.plugs.readings import (
    Availability,
    Ignored,
    Reading,
    Rejected,
    RejectReason,
    Several,
    SwitchState,
    Vendor,
)

FIX = Path(__file__).parent / "fixtures"
SEOUL = ZoneInfo("Asia/Seoul")
R = RejectReason
MQTT_VENDORS = [Vendor.TASMOTA, Vendor.SHELLY_GEN1, Vendor.SHELLY_GEN2]
GEN2 = "shellyplusplugs-e86beae8a1b0"


def fixture(name: str) -> bytes:
    return (FIX / name).read_bytes()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def parse(topic: str, payload: bytes | str, at: datetime | None = None):
    if isinstance(payload, str):
        payload = payload.encode()
    return v.parse_mqtt(topic, payload, at or utc(2024, 5, 1, 3, 0, 0))


def rejected(reason: RejectReason, topic: str, payload: bytes | str, at=None) -> None:
    with pytest.raises(Rejected) as err:
        parse(topic, payload, at)
    assert err.value.reason == reason, err.value


# --- documented payloads ---------------------------------------------------------------

def placed(r: Reading, at: datetime) -> datetime:
    """The time a bridge gives the reading once it has seen the device's clock for a minute
    (see tests/plugs/test_clock.py)."""
    if r.clock is None:
        return r.ts
    clocks, minute = DeviceClocks(), timedelta(seconds=60)
    clocks.place((r.vendor, r.device_id), r.clock - minute, at - minute)
    return clocks.place((r.vendor, r.device_id), r.clock, at).ts


def test_tasmota_sensor_fixture_keeps_the_naive_device_clock():
    # Time 2022-01-11T21:57:38 carries no zone: the parser hands it on, the receive time is ts
    at = utc(2022, 1, 11, 12, 58, 0)
    r = parse("tele/livingroom-lamp/SENSOR", fixture("tasmota_sensor.json"), at)
    assert r == Reading(Vendor.TASMOTA, "livingroom-lamp", at, power_w=5.0, counter_wh=3705.0,
                        clock=datetime(2022, 1, 11, 21, 57, 38))
    assert placed(r, at) == utc(2022, 1, 11, 12, 57, 38)  # a device in KST (UTC+9)


def test_tasmota_sensor_same_time_other_zone():
    at = utc(2022, 1, 11, 21, 58, 0)  # the same device Time from a device kept in UTC
    r = parse("tele/lamp/SENSOR", fixture("tasmota_sensor.json"), at)
    assert placed(r, at) == utc(2022, 1, 11, 21, 57, 38)


def test_tasmota_sensor_old_firmware_fixture():
    at = utc(2018, 1, 17, 10, 0, 0)
    r = parse("tele/SonoffPOW/SENSOR", fixture("tasmota_sensor_pow.json"), at)
    assert (placed(r, at), r.power_w, r.counter_wh) == (utc(2018, 1, 17, 9, 59, 50), 9.0, 1956.0)


def test_tasmota_total_kwh_to_wh():
    r = parse("tele/p/SENSOR", '{"ENERGY":{"Total":1.234,"Power":0}}')
    assert r.counter_wh == 1234.0 and r.power_w == 0.0


def _channels(parsed) -> list[tuple[int, float | None, float | None]]:
    items = parsed.items if isinstance(parsed, Several) else (parsed,)
    return [(r.channel, r.power_w, r.counter_wh) for r in items]


def test_tasmota_multichannel_is_one_reading_per_channel():
    # Power per channel, Total one sum over the channels (Tasmota's default): the sum belongs to
    # no channel, so each channel carries its power only
    at = utc(2024, 5, 1, 3, 0, 30)
    r = parse("tele/dual/SENSOR", fixture("tasmota_sensor_multichannel.json"), at)
    assert _channels(r) == [(0, 42.0, None), (1, 7.0, None)]
    assert all(placed(x, at) == utc(2024, 5, 1, 3, 0, 0) for x in r.items)
    assert _channels(parse("tele/s25/SENSOR", fixture("tasmota_sensor_shelly25.json"), at)) == [
        (0, 31.25, None), (1, 58.4, None)]
    # SetOption129 1: Total per channel too (and ExportActive per channel)
    r = parse("tele/strip/SENSOR", fixture("tasmota_sensor_setoption129.json"), at)
    assert _channels(r) == [(0, 298.0, 1250.0), (1, 7.0, 375.0), (2, 0.0, 0.0)]
    assert [x.returned_wh for x in r.items] == [0.0, 0.0, 0.0]
    r = parse("tele/dual/SENSOR", '{"ENERGY":{"Total":{"1":0.25,"2":0.5},"Power":{"1":10,"2":-4}}}', at)
    assert _channels(r) == [(0, 10.0, 250.0), (1, -4.0, 500.0)]
    # a one-element list is channel 0, like a scalar
    assert _channels(parse("tele/p/SENSOR", '{"ENERGY":{"Total":[0.5],"Power":[3]}}', at)) == [(0, 3.0, 500.0)]


def test_tasmota_relays_by_channel():
    assert parse("stat/strip/POWER3", "OFF") == SwitchState(Vendor.TASMOTA, "strip", False, 2)
    assert parse("stat/strip/POWER1", "ON") == SwitchState(Vendor.TASMOTA, "strip", True, 0)
    state = parse("tele/strip/STATE", '{"Time":"2024-05-01T12:00:00","POWER1":"ON","POWER2":"OFF","POWER4":"ON"}')
    assert state.items == (SwitchState(Vendor.TASMOTA, "strip", True, 0), SwitchState(Vendor.TASMOTA, "strip", False, 1),
                           SwitchState(Vendor.TASMOTA, "strip", True, 3))
    assert isinstance(parse("stat/strip/POWER0", "ON"), Ignored)


def _lines(name: str) -> list[tuple[str, str]]:
    return [tuple(line.split(" ", 1)) for line in fixture(name).decode().splitlines() if line]


def test_shelly_gen1_relays_and_energy_meters_by_channel():
    parsed = [parse(t, p) for t, p in _lines("shelly_gen1_relay1_messages.txt")]
    assert parsed[3] == SwitchState(Vendor.SHELLY_GEN1, "shellyswitch25-A1B2C3", False, 1)
    assert [(r.channel, r.power_w, r.counter_wh) for r in parsed if isinstance(r, Reading)] == [
        (0, 43.21, None), (0, None, 102.0), (1, 0.0, None), (1, None, 30.5)]  # energy: watt-minutes
    em = {t: parse(t, p) for t, p in _lines("shelly_em_messages.txt")}
    base = "shellies/shellyem-B9F2A4/emeter"
    assert em[f"{base}/0/power"] == Reading(Vendor.SHELLY_GEN1, "shellyem-B9F2A4", em[f"{base}/0/power"].ts, 412.57,
                                            None, channel=0, meter=True)
    assert (em[f"{base}/0/total"].counter_wh, em[f"{base}/0/total"].meter) == (95321.4, True)
    assert em[f"{base}/1/power"].power_w == -311.2 and em[f"{base}/1/total_returned"].returned_wh == 5521.7
    # watt-minutes since boot next to the Wh counter: left out, never a second counter
    assert isinstance(em[f"{base}/0/energy"], Ignored) and isinstance(em[f"{base}/0/voltage"], Ignored)
    rejected(R.SPIKE, f"{base}/0/power", "50000")  # beyond a 3 x 63 A home
    assert parse(f"{base}/0/power", "9000").power_w == 9000.0  # a home may draw what a plug cannot


def test_shelly_gen2_multi_switch_devices_by_channel():
    r = parse("shellypro4pm-c8f09e8a1b2c/status/switch:2", fixture("shelly_pro4pm_status_switch2.json"))
    assert (r.channel, r.power_w, r.counter_wh, r.returned_wh, r.relay_on) == (2, 118.6, 71858.772, 0.0, True)
    frame = parse("shellyplus2pm-08f9e0e48c18/events/rpc", fixture("shelly_plus2pm_notify_two_switches.json"))
    assert [(x.channel, x.power_w, x.counter_wh) for x in frame.items] == [(0, 9.4, 41.626), (1, 0.0, 118.358)]
    assert all(x.clock == utc(2024, 5, 1, 5, 20, 0, 640000) for x in frame.items)
    assert parse("strip/status/switch:3", '{"id":3,"output":false}') == SwitchState(Vendor.SHELLY_GEN2, "strip", False, 3)
    assert parse("mini/status/pm1:0", '{"id":0,"apower":3.5,"aenergy":{"total":12.5}}').counter_wh == 12.5
    assert isinstance(parse("strip/status/sys", '{"mac":"x"}'), Ignored)


def test_shelly_gen2_energy_meters():
    em = parse("shellypro3em-x/status/em:0", fixture("shelly_pro3em_status_em0.json"))
    assert (em.channel, em.power_w, em.counter_wh, em.meter) == (0, 2884.1, None, True)
    data = parse("shellypro3em-x/status/emdata:0", fixture("shelly_pro3em_status_emdata0.json"))
    assert (data.power_w, data.counter_wh, data.returned_wh, data.meter) == (None, 813232.79, 1023.55, True)
    em1 = parse("shellyproem50-x/status/em1:1", fixture("shelly_proem_status_em1.json"))
    assert (em1.channel, em1.power_w, em1.meter) == (1, 6769.3, True)
    data1 = parse("shellyproem50-x/status/em1data:1", '{"id":1,"total_act_energy":9671.54,"total_act_ret_energy":2595.26}')
    assert (data1.channel, data1.counter_wh, data1.returned_wh) == (1, 9671.54, 2595.26)


def test_tasmota_time_with_offset_is_respected():
    r = parse("tele/p/SENSOR", '{"Time":"2024-05-01T12:00:00+09:00","ENERGY":{"Power":1}}')
    assert r.clock == utc(2024, 5, 1, 3, 0, 0) and placed(r, utc(2024, 5, 1, 3, 0, 5)) == r.clock


@pytest.mark.parametrize("time", ['"not a time"', '12345', 'null', '"2024-13-01T00:00:00"'])
def test_tasmota_missing_or_bad_time_uses_receive_time(time):
    at = utc(2024, 5, 1, 3, 0, 0)
    r = parse("tele/p/SENSOR", '{"Time":%s,"ENERGY":{"Total":0.5}}' % time, at)
    assert r.ts == at and not r.device_time and r.counter_wh == 500.0
    r = parse("tele/p/SENSOR", '{"ENERGY":{"Total":0.5}}', at)
    assert r.ts == at and not r.device_time


def test_tasmota_state_result_lwt_and_stat():
    on = SwitchState(Vendor.TASMOTA, "sonoff", True)
    assert parse("tele/sonoff/STATE", fixture("tasmota_state.json")) == on
    assert parse("stat/sonoff/RESULT", fixture("tasmota_result_power1.json")) == on
    assert parse("stat/sonoff/RESULT", '{"POWER":"OFF"}') == SwitchState(Vendor.TASMOTA, "sonoff", False)
    assert parse("stat/sonoff/POWER", "ON") == SwitchState(Vendor.TASMOTA, "sonoff", True)
    assert parse("stat/sonoff/POWER", "OFF") == SwitchState(Vendor.TASMOTA, "sonoff", False)
    assert parse("tele/sonoff/LWT", "Online") == Availability(Vendor.TASMOTA, "sonoff", True)
    assert parse("tele/sonoff/LWT", "Offline") == Availability(Vendor.TASMOTA, "sonoff", False)


@pytest.mark.parametrize("topic,payload", [
    ("tele/sonoff/SENSOR", '{"Time":"2024-05-01T12:00:00","DS18B20":{"Temperature":21.5}}'),
    ("tele/sonoff/INFO1", '{"Module":"Sonoff Pow R2"}'),
    ("tele/sonoff/UPTIME", '{"Uptime":"0T01:00:00"}'),
    ("stat/sonoff/STATUS10", "whatever"),
    ("stat/sonoff/RESULT", '{"Command":"Unknown"}'),
    ("cmnd/sonoff/POWER", "ON"),
])
def test_tasmota_other_topics_ignored(topic, payload):
    assert parse(topic, payload) == Ignored(topic)


def _gen1_lines():
    for line in fixture("shelly_gen1_messages.txt").decode().splitlines():
        topic, _, payload = line.partition(" ")
        yield topic, payload


def test_shelly_gen1_fixture_messages():
    at = utc(2024, 5, 1, 3, 0, 0)
    got = {(t, p): parse(t, p, at) for t, p in _gen1_lines()}
    plug = "shellyplug-s-040BAD"
    assert got[("shellies/shelly1/online", "true")] == Availability(Vendor.SHELLY_GEN1, "shelly1", True)
    assert got[("shellies/shelly1/online", "false")] == Availability(Vendor.SHELLY_GEN1, "shelly1", False)
    assert got[("shellies/shelly1/relay/0", "on")] == SwitchState(Vendor.SHELLY_GEN1, "shelly1", True)
    assert got[("shellies/shelly1/relay/0", "off")] == SwitchState(Vendor.SHELLY_GEN1, "shelly1", False)
    assert got[(f"shellies/{plug}/relay/0/power", "29.61")] == Reading(
        Vendor.SHELLY_GEN1, plug, at, power_w=29.61, counter_wh=None)
    assert got[(f"shellies/{plug}/relay/0/energy", "6000")] == Reading(
        Vendor.SHELLY_GEN1, plug, at, power_w=None, counter_wh=100.0)
    ignored = [k for k, r in got.items() if isinstance(r, Ignored)]
    assert len(ignored) == 6  # input, input_event, 2x announce, overpower_value, temperature


def test_shelly_gen1_overpower_relay_state_is_off():
    assert parse("shellies/plug/relay/0", "overpower") == SwitchState(Vendor.SHELLY_GEN1, "plug", False)


def test_shelly_gen2_status_fixtures():
    at = utc(2021, 7, 22, 6, 36, 30)
    r = parse(f"{GEN2}/status/switch:0", fixture("shelly_gen2_status_switch0.json"), at)
    assert r == Reading(Vendor.SHELLY_GEN2, GEN2, at, power_w=8.9, counter_wh=6.532,
                        device_time=False, relay_on=True)
    r = parse("shellyplugus-083af2018c80/status/switch:0", fixture("shelly_gen2_status_plugus.json"), at)
    assert (r.power_w, r.counter_wh, r.relay_on) == (10.7, 46791.262, True)


def test_shelly_gen2_notify_fixtures():
    at = utc(2021, 9, 9, 11, 22, 30)
    assert parse(f"{GEN2}/events/rpc", fixture("shelly_gen2_notify_output.json"), at) == \
        SwitchState(Vendor.SHELLY_GEN2, GEN2, True)
    topic = f"{GEN2}/events/rpc"
    assert parse(topic, fixture("shelly_gen2_notify_cloud.json"), at) == Ignored(topic)
    at = utc(2022, 8, 26, 12, 37, 5)
    assert parse(topic, fixture("shelly_gen2_notify_voltage.json"), at) == Ignored(topic)
    r = parse(topic, fixture("shelly_gen2_notify_aenergy.json"), at)
    assert r == Reading(Vendor.SHELLY_GEN2, GEN2, at, power_w=None, counter_wh=0.0,
                        clock=datetime.fromtimestamp(1661517421.44, UTC))
    assert placed(r, at) == r.clock


def test_shelly_gen2_notify_with_power_uses_device_ts():
    frame = {"src": GEN2, "dst": "x", "method": "NotifyStatus",
             "params": {"ts": 1654511972.33, "switch:0": {"id": 0, "apower": 120.5, "output": True,
                                                          "aenergy": {"total": 1500.25}}}}
    at = utc(2022, 6, 6, 10, 40, 0)
    r = parse(f"{GEN2}/events/rpc", json.dumps(frame), at)
    assert r == Reading(Vendor.SHELLY_GEN2, GEN2, at, 120.5, 1500.25, False, True,
                        datetime.fromtimestamp(1654511972.33, UTC))
    assert placed(r, at) == r.clock


def test_shelly_gen2_online_other_methods_and_components():
    assert parse(f"{GEN2}/online", "true") == Availability(Vendor.SHELLY_GEN2, GEN2, True)
    assert parse(f"{GEN2}/online", "false") == Availability(Vendor.SHELLY_GEN2, GEN2, False)
    for topic, payload in [
        (f"{GEN2}/events/rpc", '{"src":"x","method":"NotifyEvent","params":{"ts":1,"events":[]}}'),
        (f"{GEN2}/status/sys", '{"mac":"E86BEAE8A1B0"}'),
        (f"{GEN2}/rpc", '{"id":1,"src":"pvpp-bridge","method":"Switch.Set","params":{"id":0,"on":true}}'),
    ]:
        assert parse(topic, payload) == Ignored(topic)


# --- rejects -----------------------------------------------------------------------------

SENSOR = "tele/plug/SENSOR"
STATUS = f"{GEN2}/status/switch:0"


@pytest.mark.parametrize("reason,topic,payload", [
    # malformed
    (R.MALFORMED, SENSOR, "{not json"),
    (R.MALFORMED, SENSOR, '{"ENERGY":{"Total":1.2'),  # truncated
    (R.MALFORMED, SENSOR, b"\xff\xfe{\x00}"),  # not UTF-8
    (R.MALFORMED, SENSOR, ""),
    (R.MALFORMED, SENSOR, "[" * 2000 + "]" * 2000),  # deep nesting
    (R.MALFORMED, SENSOR, '{"ENERGY":{"Voltage":230}}'),
    (R.MALFORMED, STATUS, "{'apower': 1}"),
    (R.MALFORMED, STATUS, '{"aenergy":{"by_minute":[1,2,3]}}'),
    (R.MALFORMED, "shellies/p/relay/0/power", "12,5"),
    (R.MALFORMED, "shellies/p/relay/0/power", "0x10"),
    (R.MALFORMED, "shellies/p/relay/0/energy", "1_000"),
    (R.MALFORMED, "shellies/p/relay/0/energy", b"\xc3\x28"),
    (R.MALFORMED, "shellies/p/relay/0", "maybe"),
    (R.MALFORMED, "shellies/p/online", "yes"),
    (R.MALFORMED, f"{GEN2}/online", "1"),
    (R.MALFORMED, "tele/p/LWT", "online"),
    (R.MALFORMED, "stat/p/POWER", "TOGGLE"),
    (R.MALFORMED, "stat/p/RESULT", '{"POWER":"BLINK"}'),
    # wrong type
    (R.WRONG_TYPE, SENSOR, '{"ENERGY":{"Power":"5"}}'),
    (R.WRONG_TYPE, SENSOR, '{"ENERGY":{"Power":true}}'),
    (R.WRONG_TYPE, SENSOR, '{"ENERGY":{"Total":false}}'),
    (R.WRONG_TYPE, SENSOR, '{"ENERGY":{"Total":[1.0,"2"]}}'),
    (R.WRONG_TYPE, SENSOR, '{"ENERGY":{"Power":[]}}'),
    (R.WRONG_TYPE, SENSOR, '{"ENERGY":{"Power":%s}}' % list(range(17))),  # more channels than any device
    (R.WRONG_TYPE, "strip/status/switch:1", '{"id":1,"apower":"5"}'),
    (R.SPIKE, "strip/status/switch:1", '{"id":1,"apower":3700}'),
    (R.SPIKE, "meter/status/em:0", '{"id":0,"total_act_power":-43500}'),
    (R.NOT_FINITE, "shellies/shellyem-1/emeter/0/power", "nan"),
    (R.WRONG_TYPE, SENSOR, '{"ENERGY":{"Power":[[1]]}}'),
    (R.WRONG_TYPE, SENSOR, '{"ENERGY":[1,2]}'),
    (R.WRONG_TYPE, SENSOR, "[1,2,3]"),
    (R.WRONG_TYPE, SENSOR, '"a string"'),
    (R.WRONG_TYPE, "tele/p/STATE", '{"POWER":1}'),
    (R.WRONG_TYPE, STATUS, '{"apower":{"w":1}}'),
    (R.WRONG_TYPE, STATUS, '{"apower":1,"output":"on"}'),
    (R.WRONG_TYPE, STATUS, '{"aenergy":6.5}'),
    (R.WRONG_TYPE, STATUS, "[]"),
    (R.WRONG_TYPE, f"{GEN2}/events/rpc", '{"method":"NotifyStatus","params":[]}'),
    (R.WRONG_TYPE, f"{GEN2}/events/rpc", '{"method":"NotifyStatus","params":{"ts":"now","switch:0":{"apower":1}}}'),
    (R.WRONG_TYPE, f"{GEN2}/events/rpc", '{"method":"NotifyStatus","params":{"ts":true,"switch:0":{"apower":1}}}'),
    # not finite
    (R.NOT_FINITE, SENSOR, '{"ENERGY":{"Power":NaN}}'),
    (R.NOT_FINITE, SENSOR, '{"ENERGY":{"Total":Infinity}}'),
    (R.NOT_FINITE, SENSOR, '{"ENERGY":{"Total":1e999}}'),
    (R.NOT_FINITE, SENSOR, '{"ENERGY":{"Total":1%s}}' % ("0" * 400)),
    (R.NOT_FINITE, STATUS, '{"apower":-Infinity}'),
    (R.NOT_FINITE, "shellies/p/relay/0/power", "nan"),
    (R.NOT_FINITE, "shellies/p/relay/0/energy", "inf"),
    # negative
    (R.NEGATIVE, SENSOR, '{"ENERGY":{"Total":-0.001}}'),
    (R.NEGATIVE, STATUS, '{"apower":1,"aenergy":{"total":-5}}'),
    (R.NEGATIVE, "shellies/p/relay/0/power", "-3.5"),
    (R.NEGATIVE, "shellies/p/relay/0/energy", "-60"),
    # spike
    (R.SPIKE, SENSOR, '{"ENERGY":{"Power":3680.5}}'),
    (R.SPIKE, STATUS, '{"apower":99999}'),
    (R.SPIKE, "shellies/p/relay/0/power", "5000"),
    # oversized
    (R.OVERSIZED, SENSOR, '{"ENERGY":{"Power":1},"pad":"%s"}' % ("x" * 4096)),
    (R.OVERSIZED, "shellies/p/relay/0/power", b"1" * 5000),
    # unknown topic / bad device id
    (R.UNKNOWN_TOPIC, "zigbee2mqtt/lamp/set/brightness", "1"),
    (R.UNKNOWN_TOPIC, "tele/plug/SENSOR/extra", "{}"),
    (R.UNKNOWN_TOPIC, "tele/online", "true"),
    (R.UNKNOWN_TOPIC, "justonelevel", "x"),
    (R.UNKNOWN_TOPIC, f"{GEN2}/status", "{}"),
    (R.UNKNOWN_TOPIC, f"{GEN2}/whatever", "{}"),
    (R.UNKNOWN_TOPIC, "", "x"),
    (R.UNKNOWN_TOPIC, "tele//SENSOR", "{}"),
    (R.UNKNOWN_TOPIC, "tele/%s/SENSOR" % ("a" * 65), "{}"),
    (R.UNKNOWN_TOPIC, "tele/plug 1/SENSOR", "{}"),
    (R.UNKNOWN_TOPIC, "tele/플러그/SENSOR", "{}"),
    (R.UNKNOWN_TOPIC, "shellies/bad#id/relay/0/power", "1"),
    (R.UNKNOWN_TOPIC, "bad+id/online", "true"),
])
def test_rejects(reason, topic, payload):
    rejected(reason, topic, payload)


def test_payload_limit_is_inclusive():
    payload = b'{"ENERGY":{"Power":1}}'.ljust(v.MAX_PAYLOAD_BYTES)
    assert parse(SENSOR, payload).power_w == 1.0


def test_power_limit_is_inclusive():
    assert parse(SENSOR, '{"ENERGY":{"Power":3680}}').power_w == 3680.0


def test_device_clocks_are_handed_on_never_rejected():
    at = utc(2024, 5, 1, 3, 0, 0)
    for time in ("2024-05-01T12:05:01", "9999-12-31T23:59:59", "2024-04-24T11:59:59",
                 "0001-01-01T00:00:00", "1970-01-01T09:00:07"):
        r = parse(SENSOR, '{"Time":"%s","ENERGY":{"Power":1}}' % time, at)
        assert r.ts == at and r.clock == datetime.fromisoformat(time) and r.power_w == 1.0
    notify = '{"method":"NotifyStatus","params":{"ts":%s,"switch:0":{"apower":1}}}'
    for ts in (at.timestamp() + 301, "1e300", "1.61", "-5", "NaN"):
        r = parse(f"{GEN2}/events/rpc", notify % ts, at)
        assert r.ts == at and r.power_w == 1.0 and r.clock is not None
    rejected(R.WRONG_TYPE, f"{GEN2}/events/rpc", notify % '"soon"', at)


def test_notify_switch_state_ignores_timestamp():
    # A button press reported before NTP sync still confirms the relay state.
    topic = f"{GEN2}/events/rpc"
    payload = '{"method":"NotifyStatus","params":{"ts":1.61,"switch:0":{"id":0,"output":false}}}'
    assert parse(topic, payload) == SwitchState(Vendor.SHELLY_GEN2, GEN2, False)


# --- HTTP push ---------------------------------------------------------------------------

def test_http_item():
    at = utc(2024, 5, 1, 3, 0, 0)
    r = v.parse_http_item("plug-1", {"ts": "2024-05-01T11:59:00+09:00", "powerW": 12.5, "energyWh": 1000}, at)
    assert r == Reading(Vendor.HTTP, "plug-1", utc(2024, 5, 1, 2, 59, 0), 12.5, 1000.0, True)
    r = v.parse_http_item("plug-1", {"ts": at.timestamp() - 60, "energyWh": 5.5}, at)
    assert (r.ts, r.power_w, r.counter_wh) == (utc(2024, 5, 1, 2, 59, 0), None, 5.5)
    r = v.parse_http_item("plug-1", {"ts": "2024-05-01T02:59:00Z", "powerW": 0}, at)
    assert r.ts == utc(2024, 5, 1, 2, 59, 0) and r.power_w == 0.0


@pytest.mark.parametrize("reason,item", [
    (R.MALFORMED, {"powerW": 1}),
    (R.MALFORMED, {"ts": "2024-05-01T12:00:00", "powerW": 1}),  # no offset
    (R.MALFORMED, {"ts": "yesterday", "powerW": 1}),
    (R.MALFORMED, {"ts": 1714532400}),
    (R.MALFORMED, {"ts": 1714532400, "powerW": None, "energyWh": None}),
    (R.WRONG_TYPE, {"ts": True, "powerW": 1}),
    (R.WRONG_TYPE, {"ts": [1714532400], "powerW": 1}),
    (R.WRONG_TYPE, {"ts": 1714532400, "powerW": "12"}),
    (R.WRONG_TYPE, {"ts": 1714532400, "energyWh": True}),
    (R.WRONG_TYPE, [1, 2]),
    (R.NOT_FINITE, {"ts": 1714532400, "powerW": float("nan")}),
    (R.NOT_FINITE, {"ts": float("inf"), "powerW": 1}),
    (R.NEGATIVE, {"ts": 1714532400, "energyWh": -1}),
    (R.SPIKE, {"ts": 1714532400, "powerW": 4000}),
    (R.FUTURE, {"ts": 1714532400 + 3600, "powerW": 1}),
    (R.TOO_OLD, {"ts": "2024-04-01T00:00:00+00:00", "powerW": 1}),
])
def test_http_item_rejects(reason, item):
    with pytest.raises(Rejected) as err:
        v.parse_http_item("plug-1", item, utc(2024, 5, 1, 3, 0, 0))
    assert err.value.reason == reason


@pytest.mark.parametrize("device_id", ["", "a/b", "x" * 65, "plug#1"])
def test_http_item_bad_device_id(device_id):
    with pytest.raises(Rejected) as err:
        v.parse_http_item(device_id, {"ts": 1714532400, "powerW": 1}, utc(2024, 5, 1, 3, 0, 0))
    assert err.value.reason == R.UNKNOWN_DEVICE


def test_http_round_trip():
    at = utc(2024, 5, 1, 3, 0, 0)
    item = json.loads(json.dumps(v.render_http_item(at - timedelta(seconds=30), 42.5, 1234.5)))
    assert v.parse_http_item("p", item, at) == Reading(Vendor.HTTP, "p", at - timedelta(seconds=30), 42.5, 1234.5, True)


# --- round trips -------------------------------------------------------------------------

def _readings(vendor, device_id, ts, power_w, counter_wh, relay_on=True):
    msgs = v.render_reading(vendor, device_id, ts, power_w, counter_wh, SEOUL, relay_on)
    at = ts + timedelta(seconds=2)
    return at, [parse(t, p, at) for t, p in msgs]


@pytest.mark.parametrize("vendor", MQTT_VENDORS)
@pytest.mark.parametrize("power_w,counter_wh", [(0.0, 0.0), (120.0, 1234.0), (3680.0, 987654.0)])
def test_render_reading_round_trip(vendor, power_w, counter_wh):
    ts = utc(2024, 5, 1, 3, 0, 0)
    at, parsed = _readings(vendor, "dev-1", ts, power_w, counter_wh)
    readings = [p for p in parsed if isinstance(p, Reading)]
    assert all(r.vendor == vendor and r.device_id == "dev-1" for r in readings)
    if vendor is Vendor.TASMOTA:
        assert parsed[0] == SwitchState(vendor, "dev-1", True)
        assert readings == [Reading(vendor, "dev-1", at, power_w, counter_wh, clock=datetime(2024, 5, 1, 12))]
        assert placed(readings[0], at) == ts
    elif vendor is Vendor.SHELLY_GEN1:
        assert readings == [Reading(vendor, "dev-1", at, power_w, None),
                            Reading(vendor, "dev-1", at, None, counter_wh)]
    else:
        assert readings == [Reading(vendor, "dev-1", at, power_w, counter_wh, False, True)]


def test_render_reading_rounds_like_devices():
    ts = utc(2024, 5, 1, 3, 0, 0)
    _, parsed = _readings(Vendor.TASMOTA, "t", ts, 12.4, 1234.5678)
    assert (parsed[1].power_w, parsed[1].counter_wh) == (12.0, 1235.0)  # whole W, 3-decimal kWh
    _, parsed = _readings(Vendor.SHELLY_GEN1, "g1", ts, 12.345, 100.0)
    assert (parsed[0].power_w, parsed[1].counter_wh) == (12.35, 100.0)
    _, parsed = _readings(Vendor.SHELLY_GEN2, "g2", ts, 12.34, 1.0004, relay_on=False)
    assert (parsed[0].power_w, parsed[0].counter_wh, parsed[0].relay_on) == (12.3, 1.0, False)


def test_render_tasmota_sensor_is_realistic():
    msgs = dict(v.render_reading(Vendor.TASMOTA, "t", utc(2024, 5, 1, 3, 0, 0), 230.0, 1500.0, SEOUL))
    sensor = json.loads(msgs["tele/t/SENSOR"])
    assert sensor["Time"] == "2024-05-01T12:00:00"
    assert {"TotalStartTime", "Total", "Yesterday", "Today", "Power", "Voltage", "Current"} <= sensor["ENERGY"].keys()
    assert sensor["ENERGY"]["Total"] == 1.5 and sensor["ENERGY"]["Current"] == 1.0


@pytest.mark.parametrize("vendor", MQTT_VENDORS)
@pytest.mark.parametrize("flag", [True, False])
def test_availability_and_switch_state_round_trip(vendor, flag):
    assert parse(*v.render_availability(vendor, "dev-1", flag)) == Availability(vendor, "dev-1", flag)
    assert parse(*v.render_switch_state(vendor, "dev-1", flag)) == SwitchState(vendor, "dev-1", flag)


def test_gen2_switch_state_with_ts():
    topic, payload = v.render_switch_state(Vendor.SHELLY_GEN2, GEN2, True, ts=utc(2024, 5, 1, 3, 0, 0))
    assert json.loads(payload)["params"]["ts"] == utc(2024, 5, 1, 3, 0, 0).timestamp()
    assert parse(topic, payload) == SwitchState(Vendor.SHELLY_GEN2, GEN2, True)


@pytest.mark.parametrize("fn", [
    lambda: v.render_reading(Vendor.HTTP, "p", utc(2024, 5, 1), 1.0, 1.0, SEOUL),
    lambda: v.render_availability(Vendor.HTTP, "p", True),
    lambda: v.render_switch_state(Vendor.HTTP, "p", True),
    lambda: v.switch_command(Vendor.HTTP, "p", True),
    lambda: v.switch_command(Vendor.TASMOTA, "a/#", True),
    lambda: v.render_availability(Vendor.SHELLY_GEN1, "", True),
])
def test_renderers_refuse_http_and_bad_ids(fn):
    with pytest.raises(ValueError):
        fn()


# --- commands ----------------------------------------------------------------------------

def test_switch_commands():
    assert v.switch_command(Vendor.TASMOTA, "sonoff", True) == ("cmnd/sonoff/POWER", b"ON")
    assert v.switch_command(Vendor.TASMOTA, "sonoff", False) == ("cmnd/sonoff/POWER", b"OFF")
    assert v.switch_command(Vendor.SHELLY_GEN1, "shelly1", True) == ("shellies/shelly1/relay/0/command", b"on")
    assert v.switch_command(Vendor.SHELLY_GEN1, "shelly1", False) == ("shellies/shelly1/relay/0/command", b"off")
    topic, payload = v.switch_command(Vendor.SHELLY_GEN2, GEN2, False, request_id=7)
    assert topic == f"{GEN2}/rpc"
    assert json.loads(payload) == {"id": 7, "src": "pvpp-bridge", "method": "Switch.Set",
                                   "params": {"id": 0, "on": False}}


@pytest.mark.parametrize("vendor", MQTT_VENDORS)
@pytest.mark.parametrize("on", [True, False])
def test_parse_command_round_trip(vendor, on):
    assert v.parse_command(*v.switch_command(vendor, "dev-1", on, request_id=3)) == (vendor, "dev-1", on, 0)
    for channel in (1, 3, 7):
        command = v.switch_command(vendor, "dev-1", on, request_id=3, channel=channel)
        assert v.parse_command(*command) == (vendor, "dev-1", on, channel)
        state = v.render_switch_state(vendor, "dev-1", on, channel=channel)
        assert parse(*state) == SwitchState(vendor, "dev-1", on, channel)
    with pytest.raises(ValueError):
        v.switch_command(vendor, "dev-1", on, channel=v.COMMAND_CHANNELS)


def test_switch_commands_by_channel():
    assert v.switch_command(Vendor.TASMOTA, "strip", True, channel=2) == ("cmnd/strip/POWER3", b"ON")
    assert v.switch_command(Vendor.SHELLY_GEN1, "s25", False, channel=1) == ("shellies/s25/relay/1/command", b"off")
    assert json.loads(v.switch_command(Vendor.SHELLY_GEN2, "pro4pm", True, channel=3)[1])["params"] == {
        "id": 3, "on": True}


@pytest.mark.parametrize("topic,payload,expected", [
    ("cmnd/sonoff/POWER", b"on", (Vendor.TASMOTA, "sonoff", True, 0)),
    ("cmnd/sonoff/Power", b"0", (Vendor.TASMOTA, "sonoff", False, 0)),
    ("cmnd/sonoff/POWER2", b"ON", (Vendor.TASMOTA, "sonoff", True, 1)),
    ("cmnd/sonoff/POWER0", b"ON", None),
    ("cmnd/sonoff/POWER", b"TOGGLE", None),
    ("cmnd/sonoff/POWER", b"", None),
    ("cmnd/sonoff/STATUS", b"10", None),
    ("shellies/s1/relay/0/command", b"toggle", None),
    ("shellies/s1/relay/1/command", b"on", (Vendor.SHELLY_GEN1, "s1", True, 1)),
    ("shellies/s1/relay/x/command", b"on", None),
    (f"{GEN2}/rpc", b'{"id":1,"src":"x","method":"Switch.Toggle","params":{"id":0}}', None),
    (f"{GEN2}/rpc", b'{"id":1,"src":"x","method":"Switch.Set","params":{"id":1,"on":true}}',
     (Vendor.SHELLY_GEN2, GEN2, True, 1)),
    (f"{GEN2}/rpc", b'{"id":1,"src":"x","method":"Switch.Set","params":{"id":-1,"on":true}}', None),
    (f"{GEN2}/rpc", b'{"id":1,"src":"x","method":"Switch.Set","params":{"id":false,"on":true}}', None),
    (f"{GEN2}/rpc", b'{"id":1,"src":"x","method":"Switch.Set","params":{"id":0,"on":"yes"}}', None),
    ("pvpp-bridge/rpc", b'{"id":1,"src":"dev","dst":"pvpp-bridge","result":{"was_on":true}}', None),
    (f"{GEN2}/rpc", b"{broken", None),
    (f"{GEN2}/rpc", b"[1]", None),
    (f"{GEN2}/rpc", b"\xff", None),
    ("cmnd/a b/POWER", b"ON", None),
    ("tele/sonoff/SENSOR", b"{}", None),
])
def test_parse_command_edge_cases(topic, payload, expected):
    assert v.parse_command(topic, payload) == expected


def test_subscriptions_cover_every_rendered_topic():
    def matches(filter_: str, topic: str) -> bool:
        f, t = filter_.split("/"), topic.split("/")
        return len(f) == len(t) and all(a in ("+", b) for a, b in zip(f, t, strict=True))

    ts = utc(2024, 5, 1, 3, 0, 0)
    for vendor in MQTT_VENDORS:
        topics = [t for t, _ in v.render_reading(vendor, "d", ts, 1.0, 1.0, SEOUL)]
        topics += [v.render_availability(vendor, "d", True)[0], v.render_switch_state(vendor, "d", True)[0]]
        for topic in topics:
            assert any(matches(f, topic) for f in v.SUBSCRIPTIONS), topic
        cmd = v.switch_command(vendor, "d", True)[0]
        assert any(matches(f, cmd) for f in v.COMMAND_SUBSCRIPTIONS), cmd
        assert not any(matches(f, cmd) for f in v.SUBSCRIPTIONS), cmd
