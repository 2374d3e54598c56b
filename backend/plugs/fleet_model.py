"""A deterministic, pure model of a fleet of household smart plugs (no I/O).

``pvpp simulate-plugs`` drives a :class:`FleetModel` with the wall clock (or a fast
clock for backfills) and renders each :class:`Emission` as a Tasmota / Shelly payload.
Everything here is seeded: the same ``seed`` and the same ``advance`` times give the
same emissions, and a plug's behaviour does not depend on how finely it is driven.

How it stays cheap: every plug's load is a precomputed chain of constant-power
segments (a session of TV, a compressor run), generated one local day (one week for a
washing machine) at a time from a per-plug, per-day seed. Energy is integrated exactly
over those segments, and only when something happens to the plug (a report, a switch,
an anomaly), which a single heap of due times orders. ``advance`` therefore costs
nothing for plugs that are not due and a few microseconds per emitted report.

Times are floats of epoch seconds. Local time is Asia/Seoul, a fixed UTC+9 (Korea has
not observed daylight saving since 1988), so local hours come from plain arithmetic.
Public holidays are not modelled; weekends are Saturday and Sunday.
"""

from __future__ import annotations

import enum
import heapq
import math
import random
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass

from backend.plugs.readings import Vendor

# --- Clock ------------------------------------------------------------------------------

KST_OFFSET_S = 9 * 3600   # Asia/Seoul, UTC+9 all year
DAY_S = 86_400.0
HOUR_S = 3600.0
_EPOCH_WEEKDAY = 3        # 1970-01-01 was a Thursday (Monday = 0)
_FIRST_MONDAY = 4         # local day 4 since the epoch was Monday 1970-01-05

# --- Plug limits and report cadence ----------------------------------------------------

MAX_POWER_W = 3_679.0     # a 16 A / 230 V plug carries at most 3,680 W; stay below it

# Tasmota publishes tele/<topic>/SENSOR every TelePeriod, default 300 s. Shelly Gen1
# plugs publish relay/0/power and relay/0/energy on the MQTT update period, default 30 s.
# Shelly Gen2 sends NotifyStatus on change and a periodic status; we model it as 60 s.
# An HTTP pusher batching once a minute is an assumption.
DEFAULT_REPORT_INTERVAL_S: Mapping[Vendor, float] = {
    Vendor.TASMOTA: 300.0,
    Vendor.SHELLY_GEN1: 30.0,
    Vendor.SHELLY_GEN2: 60.0,
    Vendor.HTTP: 60.0,
}

# Assumption: hobbyist plugs in Korea are mostly ESP plugs flashed with Tasmota, then
# the newer Shelly Plus Plug S, then the older Shelly Plug S.
DEFAULT_VENDOR_MIX: Mapping[Vendor, float] = {
    Vendor.TASMOTA: 0.5,
    Vendor.SHELLY_GEN1: 0.15,
    Vendor.SHELLY_GEN2: 0.35,
}
SAME_VENDOR_SHARE = 0.85  # households mostly buy one brand; the rest mix per plug

# Espressif MAC prefixes (OUIs) seen on ESP8266 / ESP32 plugs, for realistic device ids.
ESPRESSIF_OUIS = ("E868E7", "8CAAB5", "C8C9A3", "A4CF12", "3C6105", "483FDA", "84CCA8",
                  "B48A0A", "E89F6D", "30C6F7")

# --- Anomalies ---------------------------------------------------------------------------

# Assumptions from field reports of Shelly / Tasmota fleets, not measurements:
# a Shelly counter starts from zero after a reboot or firmware update, about monthly;
# a plug drops off Wi-Fi / the broker about once a fortnight for 10-120 min; an MQTT
# QoS 1 message is redelivered (seen twice) for about 0.5 % of readings.
RESET_RATE_PER_DAY = 1 / 30
OFFLINE_RATE_PER_DAY = 1 / 14
OFFLINE_MIN_S = 10 * 60.0
OFFLINE_MAX_S = 120 * 60.0
DUPLICATE_RATE = 0.005


# --- Device load figures -----------------------------------------------------------------
# Ranges (low, high) are drawn once per plug (its "model") or per session. Sources:
# manufacturer spec sheets and EU energy labels for typical 2020s appliances, and the
# EU Ecodesign standby limits (0.5 W off, <= 2 W networked standby); usage hours follow
# Korean time-use surveys (evening TV, students at PCs after school / hagwon).

class DeviceKind(enum.StrEnum):
    TV = "tv"
    PC = "pc"
    CONSOLE = "console"
    WASHING_MACHINE = "washing_machine"
    FRIDGE = "fridge"
    STANDBY = "standby"   # phone charger / set-top box / router: small and always on


