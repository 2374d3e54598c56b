"""One household's baseline for one event, with everything needed to explain it.

:func:`compute_baseline` answers "why did I get this?": the days used, the days skipped and why,
per hour the values kept and dropped, the in-day adjustment, and named warnings. It raises
:class:`DataSufficiencyError` instead of guessing. The numbers come from :mod:`batch`, the same
code the accuracy study and the bulk jobs run.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise

import numpy as np

from backend.savings.batch import REFUSALS, BatchBaseline, batch_baseline
from backend.savings.calendar import (
    DayType,
    Exclusion,
    HolidayCalendar,
    as_dates,
    calendar_exclusions,
    day_type,
)
from backend.savings.methods import (
    DEFAULT_SETTINGS,
    SPECS,
    BaselineSettings,
    Event,
    Method,
)
from backend.savings.sufficiency import (
    BaselineWarning,
    DataSufficiencyError,
    SufficiencyReason,
    WarningCode,
)


@dataclass(frozen=True)
class DayValue:
    day: date
    kwh: float


@dataclass(frozen=True)
class ExcludedDay:
    day: date
    reason: Exclusion


@dataclass(frozen=True)
class HourExplanation:
    """One event hour: the baseline, and which days' values were averaged or dropped."""

    hour: int
    baseline_kwh: float
    unadjusted_kwh: float
    kept: tuple[DayValue, ...]
    dropped: tuple[DayValue, ...]


@dataclass(frozen=True)
class AdjustmentExplanation:
    """The in-day adjustment: the window, what was seen in it, and what was applied."""

    window_start: datetime
    window_end: datetime
    observed_kwh_per_hour: float | None  # None: the window has missing hours
    typical_kwh_per_hour: float | None  # the baseline days' mean use in the same hours
    raw_kwh_per_hour: float | None
    applied_kwh_per_hour: float
    cap_kwh_per_hour: float
    capped: bool
    upward_refused: bool


@dataclass(frozen=True)
class BaselineResult:
    method: Method
    event: Event
    day_type: DayType
    baseline_kwh: tuple[float, ...]  # one value per event hour
    used_days: tuple[date, ...]  # oldest first
    excluded_days: tuple[ExcludedDay, ...]  # skipped days between the oldest used day and the event
    dropped_days: tuple[DayValue, ...]  # whole days dropped (Max 4/5), with their event-hours total
    hours: tuple[HourExplanation, ...]
    adjustment: AdjustmentExplanation | None
    coverage: float
    warnings: tuple[BaselineWarning, ...]

    @property
    def total_kwh(self) -> float:
        return float(sum(self.baseline_kwh))

    def savings_kwh(self, actual: Sequence[float]) -> float:
        """Baseline minus actual use over the event hours; refuses missing hours."""
        values = np.asarray(actual, dtype=float)
        if values.shape != (len(self.baseline_kwh),) or not np.isfinite(values).all():
            raise DataSufficiencyError(SufficiencyReason.LOW_COVERAGE, "event hours have missing readings")
        return float(np.sum(self.baseline_kwh) - values.sum())


def _day_grid(days: Sequence[date] | np.ndarray, kwh: np.ndarray, event: Event) -> tuple[list[date], np.ndarray, int]:
    """Check the history is consecutive days and extend it with NaN up to the event day."""
    dates = as_dates(days)
    values = np.asarray(kwh, dtype=float)
    if values.shape != (len(dates), 24):
        raise ValueError(f"kwh must be (days, 24) matching the dates, got {values.shape}")
    if any((b - a).days != 1 for a, b in pairwise(dates)):
        raise ValueError("dates must be consecutive days")
    if not dates:
        raise DataSufficiencyError(SufficiencyReason.NO_HISTORY, "no readings at all")
    target = (event.day - dates[0]).days
    if target < 0:
        raise DataSufficiencyError(SufficiencyReason.NO_HISTORY, "the event is before the first reading")
    if target >= len(dates):
        pad = target + 1 - len(dates)
        values = np.vstack([values, np.full((pad, 24), np.nan)])
        dates = dates + [dates[-1] + timedelta(days=i + 1) for i in range(pad)]
    return dates, values, target


def _hour_explanations(method: Method, event: Event, days: np.ndarray, used: list[date],
                       values: np.ndarray, unadjusted: np.ndarray, dropped_pos: set[int]) -> tuple[HourExplanation, ...]:
    spec = SPECS[method]
    out = []
    for j, hour in enumerate(event.hours):
        column = days[:, j]
        if spec.trim_low or spec.trim_high:
            order = np.argsort(column, kind="stable")
            keep = set(order[spec.trim_low:len(order) - spec.trim_high].tolist())
        else:
            keep = set(range(len(column))) - dropped_pos
        kept = tuple(DayValue(used[i], float(column[i])) for i in range(len(column)) if i in keep)
        dropped = tuple(DayValue(used[i], float(column[i])) for i in range(len(column)) if i not in keep)
        out.append(HourExplanation(hour, float(values[j]), float(unadjusted[j]), kept, dropped))
    return tuple(out)


