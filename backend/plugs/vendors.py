"""Vendor wire formats: MQTT/HTTP messages in, :mod:`readings` records out, and back.

Pure functions, no I/O: this runs on the bridge's hot path (tens of thousands of messages
a second), so topics are split rather than matched with regexes and a payload is decoded
at most once. The vendors' default layouts (other layouts are mapped onto these by
:mod:`backend.plugs.topics`); multi-channel devices give one record per channel:

* Tasmota (FullTopic ``%prefix%/%topic%/``): ``tele/<t>/SENSOR|STATE|LWT``,
  ``stat/<t>/POWER[n]|RESULT``; per-channel ``Power``/``Total`` lists or objects; commands on
  ``cmnd/<t>/POWER[n]``.
* Shelly Gen1: ``shellies/<id>/relay/<n>[/power|/energy]`` (energy in watt-minutes), EM/3EM
  ``shellies/<id>/emeter/<n>/power|total|total_returned`` (Wh), ``shellies/<id>/online``;
  commands on ``shellies/<id>/relay/<n>/command``.
* Shelly Gen2+ (topic prefix = device id): ``<id>/status/switch:<n>`` (``pm1``, ``em``,
  ``emdata``, ``em1``, ``em1data``), ``<id>/online``, ``<id>/events/rpc`` (NotifyStatus);
  commands are RPC frames on ``<id>/rpc``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo

from backend.plugs.readings import (
    Availability,
    Ignored,
    Parsed,
    Reading,
    Rejected,
    RejectReason,
    Several,
    SwitchState,
    Vendor,
)

MAX_PLUG_POWER_W = 3680.0  # 16 A x 230 V
MAX_METER_POWER_W = 43_470.0  # a whole-home meter: 3 x 63 A x 230 V
MAX_CHANNELS = 16
MAX_PAYLOAD_BYTES = 4096
MAX_FUTURE = timedelta(minutes=5)
MAX_AGE = timedelta(days=7)
BRIDGE_RPC_SRC = "pvpp-bridge"

COMMAND_CHANNELS = 8  # outlets a switch command can address (Pro 4PM, Power Strip, 4CH: 4)
SUBSCRIPTIONS: tuple[str, ...] = (
    "tele/+/SENSOR", "tele/+/LWT", "tele/+/STATE", "stat/+/+",
    "shellies/+/relay/+", "shellies/+/relay/+/power", "shellies/+/relay/+/energy",
    "shellies/+/emeter/+/power", "shellies/+/emeter/+/total", "shellies/+/emeter/+/total_returned",
    "shellies/+/online", "+/status/+", "+/online", "+/events/rpc",
)
COMMAND_SUBSCRIPTIONS: tuple[str, ...] = (
    "cmnd/+/POWER", *(f"cmnd/+/POWER{i}" for i in range(2, COMMAND_CHANNELS + 1)),
    "shellies/+/relay/+/command", "+/rpc")

# First topic levels owned by Tasmota / Shelly Gen1; never read as a Gen2 prefix.
_RESERVED = frozenset({"tele", "stat", "cmnd", "shellies"})
#: never accepted as a Gen2 topic prefix at pairing (its account could write these trees)
RESERVED_PREFIXES = _RESERVED | {"tasmota", "homeassistant", BRIDGE_RPC_SRC}
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")
_ON_OFF = {"ON": True, "OFF": False}
_SHELLY_RELAY = {"on": True, "off": False, "overpower": False}  # overpower: relay tripped off
_TRUE_FALSE = {"true": True, "false": False}
_ONLINE = {"Online": True, "Offline": False}
_R = RejectReason


def valid_device_id(device_id: str) -> bool:
    """1-64 characters of ``[A-Za-z0-9_.:-]`` (no MQTT wildcards or level separators)."""
    return 0 < len(device_id) <= 64 and _ID_CHARS.issuperset(device_id)


# --- value helpers ---------------------------------------------------------------------

def _text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Rejected(_R.MALFORMED, "payload is not UTF-8") from None


def _json(payload: bytes) -> object:
    try:
        return json.loads(payload.decode("utf-8"))
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise Rejected(_R.MALFORMED, "payload is not JSON") from None


def _obj(value: object, what: str) -> dict:
    if type(value) is not dict:
        raise Rejected(_R.WRONG_TYPE, f"{what} is {type(value).__name__}, not an object")
    return value


def _check(f: float, what: str) -> float:
    if not math.isfinite(f):
        raise Rejected(_R.NOT_FINITE, f"{what} is {f}")
    if f < 0:
        raise Rejected(_R.NEGATIVE, f"{what} is {f}")
    return f


def _num(value: object, what: str) -> float:
    """A finite, non-negative JSON number (bools are not numbers)."""
    t = type(value)
    if t is float:
        return _check(value, what)
    if t is int:
        try:
            return _check(float(value), what)
        except OverflowError:
            raise Rejected(_R.NOT_FINITE, f"{what} overflows a float") from None
    raise Rejected(_R.WRONG_TYPE, f"{what} is {t.__name__}, not a number")


def _text_num(payload: bytes, what: str) -> float:
    """A number sent as plain text (Shelly Gen1)."""
    text = _text(payload)
    try:
        if "_" in text:
            raise ValueError
        value = float(text)
    except ValueError:
        raise Rejected(_R.MALFORMED, f"{what} {text[:40]!r} is not a number") from None
    return _check(value, what)


def _power(value: object) -> float:
    watts = _num(value, "power")
    if watts > MAX_PLUG_POWER_W:
        raise Rejected(_R.SPIKE, f"power {watts} W above {MAX_PLUG_POWER_W} W")
    return watts


def _signed_power(value: object) -> float:
    """Power that may be negative: a plug feeding in (balcony solar) reports it so."""
    t = type(value)
    if (t is float or t is int) and value < 0:
        watts = -_num(-value, "power")
        if watts < -MAX_PLUG_POWER_W:
            raise Rejected(_R.SPIKE, f"power {watts} W below -{MAX_PLUG_POWER_W} W")
        return watts
    return _power(value)


def _meter_power(value: object) -> float:
    """A whole-home meter's signed power (import positive, export negative)."""
    t = type(value)
    if t is not float and t is not int:
        raise Rejected(_R.WRONG_TYPE, f"power is {t.__name__}, not a number")
    watts = -_num(-value, "power") if value < 0 else _num(value, "power")
    if abs(watts) > MAX_METER_POWER_W:
        raise Rejected(_R.SPIKE, f"power {watts} W beyond {MAX_METER_POWER_W} W")
    return watts


