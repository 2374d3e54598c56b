"""Hourly rollups of one plug's readings: pure arithmetic, no I/O, no ORM.

Savings are measured against these rollups, so the rules lean one way: time the data
cannot vouch for is *uncovered* (missing data, never low usage) and no watt-hour is
counted twice. Energy comes from the device's cumulative counter when any sample in the
sequence carries one; only a plug that never reports a counter is integrated from power.

Between two consecutive counter samples ``(t1, c1) -> (t2, c2)``:

* normal -- the counter rose at a plausible rate (at most ``max_power_w``) within
  ``max_gap_s``: ``c2 - c1`` is spread uniformly over ``[t1, t2]`` and that time is covered;
* gap -- as normal but longer than ``max_gap_s``: the energy is still spread (the counter
  says it was used, so a gap never looks like a saving) but the time is not covered;
* reset -- the counter went down (reboot, firmware update): ``c2`` is what it counted since
  restarting (0 if even that is implausible), spread over the interval, not covered;
* spike -- the counter rose faster than ``max_power_w``: the sample at ``t2`` is dropped and
  the interval from ``t1`` continues to the next sample, unless the next sample is plausible
  from ``c2`` and implausible from ``c1``; then the jump is a confirmed re-base, counted as a
  reset: ``[t1, t2]`` is uncovered with no energy and ``c2`` is the new base.

Time before the first and after the last usable sample is uncovered with no energy.
Power-only plugs get the trapezoid ``(p1 + p2) / 2 * dt`` per interval, under the same
gap rule (energy kept, time not covered when ``dt > max_gap_s``).

Incremental recomputation: a range split into adjacent ranges gives the same hours as
one call when each call gets, as ``before``, the last sample before ``start`` carrying the
quantity used for energy (the counter, or power for a power-only plug) and, as ``after``,
the first such sample at/after ``end``. A counter sample rejected as a spike cannot be
recognised from one side of the split, so where ``before`` or ``after`` is itself a spike
the result may differ from a single call; pass the last *accepted* sample as ``before`` to
avoid it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)
_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Sample:
    """One stored reading: ``ts`` tz-aware UTC, either value may be missing."""

    ts: datetime
    counter_wh: float | None
    power_w: float | None


@dataclass(frozen=True, slots=True)
class HourRollup:
    """One UTC hour of one plug; ``covered_s`` is the trustworthy part (0..3600 s)."""

    hour: datetime
    energy_wh: float
    covered_s: float
    samples: int
    power_max_w: float | None
    power_avg_w: float | None
    resets: int
    spikes: int


def hour_floor(ts: datetime) -> datetime:
    """The UTC start of the hour holding ``ts`` (which must be timezone-aware)."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"naive datetime {ts!r}; timestamps must be timezone-aware")
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def rollup_hours(
    samples: Sequence[Sample],
    start: datetime,
    end: datetime,
    *,
    before: Sample | None = None,
    after: Sample | None = None,
    max_gap_s: float = 900.0,
    max_power_w: float = 3680.0,
) -> list[HourRollup]:
    """One :class:`HourRollup` per hour in ``[start, end)``, hours without data included.

    ``samples`` are the samples with ``start <= ts < end`` in timestamp order; samples at an
    equal timestamp are collapsed to the first. Input out of order or outside the range
    raises ``ValueError`` (storage sorts; an unsorted list means a wrong query, and sorting
    here would hide a wrong ``before``/``after``). ``before`` is the last sample before
    ``start`` and ``after`` the first at/after ``end``; they only attribute intervals that
    cross the range edges and do not count in ``samples`` or the power statistics.
    """
    start, end = _whole_hour(start, "start"), _whole_hour(end, "end")
    if end < start:
        raise ValueError(f"end {end} before start {start}")
    if max_gap_s <= 0 or max_power_w <= 0:
        raise ValueError("max_gap_s and max_power_w must be positive")
    inside = _dedupe(samples, start, end)
    if before is not None and not _aware(before.ts) < start:
        raise ValueError(f"before.ts {before.ts} is not before start {start}")
    if after is not None and not _aware(after.ts) >= end:
        raise ValueError(f"after.ts {after.ts} is before end {end}")

    acc = _Hours(start, end)
    for s in inside:
        acc.sample(s)

    seq = ([before] if before is not None else []) + inside + ([after] if after is not None else [])
    counters = [(_aware(s.ts), float(s.counter_wh)) for s in seq if s.counter_wh is not None]
    if counters:
        _from_counters(counters, acc, max_gap_s, max_power_w)
    else:
        powers = [(_aware(s.ts), float(s.power_w)) for s in seq if s.power_w is not None]
        _from_power(powers, acc, max_gap_s)
    return acc.result()


def _aware(ts: datetime) -> datetime:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"naive datetime {ts!r}; timestamps must be timezone-aware")
    return ts


def _whole_hour(ts: datetime, name: str) -> datetime:
    if hour_floor(ts) != ts:
        raise ValueError(f"{name} {ts} is not a whole UTC hour")
    return ts.astimezone(UTC)