def compute_baseline(
    method: Method,
    days: Sequence[date] | np.ndarray,
    kwh: np.ndarray,
    event: Event,
    *,
    holidays: HolidayCalendar,
    event_days: Collection[date] = frozenset(),
    settings: BaselineSettings = DEFAULT_SETTINGS,
) -> BaselineResult:
    """The baseline of one household for ``event``, from its hourly history ``kwh`` (days, 24).

    ``days`` are the consecutive local dates of the rows; NaN marks a missing hour. Event-day
    rows, if present, are only read by the in-day adjustment (hours before the event).
    """
    spec = SPECS[method]
    dates, values, target = _day_grid(days, kwh, event)
    kind = day_type(event.day, holidays)
    k = spec.days_for(kind)
    if k is None:
        raise DataSufficiencyError(SufficiencyReason.NOT_APPLICABLE,
                                   f"{method.value} defines no baseline for {kind.value} days")
    reasons = calendar_exclusions(dates, for_type=kind, holidays=holidays, event_days=event_days)
    eligible = np.array([r is None for r in reasons])
    result = batch_baseline(values[None], target, event.start_hour, event.end_hour, spec, k, eligible, settings)
    refusal = REFUSALS[int(result.refused[0])]
    cov = float(result.coverage[0])
    if refusal is SufficiencyReason.LOW_COVERAGE:
        raise DataSufficiencyError(refusal, f"{cov:.0%} of hourly readings present over the last "
                                            f"{settings.coverage_days} days; {settings.min_coverage:.0%} needed")
    if refusal is not None:
        raise DataSufficiencyError(refusal, f"{int(result.eligible_days[0])} complete {kind.value} days in the last "
                                            f"{settings.lookback_days} days; {method.value} needs {k}")
    index = result.day_index[0]
    used = [dates[i] for i in index]
    used_set = set(index.tolist())
    excluded = tuple(ExcludedDay(dates[i], reasons[i] or Exclusion.INSUFFICIENT_DATA)
                     for i in range(index[0], target) if i not in used_set)
    window = values[index][:, event.start_hour:event.end_hour]
    dropped_pos: set[int] = set()
    if spec.drop_lowest_days:
        dropped_pos = set(np.argsort(window.sum(axis=1), kind="stable")[:spec.drop_lowest_days].tolist())
    dropped_days = tuple(DayValue(used[i], float(window[i].sum())) for i in sorted(dropped_pos))
    baseline = result.values[0]
    hours = _hour_explanations(method, event, window, used, baseline, result.unadjusted[0], dropped_pos)
    adjustment = _adjustment(result, event, settings) if spec.in_day_adjustment else None
    warnings = _warnings(event, used, cov, baseline, adjustment, settings)
    return BaselineResult(method, event, kind, tuple(float(v) for v in baseline), tuple(used), excluded,
                          dropped_days, hours, adjustment, cov, warnings)


def _adjustment(result: BatchBaseline, event: Event, settings: BaselineSettings) -> AdjustmentExplanation:
    rule = settings.adjustment
    start = datetime.combine(event.day, time()) + timedelta(hours=event.start_hour - rule.gap_hours - rule.window_hours)
    raw = float(result.raw_adjustment[0])
    applied = float(result.adjustment[0])
    cap = rule.cap_fraction * float(result.unadjusted[0].mean())

    def finite(x: float) -> float | None:
        return float(x) if np.isfinite(x) else None

    return AdjustmentExplanation(start, start + timedelta(hours=rule.window_hours),
                                 finite(result.window_observed[0]), finite(result.window_typical[0]),
                                 finite(raw), applied, cap, bool(result.capped[0]), bool(result.upward_refused[0]))


def _warnings(event: Event, used: list[date], cov: float, baseline: np.ndarray,
              adjustment: AdjustmentExplanation | None, settings: BaselineSettings) -> tuple[BaselineWarning, ...]:
    out = []
    if cov < 1.0:
        out.append(BaselineWarning(WarningCode.PARTIAL_COVERAGE,
                                   f"{cov:.0%} of hourly readings present over the last {settings.coverage_days} days",
                                   {"coverage": cov}))
    reach = (event.day - used[0]).days
    if reach > settings.long_lookback_days:
        out.append(BaselineWarning(WarningCode.LONG_LOOKBACK,
                                   f"the oldest day used is {reach} days before the event", {"days": reach}))
    if float(np.mean(baseline)) < settings.low_consumption_kwh:
        out.append(BaselineWarning(WarningCode.LOW_CONSUMPTION,
                                   "baseline below 0.05 kWh per hour: savings in percent are not meaningful",
                                   {"mean_kwh_per_hour": float(np.mean(baseline))}))
    if adjustment is not None:
        if adjustment.raw_kwh_per_hour is None:
            out.append(BaselineWarning(WarningCode.ADJUSTMENT_WINDOW_MISSING,
                                       "readings missing in the adjustment window: no in-day adjustment"))
        if adjustment.upward_refused:
            out.append(BaselineWarning(
                WarningCode.ADJUSTMENT_WINDOW_ANOMALY,
                "use before the event was far above this household's usual use in those hours; "
                "the upward adjustment was not applied",
                {"observed_kwh_per_hour": adjustment.observed_kwh_per_hour,
                 "typical_kwh_per_hour": adjustment.typical_kwh_per_hour}))
        if adjustment.capped:
            out.append(BaselineWarning(WarningCode.ADJUSTMENT_CAPPED,
                                       f"in-day adjustment limited to ±{adjustment.cap_kwh_per_hour:.3f} kWh per hour",
                                       {"raw_kwh_per_hour": adjustment.raw_kwh_per_hour}))
    return tuple(out)
