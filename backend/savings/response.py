"""Reduction attributed to price signals, net of baseline bias (difference in differences).

For each signal day the baseline is built for the signal hours, for the households that got the
signal (treated) and for households that did not (control), with the same days excluded. The
control group's baseline − actual on those same hours is the method's own error under those
conditions (weather, season, the day-selection rule); the treated group's figure minus the
control group's is the reduction the signal caused.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from backend.savings.batch import batch_baseline
from backend.savings.calendar import (
    DayType,
    HolidayCalendar,
    as_dates,
    calendar_mask,
    day_type,
)
from backend.savings.methods import DEFAULT_SETTINGS, BaselineSettings, MethodSpec


@dataclass(frozen=True)
class GroupResponse:
    households: int
    hours: int  # household-hours with both a baseline and a reading
    kwh_per_hour: float  # mean over households of mean(baseline − actual)
    kwh_per_hour_se: float  # standard error across households
    percent: float  # mean over households of sum(baseline − actual) / sum(baseline)
    percent_se: float


@dataclass(frozen=True)
class Response:
    treated: GroupResponse
    control: GroupResponse
    did_kwh_per_hour: float
    did_kwh_per_hour_se: float
    did_percent: float
    did_percent_se: float
    event_days: int  # signal days on which the method gave a baseline to someone


def per_household_gaps(
    kwh: np.ndarray,
    days: Sequence[date] | np.ndarray,
    signal: np.ndarray,
    spec: MethodSpec,
    *,
    holidays: HolidayCalendar,
    event_days: Collection[date],
    settings: BaselineSettings = DEFAULT_SETTINGS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Sum of (baseline − actual), sum of baseline and hour count per household over ``signal`` hours.

    ``signal`` is (D, 24) bool. The baseline covers the first to the last signal hour of each
    day; only signal hours are counted.
    """
    dates = as_dates(days)
    masks = {kind: calendar_mask(dates, for_type=kind, holidays=holidays, event_days=event_days) for kind in DayType}
    gap = np.zeros(kwh.shape[0])
    base = np.zeros(kwh.shape[0])
    count = np.zeros(kwh.shape[0], dtype=int)
    covered = 0
    for t in np.flatnonzero(signal.any(axis=1)):
        hours = np.flatnonzero(signal[t])
        start, end = int(hours[0]), int(hours[-1]) + 1
        kind = day_type(dates[t], holidays)
        result = batch_baseline(kwh, int(t), start, end, spec, spec.days_for(kind), masks[kind], settings)
        sel = signal[t, start:end]
        b, a = result.values[:, sel], kwh[:, t, start:end][:, sel]
        ok = np.isfinite(b) & np.isfinite(a)
        gap += np.where(ok, b - a, 0.0).sum(axis=1)
        base += np.where(ok, b, 0.0).sum(axis=1)
        count += ok.sum(axis=1)
        covered += bool(ok.any())
    return gap, base, count, covered


def _group(gap: np.ndarray, base: np.ndarray, count: np.ndarray) -> GroupResponse:
    has = (count > 0) & (base > 0)
    per_hour = gap[has] / count[has]
    percent = 100.0 * gap[has] / base[has]
    n = int(has.sum())

    def se(x: np.ndarray) -> float:
        return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")

    return GroupResponse(n, int(count[has].sum()), float(per_hour.mean()), se(per_hour),
                         float(percent.mean()), se(percent))


def difference_in_differences(gap: np.ndarray, base: np.ndarray, count: np.ndarray,
                              treated: np.ndarray, covered: int) -> Response:
    """Combine per-household sums into the treated − control comparison. ``treated`` is (H,) bool."""
    t, c = _group(gap[treated], base[treated], count[treated]), _group(gap[~treated], base[~treated], count[~treated])
    return Response(t, c, t.kwh_per_hour - c.kwh_per_hour, float(np.hypot(t.kwh_per_hour_se, c.kwh_per_hour_se)),
                    t.percent - c.percent, float(np.hypot(t.percent_se, c.percent_se)), covered)