def _dedupe(samples: Sequence[Sample], start: datetime, end: datetime) -> list[Sample]:
    """The samples in order, the first of equal timestamps kept; ValueError if unsorted."""
    kept: list[Sample] = []
    for s in samples:
        ts = _aware(s.ts)
        if not start <= ts < end:
            raise ValueError(f"sample at {ts} outside [{start}, {end})")
        if kept:
            last = kept[-1].ts
            if ts < last:
                raise ValueError(f"samples out of order: {ts} after {last}")
            if ts == last:
                continue
        for value in (s.counter_wh, s.power_w):
            if value is not None and not math.isfinite(value):
                raise ValueError(f"non-finite value in sample at {ts}")
        kept.append(s)
    return kept


class _Hours:
    """Per-hour accumulators; coverage is kept in whole microseconds, so it is exact."""

    __slots__ = ("counts", "covered_us", "end", "energy", "n", "powers", "resets",
                 "spikes", "start")

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.n = (end - start) // HOUR
        self.energy = [0.0] * self.n
        self.covered_us = [0] * self.n
        self.counts = [0] * self.n
        self.powers: list[list[float]] = [[] for _ in range(self.n)]
        self.resets = [0] * self.n
        self.spikes = [0] * self.n

    def index(self, ts: datetime) -> int | None:
        if self.start <= ts < self.end:
            return (ts - self.start) // HOUR
        return None

    def sample(self, s: Sample) -> None:
        i = self.index(s.ts)
        assert i is not None
        self.counts[i] += 1
        if s.power_w is not None:
            self.powers[i].append(float(s.power_w))

    def mark(self, counter: list[int], ts: datetime) -> None:
        i = self.index(ts)
        if i is not None:
            counter[i] += 1

    def spread(self, t1: datetime, t2: datetime, energy_wh: float, covered: bool) -> None:
        """Spread ``energy_wh`` uniformly over ``[t1, t2]``; add the overlap as covered."""
        if energy_wh == 0 and not covered:
            return
        lo, hi = max(t1, self.start), min(t2, self.end)
        if lo >= hi:
            return
        dt_us = (t2 - t1) // _US
        i = (lo - self.start) // HOUR
        hour = self.start + i * HOUR
        while hour < hi:
            overlap_us = (min(hi, hour + HOUR) - max(lo, hour)) // _US
            if overlap_us > 0:
                if energy_wh:
                    self.energy[i] += energy_wh * overlap_us / dt_us
                if covered:
                    self.covered_us[i] += overlap_us
            i += 1
            hour += HOUR

    def result(self) -> list[HourRollup]:
        out = []
        for i in range(self.n):
            p = self.powers[i]
            out.append(HourRollup(
                hour=self.start + i * HOUR,
                energy_wh=self.energy[i],
                covered_s=min(self.covered_us[i], 3_600_000_000) / 1_000_000,
                samples=self.counts[i],
                power_max_w=max(p) if p else None,
                power_avg_w=sum(p) / len(p) if p else None,
                resets=self.resets[i],
                spikes=self.spikes[i],
            ))
        return out


def _rate_ok(t1: datetime, c1: float, t2: datetime, c2: float, max_power_w: float) -> bool:
    """The counter did not go down and rose no faster than ``max_power_w``."""
    d = c2 - c1
    return d >= 0 and d * 3600 <= max_power_w * (t2 - t1).total_seconds()


def _from_counters(points: list[tuple[datetime, float]], acc: _Hours,
                   max_gap_s: float, max_power_w: float) -> None:
    t1, c1 = points[0]
    for k in range(1, len(points)):
        t2, c2 = points[k]
        dt = (t2 - t1).total_seconds()
        d = c2 - c1
        if d < 0:
            # The counter restarted somewhere inside: it counted c2 since then.
            plausible = c2 * 3600 <= max_power_w * dt
            acc.spread(t1, t2, c2 if plausible else 0.0, covered=False)
            acc.mark(acc.resets, t2)
        elif d * 3600 > max_power_w * dt:
            nxt = points[k + 1] if k + 1 < len(points) else None
            if (nxt is not None and _rate_ok(t2, c2, *nxt, max_power_w)
                    and not _rate_ok(t1, c1, *nxt, max_power_w)):
                # Confirmed re-base: the counter really jumped; nothing known about t1..t2.
                acc.mark(acc.resets, t2)
            else:
                acc.mark(acc.spikes, t2)
                continue  # drop the glitch; t1 stays the base
        else:
            acc.spread(t1, t2, d, covered=dt <= max_gap_s)
        t1, c1 = t2, c2


def _from_power(points: list[tuple[datetime, float]], acc: _Hours, max_gap_s: float) -> None:
    for (t1, p1), (t2, p2) in itertools.pairwise(points):
        dt = (t2 - t1).total_seconds()
        acc.spread(t1, t2, (p1 + p2) / 2 * dt / 3600, covered=dt <= max_gap_s)