TV_ON_W = (80.0, 120.0)          # 43-55" LED TV; 65" OLEDs draw more, small TVs less
TV_STANDBY_W = (0.3, 0.7)        # Ecodesign: <= 0.5 W off mode
TV_EVENING_H = (18.5, 20.5)      # evening session starts; lasts TV_EVENING_LEN_H
TV_EVENING_LEN_H = (2.0, 4.0)    # Korean households watch ~3 h/day
TV_MORNING_P, TV_MORNING_H, TV_MORNING_LEN_H = 0.35, (6.5, 7.5), (0.5, 1.0)  # news
TV_WEEKEND_DAY_P, TV_WEEKEND_DAY_H, TV_WEEKEND_DAY_LEN_H = 0.7, (10.0, 16.0), (1.0, 3.0)

PC_BROWSE_W = (60.0, 90.0)       # desktop + monitor, light use
PC_GAME_W = (140.0, 200.0)       # mid-range gaming desktop under load
PC_STANDBY_W = (1.5, 3.0)        # ATX PSU standby + monitor off
PC_STUDENT_SHARE = 0.5           # share of household PCs used by a school student
PC_STUDENT_H = ((16.0, 18.0), (21.5, 23.5))   # after school / hagwon until bedtime
PC_ADULT_H, PC_ADULT_LEN_H, PC_ADULT_P = (19.5, 21.0), (1.0, 3.0), 0.6
PC_BLOCK_MIN = (15.0, 45.0)      # length of one browsing or gaming stretch

CONSOLE_PLAY_W = (90.0, 200.0)   # PS4 / Xbox Series S ~90 W, PS5 ~200 W in game
CONSOLE_REST_W = (8.0, 12.0)     # rest mode with downloads / USB power
CONSOLE_WEEKDAY_P, CONSOLE_EVENING_H, CONSOLE_LEN_H = 0.5, (19.0, 21.5), (1.0, 2.5)
CONSOLE_WEEKEND_P, CONSOLE_WEEKEND_H = 0.8, (13.0, 16.0)

WASHER_CYCLES_PER_WEEK = (3, 5)
WASHER_HEAT_W = (1_500.0, 2_000.0)   # heating element at 40-60 C
WASHER_HEAT_MIN = (13.0, 20.0)
WASHER_WASH_W = (150.0, 250.0)       # drum motor, wash and rinse
WASHER_SPIN_W = (300.0, 400.0)       # final spin
WASHER_SPIN_MIN = (8.0, 12.0)
WASHER_FILL_W, WASHER_FILL_MIN = 30.0, (3.0, 6.0)   # valves and pump while filling
WASHER_CYCLE_H = (1.0, 2.0)
WASHER_STANDBY_W = (0.3, 0.8)
WASHER_DAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 2.5, 2.5)   # Monday..Sunday

FRIDGE_ON_W = (110.0, 150.0)     # compressor of a 600-850 l two-door fridge
FRIDGE_OFF_W = (0.2, 1.0)        # control board between runs
FRIDGE_ON_MIN = (13.0, 17.0)     # one compressor run ~15 min ...
FRIDGE_DUTY = (0.33, 0.40)       # ... off ~25-30 min: duty ~35 %, ~1-1.3 kWh/day
FRIDGE_DAYTIME_OFF_FACTOR = 0.85   # door openings 10-22 h shorten the off periods
FRIDGE_DEFROST_W, FRIDGE_DEFROST_MIN = (150.0, 250.0), (20.0, 30.0)  # one defrost a day

STANDBY_W = (3.0, 15.0)          # charger 3-5 W, router 5-10 W, IPTV set-top box ~10-15 W

# Relative noise on a reported power (the meter and small load wiggle); energy uses the
# noiseless level, so the noise only shows in the power field.
POWER_NOISE = {
    DeviceKind.TV: 0.03, DeviceKind.PC: 0.06, DeviceKind.CONSOLE: 0.05,
    DeviceKind.WASHING_MACHINE: 0.04, DeviceKind.FRIDGE: 0.03, DeviceKind.STANDBY: 0.05,
}

# Plugs a household puts on each kind: (weight when drawing a plug, most per household).
# Fridges are less often behind a plug than entertainment devices.
KIND_MIX: Mapping[DeviceKind, tuple[float, int]] = {
    DeviceKind.TV: (0.26, 2),
    DeviceKind.STANDBY: (0.24, 3),
    DeviceKind.PC: (0.17, 2),
    DeviceKind.WASHING_MACHINE: (0.12, 1),
    DeviceKind.FRIDGE: (0.11, 1),
    DeviceKind.CONSOLE: (0.10, 1),
}

INITIAL_COUNTER_WH = (0.0, 300_000.0)   # plugs have been in use for a while


# --- Cheap deterministic randomness ------------------------------------------------------

_M64 = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_U32 = 1.0 / 4_294_967_296.0


