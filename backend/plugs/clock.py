"""Which time a plug reading gets: the device's clock when it can be trusted, else receipt.

A device's clock is often wrong in ways that matter: a Tasmota left at its default time zone
sends local time of *that* zone without an offset; a device before NTP sync sends
``1970-01-01T00:00:03`` or a Gen2 ``ts`` of a few seconds of uptime; some clocks drift by
minutes. A reading is never dropped because of its device clock. Per device the bridge learns:

* for a naive clock (Tasmota ``Time``): the zone offset, the difference between the device's
  time and the broker's receive time rounded to 15 minutes, taken from messages that arrive
  within ``TOLERANCE`` of the device's time under that offset (live ones). An offset is adopted
  once live messages have shown it for ``LEARN_SPAN`` of receive time (until then readings get
  their receive time): a backlog burst drains in seconds, so a message queued for 15 minutes
  cannot teach a wrong one. Delivery is never early, so a queued message can only suggest a
  *smaller* offset: that one is adopted only when the device's clock jumps back (DST ended) or
  after ``DST_CONFIRM`` (DST ended while the device was away). The learned offset is kept on
  the plug row, so a restarted bridge places a queued backlog right away.
* the clock is *off* when it is unset (before 2016), ahead of the receive time, older than the
  broker keeps sessions (7 days), or — naive clocks — messages disagree with every zone offset
  by more than ``TOLERANCE`` for ``OFF_WINDOW`` of receive time (at least ``OFF_AFTER`` in a
  row): a backlog delivered after an outage drains faster than that, a wrong clock persists.

The reading's time is the device's time (corrected by the learned offset) when the clock is
not off and the result lies between ``TOLERANCE`` ahead of receipt and 7 days before it;
otherwise the receive time. DST-safe: all arithmetic is in UTC and offsets are re-learned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TOLERANCE_S = 90.0
QUARTER_S = 900
DST_CONFIRM = timedelta(minutes=20)
LEARN_SPAN = timedelta(seconds=60)
OFF_AFTER = 3
ZONE_MIN_S, ZONE_MAX_S = -12 * 3600, 14 * 3600  # the zone offsets that exist
OFF_WINDOW = timedelta(minutes=10)
MAX_AGE = timedelta(days=7)
CLOCK_SET_SINCE = datetime(2016, 1, 1, tzinfo=UTC)
_CLOCK_SET_SINCE_NAIVE = CLOCK_SET_SINCE.replace(tzinfo=None)


@dataclass(slots=True)
class _State:
    offset_s: int | None = None       # learned zone offset of a naive clock
    pending: int | None = None        # another offset seen on live messages (learning, DST) ...
    pending_since: datetime | None = None  # ... since this receive time
    misses: int = 0                   # naive: messages in a row fitting no zone offset ...
    miss_since: datetime | None = None  # ... since this receive time
    off: bool | None = None
    last_clock: datetime | None = None  # the naive clock of the last live-looking message


@dataclass(frozen=True, slots=True)
class Placement:
    ts: datetime
    device_time: bool
    offset_min: int | None  # learned zone offset of a naive clock, None for aware ones
    off: bool | None


class DeviceClocks:
    """Per-device clock knowledge of one bridge (memory only, no I/O)."""

    def __init__(self, seed=None) -> None:
        self._states: dict[object, _State] = {}
        #: ``seed(key)``: a zone offset in minutes learned earlier (kept in the database), so a
        #: restarted bridge places a queued backlog right before any live message arrives
        self._seed = seed

    def place(self, key: object, clock: datetime, received_at: datetime) -> Placement:
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = _State()
            if self._seed is not None and clock.tzinfo is None:
                offset_min = self._seed(key)
                state.offset_s = None if offset_min is None else offset_min * 60
        if clock.tzinfo is None:
            return self._naive(state, clock, received_at)
        return self._aware(state, clock, received_at)

    @staticmethod
    def _aware(state: _State, clock: datetime, received_at: datetime) -> Placement:
        lag = (received_at - clock).total_seconds()
        if clock < CLOCK_SET_SINCE or lag < -TOLERANCE_S or lag > MAX_AGE.total_seconds():
            state.off = True
            return Placement(received_at, False, None, True)
        if lag <= TOLERANCE_S:
            state.off = False
        return Placement(clock, True, None, state.off)

    @staticmethod
    def _naive(state: _State, clock: datetime, received_at: datetime) -> Placement:
        if clock < _CLOCK_SET_SINCE_NAIVE:
            state.off, state.misses = True, OFF_AFTER
            return Placement(received_at, False, _minutes(state.offset_s), True)
        as_utc = clock.replace(tzinfo=UTC)
        diff = (as_utc - received_at).total_seconds()
        candidate = round(diff / QUARTER_S) * QUARTER_S
        if abs(diff - candidate) <= TOLERANCE_S and ZONE_MIN_S <= candidate <= ZONE_MAX_S:  # live, synced
            state.misses, state.miss_since, state.off = 0, None, False
            last, state.last_clock = state.last_clock, clock
            if candidate == state.offset_s:
                state.pending = None
                return Placement(as_utc - timedelta(seconds=candidate), True, _minutes(candidate), False)
            if state.pending != candidate:
                state.pending, state.pending_since = candidate, received_at
            held = received_at - state.pending_since
            if state.offset_s is not None and candidate < state.offset_s:
                jumped_back = last is not None and last - clock > timedelta(minutes=10)
                if jumped_back or held >= DST_CONFIRM:  # DST ended (seen, or while away)
                    state.offset_s, state.pending = candidate, None
                    return Placement(as_utc - timedelta(seconds=candidate), True, _minutes(candidate), False)
                # a message queued for a multiple of 15 minutes: the learned offset holds
                return Placement(as_utc - timedelta(seconds=state.offset_s), True, _minutes(state.offset_s), False)
            if held >= LEARN_SPAN:  # first learning, or DST started: seen long enough
                state.offset_s, state.pending = candidate, None
                return Placement(as_utc - timedelta(seconds=candidate), True, _minutes(candidate), False)
            return Placement(received_at, False, _minutes(state.offset_s), False)
        # a late (queued) message, or a clock that is wrong: only persistence tells them apart
        if state.miss_since is None:
            state.miss_since = received_at
        state.misses += 1
        if state.misses >= OFF_AFTER and received_at - state.miss_since >= OFF_WINDOW:
            state.off = True
        if state.off or state.offset_s is None:
            return Placement(received_at, False, _minutes(state.offset_s), state.off)
        ts = as_utc - timedelta(seconds=state.offset_s)
        lag = (received_at - ts).total_seconds()
        if -TOLERANCE_S <= lag <= MAX_AGE.total_seconds():
            return Placement(ts, True, _minutes(state.offset_s), state.off)
        return Placement(received_at, False, _minutes(state.offset_s), state.off)


def _minutes(offset_s: int | None) -> int | None:
    return None if offset_s is None else offset_s // 60