def _channels(value: object, what: str, conv) -> list | None:
    """Tasmota per-channel values: a list, or an object by channel in its order (each value
    checked); a scalar is one value. None when absent."""
    if value is None:
        return None
    t = type(value)
    if t is list or t is dict:
        values = value if t is list else list(value.values())
        if not values:
            raise Rejected(_R.WRONG_TYPE, f"{what} has no channels")
        if len(values) > MAX_CHANNELS:
            raise Rejected(_R.WRONG_TYPE, f"{what} has {len(values)} channels")
        return [conv(v) for v in values]
    return [conv(value)]


def _channel_of(text: str) -> int | None:
    """``"3"`` -> 3 for a channel index in a topic or component key; None if not one."""
    if not text.isdigit() or len(text) > 2:
        return None
    n = int(text)
    return n if n < MAX_CHANNELS else None


def _opt(value: object, conv) -> float | None:
    return None if value is None else conv(value)


def _window(ts: datetime, received_at: datetime, max_future: timedelta, max_age: timedelta) -> datetime:
    if ts - received_at > max_future:
        raise Rejected(_R.FUTURE, f"{ts.isoformat()} is after receive time {received_at.isoformat()}")
    if received_at - ts > max_age:
        raise Rejected(_R.TOO_OLD, f"{ts.isoformat()} is older than {max_age}")
    return ts