def _mix64(x: int) -> int:
    """SplitMix64 finaliser: a well-spread 64-bit hash of ``x``."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


# --- Plugs and emissions -----------------------------------------------------------------

class SimPlug:
    """One simulated plug. The driver may flip ``relay_on`` via :meth:`FleetModel.set_relay`
    and override ``report_interval_s`` (it applies from the plug's next report)."""

    __slots__ = (
        "_key",
        "_noise",
        "_rs",
        "_seg_end",
        "_seg_w",
        "_segs",
        "_t",
        "channel",
        "counter_wh",
        "device_id",
        "household",
        "index",
        "kind",
        "offline_spells",
        "online",
        "phase_s",
        "relay_on",
        "report_interval_s",
        "resets",
        "vendor",
    )

    def __init__(self, *, vendor: Vendor, device_id: str, kind: DeviceKind, household: int,
                 index: int, counter_wh: float, report_interval_s: float, phase_s: float,
                 key: int) -> None:
        self.vendor = vendor
        self.device_id = device_id
        self.channel = 0                      # the outlet of a multi-outlet device (a power strip)
        self.kind = kind
        self.household = household
        self.index = index                    # position in FleetModel.plugs
        self.counter_wh = counter_wh          # cumulative energy, Wh (0 after a reset)
        self.relay_on = True
        self.online = True
        self.report_interval_s = report_interval_s
        self.phase_s = phase_s                # first report comes this long after start
        self.resets = 0                       # counter resets so far
        self.offline_spells = 0               # offline spells started so far
        self._t = math.nan                    # time the counter is integrated up to
        self._seg_end = math.inf              # current load segment: until, watts
        self._seg_w = 0.0
        self._segs: Iterator[tuple[float, float]] = iter(())
        self._noise = POWER_NOISE[kind]
        self._rs = key                        # SplitMix64 state for per-report draws
        self._key = key                       # per-plug seed for day plans

    def __repr__(self) -> str:
        return (f"SimPlug({self.vendor}, {self.device_id!r}, {self.kind}, hh={self.household}, "
                f"counter_wh={self.counter_wh:.1f}, relay_on={self.relay_on}, "
                f"online={self.online})")

    @property
    def load_w(self) -> float:
        """The noiseless power drawn now (0 with the relay off)."""
        return self._seg_w if self.relay_on else 0.0

    def _draw(self) -> int:
        self._rs = (self._rs + _GAMMA) & _M64
        return _mix64(self._rs)

    def _uniform(self) -> float:
        return (self._draw() >> 11) * (1.0 / 9_007_199_254_740_992.0)

    def _integrate(self, t: float) -> None:
        """Move the plug's clock to ``t``, adding the energy drawn since its last step."""
        last = self._t
        if t <= last:
            return
        end = self._seg_end
        w = self._seg_w
        if end > t:
            e = w * (t - last)
        else:
            e = 0.0
            segs = self._segs
            while end <= t:
                e += w * (end - last)
                last = end
                end, w = next(segs)
            e += w * (t - last)
            self._seg_end = end
            self._seg_w = w
        self._t = t
        if self.relay_on:
            self.counter_wh += e * (1.0 / 3600.0)


class EmissionKind(enum.StrEnum):
    READING = "reading"
    AVAILABILITY = "availability"
    DUPLICATE = "duplicate"   # an exact re-send of the reading just before (QoS 1 redelivery)


@dataclass(frozen=True, slots=True)
class Emission:
    """Something a plug publishes at ``ts`` (epoch seconds).

    A reading carries the power at ``ts`` and the counter then. An availability is the
    last will (``online`` False) or the "online" message; its power and counter are the
    plug's values at that moment, for renderers that want them. A duplicate repeats the
    previous reading field for field.
    """

    kind: EmissionKind
    plug: SimPlug
    ts: float
    power_w: float
    counter_wh: float
    online: bool
    relay_on: bool

    @property
    def vendor(self) -> Vendor:
        return self.plug.vendor

    @property
    def device_id(self) -> str:
        return self.plug.device_id


# --- Load plans ----------------------------------------------------------------------------
# A plan function returns sorted, non-overlapping sessions (start, end, watts) for one
# chunk of local time; between sessions the plug draws its base (standby) power.

Session = tuple[float, float, float]
Plan = Callable[[random.Random, tuple[float, ...], float, int, float], list[Session]]


def _u(rng: random.Random, lo_hi: tuple[float, float]) -> float:
    return rng.uniform(lo_hi[0], lo_hi[1])


def _tidy(sessions: list[Session]) -> list[Session]:
    """Sort sessions and clip each to start after the previous one ends."""
    sessions.sort()
    out: list[Session] = []
    end = -math.inf
    for s, e, w in sessions:
        s = max(s, end)
        if e > s:
            out.append((s, e, w))
            end = e
    return out


def _plan_tv(rng: random.Random, p: tuple[float, ...], start: float, weekday: int,
             t_from: float) -> list[Session]:
    on_w, length_factor = p[1], p[2]
    out: list[Session] = []
    if weekday < 5 and rng.random() < TV_MORNING_P:
        s = start + _u(rng, TV_MORNING_H) * HOUR_S
        out.append((s, s + _u(rng, TV_MORNING_LEN_H) * HOUR_S, on_w * rng.uniform(0.9, 1.0)))
    if weekday >= 5 and rng.random() < TV_WEEKEND_DAY_P:
        s = start + _u(rng, TV_WEEKEND_DAY_H) * HOUR_S
        out.append((s, s + _u(rng, TV_WEEKEND_DAY_LEN_H) * HOUR_S,
                    on_w * rng.uniform(0.9, 1.0)))
    if rng.random() < 0.93:
        s = start + _u(rng, TV_EVENING_H) * HOUR_S
        out.append((s, s + _u(rng, TV_EVENING_LEN_H) * length_factor * HOUR_S,
                    on_w * rng.uniform(0.95, 1.0)))
    return _tidy(out)


def _pc_blocks(rng: random.Random, p: tuple[float, ...], s: float, e: float,
               game_p: float) -> list[Session]:
    browse_w, game_w = p[1], p[2]
    out: list[Session] = []
    while s < e:
        n = min(e, s + _u(rng, PC_BLOCK_MIN) * 60.0)
        w = game_w * rng.uniform(0.85, 1.0) if rng.random() < game_p else \
            browse_w * rng.uniform(0.9, 1.1)
        out.append((s, n, w))
        s = n
    return out


def _plan_pc(rng: random.Random, p: tuple[float, ...], start: float, weekday: int,
             t_from: float) -> list[Session]:
    student = p[3] > 0.5
    windows: list[tuple[float, float, float]] = []   # start h, end h, gaming share
    if student:
        if weekday < 5:
            windows.append((_u(rng, PC_STUDENT_H[0]), _u(rng, PC_STUDENT_H[1]), 0.35))
        else:
            windows.append((rng.uniform(13.0, 15.0), rng.uniform(17.0, 18.5), 0.5))
            windows.append((rng.uniform(19.5, 20.5), rng.uniform(22.5, 24.0), 0.5))
    else:
        if rng.random() < (PC_ADULT_P if weekday < 5 else 0.5):
            s = _u(rng, PC_ADULT_H)
            windows.append((s, s + _u(rng, PC_ADULT_LEN_H), 0.15))
        if weekday >= 5 and rng.random() < 0.7:
            s = rng.uniform(13.0, 16.0)
            windows.append((s, s + _u(rng, PC_ADULT_LEN_H), 0.25))
    out: list[Session] = []
    for sh, eh, game_p in windows:
        out.extend(_pc_blocks(rng, p, start + sh * HOUR_S, start + eh * HOUR_S, game_p))
    return _tidy(out)


def _plan_console(rng: random.Random, p: tuple[float, ...], start: float, weekday: int,
                  t_from: float) -> list[Session]:
    play_w = p[1]
    out: list[Session] = []
    if weekday >= 5 and rng.random() < CONSOLE_WEEKEND_P:
        s = start + _u(rng, CONSOLE_WEEKEND_H) * HOUR_S
        out.append((s, s + rng.uniform(1.0, 3.0) * HOUR_S, play_w * rng.uniform(0.85, 1.0)))
    if rng.random() < (CONSOLE_WEEKDAY_P if weekday < 5 else 0.6):
        s = start + _u(rng, CONSOLE_EVENING_H) * HOUR_S
        out.append((s, s + _u(rng, CONSOLE_LEN_H) * HOUR_S, play_w * rng.uniform(0.85, 1.0)))
    return _tidy(out)


def _plan_washer(rng: random.Random, p: tuple[float, ...], start: float, weekday: int,
                 t_from: float) -> list[Session]:
    """One week from Monday ``start``: 3-5 heated cycles, weighted to the weekend."""
    heat_w, wash_w, spin_w = p[1], p[2], p[3]
    n = rng.randint(*WASHER_CYCLES_PER_WEEK)
    days: list[int] = []
    weights = list(WASHER_DAY_WEIGHTS)
    for _ in range(n):
        d = rng.choices(range(7), weights)[0]
        days.append(d)
        weights[d] = 0.0
    out: list[Session] = []
    for d in sorted(days):
        if d >= 5:
            h = rng.uniform(9.0, 12.0) if rng.random() < 0.7 else rng.uniform(14.0, 17.0)
        else:
            h = rng.uniform(19.0, 21.0) if rng.random() < 0.8 else rng.uniform(7.0, 8.5)
        t = start + d * DAY_S + h * HOUR_S
        end = t + _u(rng, WASHER_CYCLE_H) * HOUR_S
        fill = t + _u(rng, WASHER_FILL_MIN) * 60.0
        heat = fill + _u(rng, WASHER_HEAT_MIN) * 60.0
        spin = end - _u(rng, WASHER_SPIN_MIN) * 60.0
        out.append((t, fill, WASHER_FILL_W))
        out.append((fill, heat, heat_w * rng.uniform(0.97, 1.0)))
        out.append((heat, spin, wash_w * rng.uniform(0.9, 1.1)))
        out.append((spin, end, spin_w * rng.uniform(0.9, 1.0)))
    return _tidy(out)


def _plan_fridge(rng: random.Random, p: tuple[float, ...], start: float, weekday: int,
                 t_from: float) -> list[Session]:
    """Compressor runs from ``t_from`` (where the previous day's last run ended) to past
    the end of the day, with one defrost heater run a day."""
    on_w, on_s, duty, defrost_w = p[1], p[2], p[3], p[4]
    off_s = on_s * (1.0 - duty) / duty
    day_end = start + DAY_S
    defrost_at = start + rng.uniform(0.0, 24.0) * HOUR_S
    out: list[Session] = []
    t = max(t_from, start) + rng.uniform(0.0, off_s)
    while t < day_end:
        e = t + on_s * rng.uniform(0.85, 1.15)
        out.append((t, e, on_w * rng.uniform(0.95, 1.05)))
        hour = (e - start) / HOUR_S
        gap = off_s * rng.uniform(0.85, 1.15)
        if 10.0 <= hour < 22.0:
            gap *= FRIDGE_DAYTIME_OFF_FACTOR
        if defrost_at is not None and e >= defrost_at:
            d = e + rng.uniform(2.0, 5.0) * 60.0
            d_end = d + _u(rng, FRIDGE_DEFROST_MIN) * 60.0
            out.append((d, d_end, defrost_w))
            e = d_end
            defrost_at = None
            gap *= 0.5   # the compressor pulls the temperature down soon after
        t = e + gap
    return out


# kind -> (plan, chunk length in days, first day of chunk 0 since the epoch)
_PLANS: Mapping[DeviceKind, tuple[Plan, int, int]] = {
    DeviceKind.TV: (_plan_tv, 1, 0),
    DeviceKind.PC: (_plan_pc, 1, 0),
    DeviceKind.CONSOLE: (_plan_console, 1, 0),
    DeviceKind.WASHING_MACHINE: (_plan_washer, 7, _FIRST_MONDAY),
    DeviceKind.FRIDGE: (_plan_fridge, 1, 0),
}


def _profile(rng: random.Random, kind: DeviceKind) -> tuple[float, ...]:
    """A plug's fixed figures; element 0 is always its base (standby / off) power."""
    if kind is DeviceKind.TV:
        return (_u(rng, TV_STANDBY_W), _u(rng, TV_ON_W), rng.uniform(0.85, 1.15))
    if kind is DeviceKind.PC:
        return (_u(rng, PC_STANDBY_W), _u(rng, PC_BROWSE_W), _u(rng, PC_GAME_W),
                1.0 if rng.random() < PC_STUDENT_SHARE else 0.0)
    if kind is DeviceKind.CONSOLE:
        return (_u(rng, CONSOLE_REST_W), _u(rng, CONSOLE_PLAY_W))
    if kind is DeviceKind.WASHING_MACHINE:
        return (_u(rng, WASHER_STANDBY_W), _u(rng, WASHER_HEAT_W), _u(rng, WASHER_WASH_W),
                _u(rng, WASHER_SPIN_W))
    if kind is DeviceKind.FRIDGE:
        return (_u(rng, FRIDGE_OFF_W), _u(rng, FRIDGE_ON_W), _u(rng, FRIDGE_ON_MIN) * 60.0,
                _u(rng, FRIDGE_DUTY), _u(rng, FRIDGE_DEFROST_W))
    return (_u(rng, STANDBY_W),)


def _segments(kind: DeviceKind, prof: tuple[float, ...], key: int,
              t0: float) -> Iterator[tuple[float, float]]:
    """Yield (until, watts) load segments from ``t0`` on, one plan chunk at a time.

    Each chunk's plan comes from its own seed (plug key, chunk number), so a plug's
    load does not depend on when or how often it is integrated.
    """
    base = prof[0]
    if kind not in _PLANS:
        yield (math.inf, base)
        return
    plan, days, origin = _PLANS[kind]
    chunk_s = days * DAY_S
    rng = random.Random()
    chunk = math.floor(((t0 + KST_OFFSET_S) / DAY_S - origin) / days)
    t = t0
    while True:
        start_day = origin + chunk * days
        start = start_day * DAY_S - KST_OFFSET_S
        rng.seed(_mix64(key ^ (chunk & _M64)))
        for s, e, w in plan(rng, prof, start, (start_day + _EPOCH_WEEKDAY) % 7, t):
            if e <= t:
                continue
            if s > t:
                yield (s, base)
            yield (e, w)
            t = e
        end = start + chunk_s
        if end > t:
            yield (end, base)
            t = end
        chunk += 1


# --- The fleet -------------------------------------------------------------------------------

_REPORT, _RESET, _OFFLINE, _ONLINE = 0, 1, 2, 3
_TSHIFT = 26                      # heap key: ms << 26 | index << 2 | event
_INDEX_MASK = (1 << 24) - 1
MAX_PLUGS = 1 << 24
_PHI = (math.sqrt(5.0) - 1.0) / 2.0


def local_hour(ts: float) -> float:
    """Hour of the day in Asia/Seoul (0 <= h < 24) for epoch seconds ``ts``."""
    return ((ts + KST_OFFSET_S) % DAY_S) / HOUR_S


def local_weekday(ts: float) -> int:
    """Day of the week in Asia/Seoul, Monday 0, for epoch seconds ``ts``."""
    return (int((ts + KST_OFFSET_S) // DAY_S) + _EPOCH_WEEKDAY) % 7


class FleetModel:
    """``households`` Korean households with 2-5 plugs each, driven by :meth:`advance`.

    ``report_interval_s`` overrides every plug's vendor default (load tests). The
    anomaly rates apply only with ``anomalies`` on; raise them for demos and tests.
    Plugs of ``steady_households`` never drop offline nor reset their counters; every other
    plug behaves exactly as it would without them (each plug draws from its own stream).
    The first :meth:`advance` starts the clock and announces every plug online.
    """

    def __init__(self, households: int, seed: int = 0, *,
                 plugs_per_household: tuple[int, int] = (2, 5),
                 vendor_mix: Mapping[Vendor, float] = DEFAULT_VENDOR_MIX,
                 anomalies: bool = True,
                 report_interval_s: float | None = None,
                 reset_rate_per_day: float = RESET_RATE_PER_DAY,
                 offline_rate_per_day: float = OFFLINE_RATE_PER_DAY,
                 duplicate_rate: float = DUPLICATE_RATE,
                 strip_share: float = 0.0,
                 steady_households: Collection[int] = ()) -> None:
        if households < 0:
            raise ValueError("households must be >= 0")
        lo, hi = plugs_per_household
        if not 1 <= lo <= hi:
            raise ValueError("plugs_per_household must be (low, high) with 1 <= low <= high")
        if report_interval_s is not None and report_interval_s <= 0:
            raise ValueError("report_interval_s must be positive")
        mix = {v: w for v, w in vendor_mix.items() if w > 0}
        if not mix:
            raise ValueError("vendor_mix needs a positive weight")
        self.households = households
        self.seed = seed
        self.anomalies = anomalies
        self.reset_rate_per_day = reset_rate_per_day if anomalies else 0.0
        self.offline_rate_per_day = offline_rate_per_day if anomalies else 0.0
        self.duplicate_rate = duplicate_rate if anomalies else 0.0
        self.steady_households = frozenset(steady_households)
        self.plugs: list[SimPlug] = []
        self._by_id: dict[str, SimPlug] = {}
        self._by_channel: dict[tuple[str, int], SimPlug] = {}  # only with multi-outlet devices
        #: Tasmota multi-outlet devices: device id -> outlets (they report in one message)
        self.strip_sizes: dict[str, int] = {}
        self._profiles: list[tuple[float, ...]] = []
        self._heap: list[int] = []
        self._now: float | None = None
        self._build(households, seed, lo, hi, mix, report_interval_s)
        if strip_share > 0:
            self._make_strips(seed, strip_share)
        if len(self.plugs) > MAX_PLUGS:
            raise ValueError(f"at most {MAX_PLUGS} plugs")

    # -- construction --

    def _build(self, households: int, seed: int, lo: int, hi: int,
               mix: Mapping[Vendor, float], interval: float | None) -> None:
        rng = random.Random(seed)
        vendors, vweights = list(mix), list(mix.values())
        kinds = list(KIND_MIX)
        kweights = [KIND_MIX[k][0] for k in kinds]
        base_key = _mix64(seed & _M64 ^ 0x5EED5EED)
        for h in range(households):
            n = rng.randint(lo, hi)
            count = dict.fromkeys(kinds, 0)
            chosen: list[DeviceKind] = []
            while len(chosen) < n:
                k = rng.choices(kinds, kweights)[0]
                if count[k] < KIND_MIX[k][1] or all(count[x] >= KIND_MIX[x][1] for x in kinds):
                    count[k] += 1
                    chosen.append(k)
            home_vendor = rng.choices(vendors, vweights)[0]
            for kind in chosen:
                vendor = home_vendor if rng.random() < SAME_VENDOR_SHARE else \
                    rng.choices(vendors, vweights)[0]
                i = len(self.plugs)
                iv = interval if interval is not None else DEFAULT_REPORT_INTERVAL_S[vendor]
                plug = SimPlug(vendor=vendor, device_id=self._new_id(rng, vendor), kind=kind,
                               household=h, index=i,
                               counter_wh=round(_u(rng, INITIAL_COUNTER_WH), 3),
                               report_interval_s=iv,
                               phase_s=((i * _PHI) % 1.0) * iv or iv,
                               key=_mix64(base_key ^ i))
                self._profiles.append(_profile(rng, kind))
                self.plugs.append(plug)
                self._by_id[plug.device_id] = plug

    def _make_strips(self, seed: int, share: float) -> None:
        """In ``share`` of the households, the plugs of one vendor become the outlets (channels
        0-3) of one multi-outlet device: a Pro 4PM / Plus 2PM (Gen2, ``switch:N``), a Shelly
        4Pro / 2.5 (Gen1, ``relay/N``) or a Sonoff 4CH Pro on Tasmota (``POWER1…4``; its
        outlets report together, one SENSOR with per-channel lists: :attr:`strip_sizes`)."""
        rng = random.Random(seed ^ 0x57_121B)
        tasmota_rng = random.Random(seed ^ 0x7A5_4C4)  # its own draws: the Shelly strips stay as they were
        by_home: dict[tuple[int, Vendor], list[SimPlug]] = {}
        for plug in self.plugs:
            if plug.vendor in (Vendor.SHELLY_GEN1, Vendor.SHELLY_GEN2, Vendor.TASMOTA):
                by_home.setdefault((plug.household, plug.vendor), []).append(plug)
        for (_, vendor), plugs in by_home.items():
            draw = tasmota_rng if vendor is Vendor.TASMOTA else rng
            if len(plugs) < 2 or draw.random() >= share:
                continue
            if vendor is Vendor.TASMOTA:
                device_id = plugs[0].device_id  # the first outlet's default Topic
                self.strip_sizes[device_id] = len(plugs[:4])
            else:
                device_id = ("shellypro4pm-" if vendor is Vendor.SHELLY_GEN2 else "shelly4pro-") + \
                    plugs[0].device_id.rsplit("-", 1)[1].lower()
            for channel, plug in enumerate(plugs[:4]):
                del self._by_id[plug.device_id]
                plug.device_id, plug.channel = device_id, channel
                if vendor is Vendor.TASMOTA:
                    plug.phase_s, plug.report_interval_s = plugs[0].phase_s, plugs[0].report_interval_s
            self._by_id[device_id] = plugs[0]
        self._by_channel = {(p.device_id, p.channel): p for p in self.plugs}

    def _new_id(self, rng: random.Random, vendor: Vendor) -> str:
        while True:
            mac = rng.choice(ESPRESSIF_OUIS) + f"{rng.getrandbits(24):06X}"
            if vendor is Vendor.TASMOTA:
                device_id = f"tasmota_{mac[6:]}"           # default Topic tasmota_%06X
            elif vendor is Vendor.SHELLY_GEN1:
                device_id = f"shellyplug-s-{mac}"
            elif vendor is Vendor.SHELLY_GEN2:
                device_id = f"shellyplusplugs-{mac.lower()}"
            else:
                device_id = f"plug-{mac.lower()}"
            if device_id not in self._by_id:
                return device_id

    # -- lookups and commands --

    @property
    def now(self) -> float | None:
        """The time of the last :meth:`advance`, or None before the first."""
        return self._now

    def plug(self, device_id: str, channel: int = 0) -> SimPlug | None:
        if channel or self._by_channel:
            return self._by_channel.get((device_id, channel))
        return self._by_id.get(device_id)

    def set_relay(self, device_id: str, on: bool, channel: int = 0) -> bool:
        """Switch a plug's relay as of the last ``advance``. False for an unknown id or an
        offline plug (the command never reaches it); True when obeyed."""
        plug = self.plug(device_id, channel)
        if plug is None or not plug.online:
            return False
        if self._now is not None:
            plug._integrate(self._now)
        plug.relay_on = bool(on)
        return True

    def status(self, device_id: str) -> Emission | None:
        """What a status poll (Tasmota ``Status 10``, Shelly ``/status``) would answer
        now: a reading at the last ``advance`` time, outside the report schedule. None
        for an unknown id, an offline plug, or before the first ``advance``."""
        plug = self._by_id.get(device_id)
        if plug is None or not plug.online or self._now is None:
            return None
        plug._integrate(self._now)
        return Emission(EmissionKind.READING, plug, self._now, self._power(plug),
                        plug.counter_wh, True, plug.relay_on)

    def sync(self) -> None:
        """Bring every plug's ``counter_wh`` up to the last ``advance`` time. Counters are
        otherwise integrated lazily, at each plug's own reports and events."""
        if self._now is not None:
            for plug in self.plugs:
                plug._integrate(self._now)

    # -- simulation --
    # The heap holds ints ``ms << 26 | plug index << 2 | event``: due time in whole
    # milliseconds, so ordering is one int comparison and report times never drift.

    def _push_at(self, t: float, plug: SimPlug, what: int) -> None:
        heapq.heappush(self._heap, (math.ceil(t * 1000.0) << _TSHIFT) | (plug.index << 2) | what)

    def _start(self, now: float) -> list[Emission]:
        self._now = now
        heap = self._heap
        out: list[Emission] = []
        now_ms = math.ceil(now * 1000.0)
        for plug, prof in zip(self.plugs, self._profiles, strict=True):
            plug._t = now
            plug._segs = _segments(plug.kind, prof, plug._key, now)
            end, w = next(plug._segs)
            while end <= now:
                end, w = next(plug._segs)
            plug._seg_end, plug._seg_w = end, w
            tag = plug.index << 2
            heap.append(((now_ms + round(plug.phase_s * 1000.0)) << _TSHIFT) | tag | _REPORT)
            steady = plug.household in self.steady_households
            if self.reset_rate_per_day > 0:
                t = now + self._exp(plug, self.reset_rate_per_day)
                if not steady:
                    heap.append((math.ceil(t * 1000.0) << _TSHIFT) | tag | _RESET)
            if self.offline_rate_per_day > 0:
                t = now + self._exp(plug, self.offline_rate_per_day)
                if not steady:
                    heap.append((math.ceil(t * 1000.0) << _TSHIFT) | tag | _OFFLINE)
            out.append(Emission(EmissionKind.AVAILABILITY, plug, now, self._power(plug),
                                plug.counter_wh, True, plug.relay_on))
        heapq.heapify(heap)
        return out

    @staticmethod
    def _exp(plug: SimPlug, rate_per_day: float) -> float:
        return -math.log(1.0 - plug._uniform()) / rate_per_day * DAY_S

    @staticmethod
    def _power(plug: SimPlug) -> float:
        if not plug.relay_on:
            return 0.0
        u = (plug._draw() >> 32) * _U32
        return min(MAX_POWER_W, plug._seg_w * (1.0 + plug._noise * (2.0 * u - 1.0)))

    def advance(self, now: float) -> list[Emission]:
        """Move the fleet to ``now`` (epoch seconds, non-decreasing) and return, in time
        order, everything published since the last call. Reports missed by a coarse step
        are all returned, each with its own ``ts``; the first call starts the clock."""
        if self._now is None:
            return self._start(now)
        if now < self._now:
            raise ValueError(f"time went backwards: {now} < {self._now}")
        self._now = now
        heap = self._heap
        plugs = self.plugs
        out: list[Emission] = []
        append = out.append
        dup_cut = int(self.duplicate_rate * 4_294_967_296.0)
        reading, duplicate = EmissionKind.READING, EmissionKind.DUPLICATE
        replace = heapq.heapreplace
        limit = (math.floor(now * 1000.0) + 1) << _TSHIFT
        m64, gamma, u2 = _M64, _GAMMA, 2.0 * _U32
        while heap and heap[0] < limit:
            key = heap[0]
            ms = key >> _TSHIFT
            t = ms * 0.001
            plug = plugs[(key >> 2) & _INDEX_MASK]
            if plug._seg_end > t:                 # common case: still in the same segment
                if t > plug._t:
                    if plug.relay_on:
                        plug.counter_wh += plug._seg_w * (t - plug._t) * (1.0 / 3600.0)
                    plug._t = t
            else:
                plug._integrate(t)
            if key & 3:
                self._anomaly(plug, t, key & 3, out)
                continue
            iv = plug.report_interval_s
            replace(heap, key + ((round(iv * 1000.0) or 1) << _TSHIFT))
            if not plug.online:
                continue
            # SplitMix64, inlined: high half for the power noise, low half for duplicates
            r = plug._rs = (plug._rs + gamma) & m64
            r = ((r ^ (r >> 30)) * 0xBF58476D1CE4E5B9) & m64
            r = ((r ^ (r >> 27)) * 0x94D049BB133111EB) & m64
            r ^= r >> 31
            if plug.relay_on:
                p = plug._seg_w * (1.0 + plug._noise * ((r >> 32) * u2 - 1.0))
                e = Emission(reading, plug, t, min(p, MAX_POWER_W), plug.counter_wh, True, True)
            else:
                e = Emission(reading, plug, t, 0.0, plug.counter_wh, True, False)
            append(e)
            if (r & 0xFFFFFFFF) < dup_cut:
                append(Emission(duplicate, plug, t, e.power_w, e.counter_wh, True, e.relay_on))
        return out

    def _anomaly(self, plug: SimPlug, t: float, what: int, out: list[Emission]) -> None:
        heapq.heappop(self._heap)
        if what == _RESET:
            plug.counter_wh = 0.0
            plug.resets += 1
            self._push_at(t + self._exp(plug, self.reset_rate_per_day), plug, _RESET)
        elif what == _OFFLINE:
            plug.online = False
            plug.offline_spells += 1
            out.append(Emission(EmissionKind.AVAILABILITY, plug, t, self._power(plug),
                                plug.counter_wh, False, plug.relay_on))
            length = OFFLINE_MIN_S + (OFFLINE_MAX_S - OFFLINE_MIN_S) * plug._uniform()
            self._push_at(t + length, plug, _ONLINE)
        else:
            plug.online = True
            out.append(Emission(EmissionKind.AVAILABILITY, plug, t, self._power(plug),
                                plug.counter_wh, True, plug.relay_on))
            self._push_at(t + self._exp(plug, self.offline_rate_per_day), plug, _OFFLINE)

    def history(self, start: float, end: float, step_s: float = 3600.0) -> Iterator[Emission]:
        """Backfill: advance from ``start`` to ``end`` in ``step_s`` steps, yielding every
        emission in time order. The step only sets the batch size, not the output."""
        if step_s <= 0:
            raise ValueError("step_s must be positive")
        if self._now is not None and start < self._now:
            raise ValueError(f"history starts before the model's clock ({self._now})")
        if end < start:
            raise ValueError("end before start")
        k = 0
        t = start
        while True:
            yield from self.advance(t)
            if t >= end:
                return
            k += 1
            t = min(end, start + k * step_s)