def _unix(value: object, received_at: datetime, max_future: timedelta, max_age: timedelta) -> datetime:
    """Unix seconds to UTC, range-checked as numbers first so huge values cannot overflow."""
    if type(value) is not float and type(value) is not int:
        raise Rejected(_R.WRONG_TYPE, f"timestamp is {type(value).__name__}, not a number")
    try:
        secs = float(value)
    except OverflowError:
        secs = math.inf
    if not math.isfinite(secs):
        raise Rejected(_R.NOT_FINITE, f"timestamp is {secs}")
    now = received_at.timestamp()
    if secs - now > max_future.total_seconds():
        raise Rejected(_R.FUTURE, f"timestamp {secs} is after receive time {now}")
    if now - secs > max_age.total_seconds():
        raise Rejected(_R.TOO_OLD, f"timestamp {secs} is older than {max_age}")
    return datetime.fromtimestamp(secs, UTC)


_UNSET_CLOCK = datetime(1970, 1, 1, tzinfo=UTC)


def _clock_unix(value: object) -> datetime:
    """A device's Unix time as UTC; out of range means an unset clock (1970)."""
    if type(value) is not float and type(value) is not int:
        raise Rejected(_R.WRONG_TYPE, f"timestamp is {type(value).__name__}, not a number")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return _UNSET_CLOCK


def _clock_text(value: str) -> datetime | None:
    """Tasmota ``Time``: naive (the device's zone) or with an offset (to UTC); None if garbage."""
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return None
    if ts.tzinfo is None:
        return ts
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        return _UNSET_CLOCK


def _iso(value: str, tz: tzinfo | None) -> datetime | None:
    """ISO 8601 to UTC; a naive value is read in ``tz`` (None: naive is refused)."""
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return None
    if ts.tzinfo is None:
        if tz is None:
            return None
        ts = ts.replace(tzinfo=tz)
    try:
        return ts.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted out of range: clearly outside any window
        return datetime.min.replace(tzinfo=UTC) if ts.year < 5000 else datetime.max.replace(tzinfo=UTC)


# --- MQTT ------------------------------------------------------------------------------

def parse_mqtt(topic: str, payload: bytes, received_at: datetime) -> Parsed:
    """Turn one MQTT message into a record, or raise :class:`Rejected`.

    ``received_at`` is tz-aware UTC and the reading's time; the device's own clock, if the
    payload has one, goes into ``Reading.clock`` for :mod:`backend.plugs.clock` to judge.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejected(_R.OVERSIZED, f"{len(payload)} bytes")
    parts = topic.split("/")
    n = len(parts)
    head = parts[0]
    if head in _RESERVED:
        if head == "shellies":
            return _shelly_gen1(topic, parts, payload, received_at)
        if n == 3:
            if not valid_device_id(parts[1]):
                raise Rejected(_R.UNKNOWN_TOPIC, f"bad device id in {topic[:100]!r}")
            if head == "tele":
                return _tasmota_tele(topic, parts[1], parts[2], payload, received_at)
            if head == "stat":
                return _tasmota_stat(topic, parts[1], parts[2], payload)
            return Ignored(topic)  # cmnd/...: a command, not telemetry
    elif n == 2 or n == 3:
        if not valid_device_id(head):
            raise Rejected(_R.UNKNOWN_TOPIC, f"bad device id in {topic[:100]!r}")
        return _shelly_gen2(topic, head, parts, payload, received_at)
    raise Rejected(_R.UNKNOWN_TOPIC, topic[:100])


def _tasmota_tele(topic, device, kind, payload, received_at) -> Parsed:
    if kind == "SENSOR":
        data = _obj(_json(payload), "SENSOR")
        energy = data.get("ENERGY")
        if energy is None:
            return Ignored(topic)
        energy = _obj(energy, "ENERGY")
        time = data.get("Time")
        clock = _clock_text(time) if type(time) is str else None
        return _tasmota_energy(device, energy, received_at, clock)
    if kind == "LWT":
        online = _ONLINE.get(_text(payload))
        if online is None:
            raise Rejected(_R.MALFORMED, "LWT is not Online/Offline")
        return Availability(Vendor.TASMOTA, device, online)
    if kind == "STATE":
        return _tasmota_power_json(topic, device, payload)
    return Ignored(topic)


def _tasmota_energy(device: str, energy: dict, received_at: datetime, clock: datetime | None) -> Parsed:
    """``ENERGY`` of ``tele/<t>/SENSOR``: one reading per channel.

    Multi-channel devices (Shelly 2.5, Sonoff Dual R3, 4CH Pro with Tasmota) send ``Power`` as
    a list (``[298,7,0]``) or an object by channel; ``Total`` is per channel with
    ``SetOption129 1`` and otherwise one sum over all channels, which belongs to no channel:
    then the channels carry power only (their energy is integrated from it)."""
    powers = _channels(energy.get("Power"), "Power", _signed_power)
    totals = _channels(energy.get("Total"), "Total", lambda v: _num(v, "Total"))
    exports = _channels(energy.get("ExportActive"), "ExportActive", lambda v: _num(v, "ExportActive"))
    if powers is None and totals is None:
        raise Rejected(_R.MALFORMED, "ENERGY has neither Power nor Total")
    n = max(len(v) for v in (powers, totals) if v is not None)

    def at(values: list | None, i: int, scale: float = 1.0) -> float | None:
        return None if values is None or len(values) != n else values[i] * scale

    readings = []
    for i in range(n):
        power_w, counter_wh = at(powers, i), at(totals, i, 1000.0)
        if power_w is None and counter_wh is None:
            continue
        readings.append(Reading(Vendor.TASMOTA, device, received_at, power_w, counter_wh, False, None, clock,
                                at(exports, i, 1000.0), i))
    if not readings:
        raise Rejected(_R.MALFORMED, "ENERGY channels do not match")
    return readings[0] if len(readings) == 1 else Several(tuple(readings))


def _tasmota_relay(word: str) -> int | None:
    """``POWER`` / ``POWER1`` -> channel 0, ``POWER2`` -> 1 …; None for anything else."""
    if word == "POWER":
        return 0
    n = _channel_of(word[5:])
    return None if not n else n - 1


def _tasmota_stat(topic, device, kind, payload) -> Parsed:
    if kind.startswith("POWER"):
        channel = _tasmota_relay(kind)
        if channel is None:
            return Ignored(topic)
        on = _ON_OFF.get(_text(payload))
        if on is None:
            raise Rejected(_R.MALFORMED, "POWER is not ON/OFF")
        return SwitchState(Vendor.TASMOTA, device, on, channel)
    if kind == "RESULT":
        return _tasmota_power_json(topic, device, payload)
    return Ignored(topic)


def _tasmota_power_json(topic, device, payload) -> Parsed:
    """STATE / RESULT: ``{"POWER": "ON"}``, or ``POWER1``…``POWERn`` on multi-relay devices."""
    data = _obj(_json(payload), "payload")
    states = []
    for key, value in data.items():
        channel = _tasmota_relay(key) if key.startswith("POWER") else None
        if channel is None:
            continue
        if type(value) is not str:
            raise Rejected(_R.WRONG_TYPE, f"{key} is {type(value).__name__}")
        on = _ON_OFF.get(value)
        if on is None:
            raise Rejected(_R.MALFORMED, f"{key} is not ON/OFF")
        states.append(SwitchState(Vendor.TASMOTA, device, on, channel))
    if not states:
        return Ignored(topic)
    return states[0] if len(states) == 1 else Several(tuple(states))


def _shelly_gen1(topic, parts, payload, received_at) -> Parsed:
    n = len(parts)
    if n == 2:
        return Ignored(topic)  # shellies/announce, shellies/command
    device = parts[1]
    if not valid_device_id(device):
        raise Rejected(_R.UNKNOWN_TOPIC, f"bad device id in {topic[:100]!r}")
    if n == 3:
        if parts[2] == "online":
            online = _TRUE_FALSE.get(_text(payload))
            if online is None:
                raise Rejected(_R.MALFORMED, "online is not true/false")
            return Availability(Vendor.SHELLY_GEN1, device, online)
        return Ignored(topic)
    channel = _channel_of(parts[3])
    if channel is None or parts[2] not in ("relay", "emeter"):
        return Ignored(topic)
    if parts[2] == "emeter":
        return _shelly_gen1_emeter(topic, device, channel, parts[4] if n == 5 else "", payload, received_at)
    if n == 4:
        on = _SHELLY_RELAY.get(_text(payload))
        if on is None:
            raise Rejected(_R.MALFORMED, "relay state is not on/off")
        return SwitchState(Vendor.SHELLY_GEN1, device, on, channel)
    if n == 5:
        if parts[4] == "power":
            return Reading(Vendor.SHELLY_GEN1, device, received_at,
                           _power(_text_num(payload, "power")), None, channel=channel)
        if parts[4] == "energy":
            return Reading(Vendor.SHELLY_GEN1, device, received_at,
                           None, _text_num(payload, "energy") / 60.0, channel=channel)
    return Ignored(topic)


def _shelly_gen1_emeter(topic, device, channel, kind, payload, received_at) -> Parsed:
    """Shelly EM / 3EM ``emeter/<i>/…``: ``power`` W (negative when exporting), ``total`` Wh
    (the counter kept in flash), ``total_returned`` Wh. ``energy`` and ``returned_energy``
    (watt-minutes since boot) are left out: one counter per series, never two bases mixed."""
    if kind == "power":
        text = _text(payload)
        try:
            value = float(text)
        except ValueError:
            raise Rejected(_R.MALFORMED, f"power {text[:40]!r} is not a number") from None
        if not math.isfinite(value):
            raise Rejected(_R.NOT_FINITE, f"power is {value}")
        return Reading(Vendor.SHELLY_GEN1, device, received_at, _meter_power(value), None,
                       channel=channel, meter=True)
    if kind == "total":
        return Reading(Vendor.SHELLY_GEN1, device, received_at, None, _text_num(payload, "total"),
                       channel=channel, meter=True)
    if kind == "total_returned":
        return Reading(Vendor.SHELLY_GEN1, device, received_at, None, None, returned_wh=_text_num(
            payload, "total_returned"), channel=channel, meter=True)
    return Ignored(topic)


def _shelly_gen2(topic, device, parts, payload, received_at) -> Parsed:
    if len(parts) == 2:
        if parts[1] == "online":
            online = _TRUE_FALSE.get(_text(payload))
            if online is None:
                raise Rejected(_R.MALFORMED, "online is not true/false")
            return Availability(Vendor.SHELLY_GEN2, device, online)
        if parts[1] == "rpc":
            return Ignored(topic)  # an RPC request/response frame, not telemetry
    elif parts[1] == "status":
        kind, channel = _gen2_component(parts[2])
        if kind is None:
            return Ignored(topic)
        found = _gen2_record(kind, channel, device, _obj(_json(payload), parts[2]), received_at, None)
        return Ignored(topic) if found is None else found
    elif parts[1] == "events" and parts[2] == "rpc":
        frame = _obj(_json(payload), "frame")
        if frame.get("method") not in ("NotifyStatus", "NotifyFullStatus"):
            return Ignored(topic)
        params = _obj(frame.get("params"), "params")
        ts = params.get("ts")
        clock = None if ts is None else _clock_unix(ts)
        found = []
        for key, value in params.items():
            kind, channel = _gen2_component(key)
            if kind is not None:
                record = _gen2_record(kind, channel, device, _obj(value, key), received_at, clock)
                if record is not None:
                    found.append(record)
        if not found:
            return Ignored(topic)
        return found[0] if len(found) == 1 else Several(tuple(found))
    raise Rejected(_R.UNKNOWN_TOPIC, topic[:100])


#: Gen2+ components that meter a channel: switches and power meters like a plug, energy
#: meters (Pro 3EM ``em``/``emdata``, Pro EM ``em1``/``em1data``) as whole-home meters
_GEN2_KINDS = frozenset({"switch", "pm1", "em", "emdata", "em1", "em1data"})


def _gen2_component(key: str) -> tuple[str | None, int]:
    """``"switch:2"`` -> ("switch", 2); (None, 0) for components that carry no metering."""
    kind, _, index = key.partition(":")
    if kind not in _GEN2_KINDS:
        return None, 0
    channel = _channel_of(index)
    return (None, 0) if channel is None else (kind, channel)


def _gen2_record(kind: str, channel: int, device: str, status: dict, received_at: datetime,
                 clock: datetime | None) -> Reading | SwitchState | None:
    if kind == "switch" or kind == "pm1":
        return _gen2_switch(device, channel, status, received_at, clock)
    if kind == "em":
        power_w, counter_wh, returned_wh = _opt(status.get("total_act_power"), _meter_power), None, None
    elif kind == "em1":
        power_w, counter_wh, returned_wh = _opt(status.get("act_power"), _meter_power), None, None
    else:  # emdata / em1data: the energy counters, Wh
        names = ("total_act", "total_act_ret") if kind == "emdata" else ("total_act_energy", "total_act_ret_energy")
        power_w = None
        counter_wh = _opt(status.get(names[0]), lambda v: _num(v, names[0]))
        returned_wh = _opt(status.get(names[1]), lambda v: _num(v, names[1]))
    if power_w is None and counter_wh is None and returned_wh is None:
        return None
    return Reading(Vendor.SHELLY_GEN2, device, received_at, power_w, counter_wh, False, None, clock, returned_wh,
                   channel, True)


def _gen2_switch(device: str, channel: int, sw: dict, received_at: datetime,
                 clock: datetime | None) -> Reading | SwitchState | None:
    """A (possibly partial) Switch status: Reading if metered, else SwitchState / None."""
    output = sw.get("output")
    if output is not None and type(output) is not bool:
        raise Rejected(_R.WRONG_TYPE, f"output is {type(output).__name__}")
    power_w = _opt(sw.get("apower"), _signed_power)
    returned_wh = None
    ret = sw.get("ret_aenergy")
    if ret is not None:
        returned_wh = _opt(_obj(ret, "ret_aenergy").get("total"), lambda v: _num(v, "ret_aenergy.total"))
    aenergy = sw.get("aenergy")
    counter_wh = None
    if aenergy is not None:
        total = _obj(aenergy, "aenergy").get("total")
        if total is None:
            raise Rejected(_R.MALFORMED, "aenergy without total")
        counter_wh = _num(total, "aenergy.total")
    if power_w is None and counter_wh is None:
        if output is None:
            return None
        return SwitchState(Vendor.SHELLY_GEN2, device, output, channel)
    return Reading(Vendor.SHELLY_GEN2, device, received_at, power_w, counter_wh, False, output, clock, returned_wh,
                   channel)


# --- HTTP push -------------------------------------------------------------------------

def parse_http_item(device_id: str, item: Mapping, received_at: datetime, *,
                    max_future: timedelta = MAX_FUTURE, max_age: timedelta = MAX_AGE) -> Reading:
    """One item of the generic HTTP push: ``{"ts", "powerW"?, "energyWh"?}``."""
    if not valid_device_id(device_id):
        raise Rejected(_R.UNKNOWN_DEVICE, f"bad device id {device_id[:100]!r}")
    if not isinstance(item, Mapping):
        raise Rejected(_R.WRONG_TYPE, f"item is {type(item).__name__}, not an object")
    raw = item.get("ts")
    if raw is None:
        raise Rejected(_R.MALFORMED, "ts missing")
    if type(raw) is str:
        ts = _iso(raw, None)
        if ts is None:
            raise Rejected(_R.MALFORMED, "ts is not ISO 8601 with an offset")
        _window(ts, received_at, max_future, max_age)
    else:
        ts = _unix(raw, received_at, max_future, max_age)
    power_w = _opt(item.get("powerW"), _power)
    counter_wh = _opt(item.get("energyWh"), lambda v: _num(v, "energyWh"))
    if power_w is None and counter_wh is None:
        raise Rejected(_R.MALFORMED, "neither powerW nor energyWh")
    return Reading(Vendor.HTTP, device_id, ts, power_w, counter_wh, True)


# --- device side: rendering and commands -----------------------------------------------

def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _need_id(device_id: str) -> None:
    if not valid_device_id(device_id):
        raise ValueError(f"bad device id {device_id!r}")


def _no_mqtt(vendor: Vendor) -> ValueError:
    return ValueError(f"{vendor} has no MQTT channel")


def render_reading(vendor: Vendor, device_id: str, ts: datetime, power_w: float, counter_wh: float,
                   tz: tzinfo, relay_on: bool = True, zone_in_time: bool = False,
                   channel: int = 0) -> list[tuple[str, bytes]]:
    """The messages a real device publishes for one measurement (what the simulator sends).

    Tasmota: ``tele/STATE`` then ``tele/SENSOR`` (Time in ``tz`` to the second — naive as by
    default, with its UTC offset when ``zone_in_time``, as with ``SetOption52 1`` —, Total in
    kWh to 3 decimals, Power in whole watts as with default WattRes); Shelly Gen1: power then
    energy (whole watt-minutes) on ``relay/<channel>``; Gen2: ``status/switch:<channel>``.
    """
    _need_id(device_id)
    if vendor is Vendor.TASMOTA:
        local = ts.astimezone(tz)
        time = local.isoformat(timespec="seconds") if zone_in_time else local.strftime("%Y-%m-%dT%H:%M:%S")
        watts = round(power_w)
        state = {"Time": time, "Uptime": "0T01:00:00", "UptimeSec": 3600, "Heap": 26,
                 "SleepMode": "Dynamic", "Sleep": 50, "LoadAvg": 19, "MqttCount": 1,
                 "POWER": "ON" if relay_on else "OFF"}
        energy = {"TotalStartTime": "2024-01-01T00:00:00", "Total": round(counter_wh / 1000.0, 3),
                  "Yesterday": 0.0, "Today": 0.0, "Period": 0, "Power": watts,
                  "ApparentPower": watts, "ReactivePower": 0, "Factor": 1.0 if watts else 0.0,
                  "Voltage": 230, "Current": round(power_w / 230.0, 3)}
        return [(f"tele/{device_id}/STATE", _dumps(state)),
                (f"tele/{device_id}/SENSOR", _dumps({"Time": time, "ENERGY": energy}))]
    if vendor is Vendor.SHELLY_GEN1:
        base = f"shellies/{device_id}/relay/{channel}"
        return [(f"{base}/power", f"{power_w:.2f}".encode()),
                (f"{base}/energy", str(round(counter_wh * 60.0)).encode())]
    if vendor is Vendor.SHELLY_GEN2:
        minute_ts = int(ts.timestamp()) // 60 * 60
        per_min = round(power_w * 1000.0 / 60.0, 3)  # mWh in one minute at this power
        status = {"id": channel, "source": "init", "output": relay_on, "apower": round(power_w, 1),
                  "voltage": 230.0, "freq": 50.0, "current": round(power_w / 230.0, 3),
                  "aenergy": {"total": round(counter_wh, 3), "by_minute": [per_min] * 3,
                              "minute_ts": minute_ts},
                  "temperature": {"tC": 35.0, "tF": 95.0}}
        return [(f"{device_id}/status/switch:{channel}", _dumps(status))]
    raise _no_mqtt(vendor)


def render_http_item(ts: datetime, power_w: float | None, counter_wh: float | None) -> dict:
    """One generic HTTP push item (the inverse of :func:`parse_http_item`)."""
    item: dict = {"ts": ts.isoformat()}
    if power_w is not None:
        item["powerW"] = power_w
    if counter_wh is not None:
        item["energyWh"] = counter_wh
    return item


def render_availability(vendor: Vendor, device_id: str, online: bool) -> tuple[str, bytes]:
    """The last-will / online message (what the broker publishes when a device drops)."""
    _need_id(device_id)
    if vendor is Vendor.TASMOTA:
        return f"tele/{device_id}/LWT", b"Online" if online else b"Offline"
    flag = b"true" if online else b"false"
    if vendor is Vendor.SHELLY_GEN1:
        return f"shellies/{device_id}/online", flag
    if vendor is Vendor.SHELLY_GEN2:
        return f"{device_id}/online", flag
    raise _no_mqtt(vendor)


def render_switch_state(vendor: Vendor, device_id: str, on: bool,
                        ts: datetime | None = None, channel: int = 0) -> tuple[str, bytes]:
    """A device confirming its relay state (Gen2: a NotifyStatus frame, ``ts`` if given)."""
    _need_id(device_id)
    if vendor is Vendor.TASMOTA:
        return f"stat/{device_id}/{_tasmota_power_word(channel)}", b"ON" if on else b"OFF"
    if vendor is Vendor.SHELLY_GEN1:
        return f"shellies/{device_id}/relay/{channel}", b"on" if on else b"off"
    if vendor is Vendor.SHELLY_GEN2:
        params: dict = {f"switch:{channel}": {"id": channel, "output": on, "source": "MQTT"}}
        if ts is not None:
            params = {"ts": round(ts.timestamp(), 2), **params}
        frame = {"src": device_id, "dst": f"{device_id}/events", "method": "NotifyStatus",
                 "params": params}
        return f"{device_id}/events/rpc", _dumps(frame)
    raise _no_mqtt(vendor)


def _tasmota_power_word(channel: int) -> str:
    return "POWER" if channel == 0 else f"POWER{channel + 1}"


def switch_command(vendor: Vendor, device_id: str, on: bool, request_id: int = 1,
                   channel: int = 0) -> tuple[str, bytes]:
    """The topic and payload that switch a device's relay (outlet ``channel``); ValueError
    for HTTP-only plugs and channels beyond :data:`COMMAND_CHANNELS`."""
    _need_id(device_id)
    if not 0 <= channel < COMMAND_CHANNELS:
        raise ValueError(f"channel {channel} cannot be switched")
    if vendor is Vendor.TASMOTA:
        return f"cmnd/{device_id}/{_tasmota_power_word(channel)}", b"ON" if on else b"OFF"
    if vendor is Vendor.SHELLY_GEN1:
        return f"shellies/{device_id}/relay/{channel}/command", b"on" if on else b"off"
    if vendor is Vendor.SHELLY_GEN2:
        frame = {"id": request_id, "src": BRIDGE_RPC_SRC, "method": "Switch.Set",
                 "params": {"id": channel, "on": on}}
        return f"{device_id}/rpc", _dumps(frame)
    raise ValueError(f"{vendor} has no command channel")


_COMMAND_WORDS = {"on": True, "1": True, "true": True, "off": False, "0": False, "false": False}


def parse_command(topic: str, payload: bytes) -> tuple[Vendor, str, bool, int] | None:
    """The device side of :func:`switch_command`: ``(vendor, device_id, on, channel)`` or None.

    Never raises: anything else (toggle, queries, RPC responses, garbage) is None.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    parts = topic.split("/")
    n = len(parts)
    try:
        if n == 3 and parts[0] == "cmnd" and parts[2].upper().startswith("POWER"):
            vendor, device, channel = Vendor.TASMOTA, parts[1], _tasmota_relay(parts[2].upper())
            on = _COMMAND_WORDS.get(payload.decode("utf-8").strip().lower())
        elif n == 5 and parts[0] == "shellies" and parts[2] == "relay" and parts[4] == "command":
            vendor, device, channel = Vendor.SHELLY_GEN1, parts[1], _channel_of(parts[3])
            on = _COMMAND_WORDS.get(payload.decode("utf-8").strip())
        elif n == 2 and parts[1] == "rpc" and parts[0] not in _RESERVED:
            vendor, device = Vendor.SHELLY_GEN2, parts[0]
            frame = json.loads(payload.decode("utf-8"))
            params = frame.get("params") if type(frame) is dict else None
            if frame.get("method") != "Switch.Set" or type(params) is not dict:
                return None
            channel = params.get("id")
            if type(channel) is not int or not 0 <= channel < COMMAND_CHANNELS:
                return None
            on = params.get("on")
            if type(on) is not bool:
                return None
        else:
            return None
    except (ValueError, RecursionError, AttributeError):
        return None
    if on is None or channel is None or not valid_device_id(device):
        return None
    return vendor, device, on, channel
