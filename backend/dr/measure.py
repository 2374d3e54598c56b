"""One household's measured reduction in one event, with everything needed to explain it.

Pure: a :class:`HouseholdLoad`, the event's local hours and the calendar in; a JSON-ready
explanation and the reduction out. Missing event hours add no saving and are flagged; a
refused baseline (``DataSufficiencyError``) is recorded as "insufficient data", never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from backend.rewards import formula
from backend.savings.baselines import BaselineResult, compute_baseline
from backend.savings.calendar import HolidayCalendar, day_type
from backend.savings.household_load import HouseholdLoad, local_hour_start
from backend.savings.methods import Event, Method
from backend.savings.sufficiency import DataSufficiencyError, SufficiencyReason

NON_WORKING_FALLBACK = Method.OHMCONNECT  # the KPX methods define no weekend or holiday baseline


@dataclass(frozen=True)
class EventHours:
    """The local day and whole hours an event touches (a partial hour counts as a whole one)."""

    day: date
    start_hour: int
    end_hour: int

    @property
    def hours(self) -> range:
        return range(self.start_hour, self.end_hour)


def event_hours(starts_at: datetime, ends_at: datetime, tz_name: str) -> EventHours | None:
    """None when the event crosses local midnight (not settled; events last at most hours)."""
    tz = ZoneInfo(tz_name)
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    end_hour = end.hour + (1 if (end.minute, end.second, end.microsecond) != (0, 0, 0) else 0)
    if end.date() == start.date():
        return EventHours(start.date(), start.hour, end_hour)
    if end.date() == start.date() + timedelta(days=1) and end_hour == 0:
        return EventHours(start.date(), start.hour, 24)
    return None


def utc_hours(hours: EventHours, tz_name: str) -> list[datetime]:
    tz = ZoneInfo(tz_name)
    return [local_hour_start(hours.day, h, tz) for h in hours.hours]


@dataclass(frozen=True)
class Measured:
    refused: bool
    reduction_kwh: float  # baseline minus actual over the covered event hours (0 when refused)
    method: Method
    explanation: dict


def _day_values(values) -> list[dict]:
    return [{"day": v.day.isoformat(), "kwh": v.kwh} for v in values]


def _baseline(method: Method, load: HouseholdLoad, event: Event, holidays: HolidayCalendar,
              event_days: Collection[date], notes: dict) -> tuple[Method, BaselineResult]:
    try:
        return method, compute_baseline(method, load.days, load.kwh, event, holidays=holidays, event_days=event_days)
    except DataSufficiencyError as exc:
        if exc.reason is not SufficiencyReason.NOT_APPLICABLE or method is NON_WORKING_FALLBACK:
            raise
    notes["fallback"] = (f"{method.value} defines no baseline for {day_type(event.day, holidays).value} days: "
                         f"{NON_WORKING_FALLBACK.value} was used")
    return NON_WORKING_FALLBACK, compute_baseline(NON_WORKING_FALLBACK, load.days, load.kwh, event,
                                                  holidays=holidays, event_days=event_days)


def _actual(load: HouseholdLoad, hours: EventHours) -> list[dict]:
    row = load.row(hours.day)
    out = []
    for h in hours.hours:
        kwh = float(load.kwh[row, h])
        out.append({"hour": h, "kwh": kwh if np.isfinite(kwh) else None, "coverage": float(load.coverage[row, h]),
                    "missing": not np.isfinite(kwh)})
    return out


def measure(load: HouseholdLoad, hours: EventHours, method: Method, *, holidays: HolidayCalendar,
            event_days: Collection[date]) -> Measured:
    """Baseline, actual use and reduction of one household over the event hours."""
    actual = _actual(load, hours)
    notes: dict = {"requested_method": method.value, "event_day": hours.day.isoformat(),
                   "hours": list(hours.hours), "plug_ids": list(load.plug_ids),
                   "earlier_event_days": sorted(d.isoformat() for d in event_days if d < hours.day)}
    event = Event(hours.day, hours.start_hour, hours.end_hour)
    try:
        used_method, result = _baseline(method, load, event, holidays, event_days, notes)
    except DataSufficiencyError as exc:
        notes.update(method=method.value, insufficient={"reason": exc.reason.value, "detail": exc.detail},
                     actual=actual, missing_hours=[a["hour"] for a in actual if a["missing"]])
        return Measured(True, 0.0, method, notes)
    per_hour = []
    for j, (a, explained) in enumerate(zip(actual, result.hours, strict=True)):
        baseline = float(result.baseline_kwh[j])
        reduction = 0.0 if a["missing"] else baseline - a["kwh"]
        per_hour.append({**a, "baseline_kwh": baseline, "unadjusted_kwh": explained.unadjusted_kwh,
                         "reduction_kwh": reduction, "kept": _day_values(explained.kept),
                         "dropped": _day_values(explained.dropped)})
    readings = []
    for day in result.used_days:
        row = load.row(day)
        readings += [{"day": day.isoformat(), "hour": h, "kwh": float(load.kwh[row, h]),
                      "coverage": float(load.coverage[row, h])} for h in hours.hours]
    adj = result.adjustment
    notes.update(
        method=used_method.value, day_type=result.day_type.value, coverage=result.coverage,
        used_days=[d.isoformat() for d in result.used_days],
        excluded_days=[{"day": e.day.isoformat(), "reason": e.reason.value} for e in result.excluded_days],
        dropped_days=_day_values(result.dropped_days), actual=per_hour, readings=readings,
        adjustment=None if adj is None else {
            "window_start": adj.window_start.isoformat(), "window_end": adj.window_end.isoformat(),
            "observed_kwh_per_hour": adj.observed_kwh_per_hour, "typical_kwh_per_hour": adj.typical_kwh_per_hour,
            "raw_kwh_per_hour": adj.raw_kwh_per_hour, "applied_kwh_per_hour": adj.applied_kwh_per_hour,
            "cap_kwh_per_hour": adj.cap_kwh_per_hour, "capped": adj.capped, "upward_refused": adj.upward_refused},
        warnings=[{"code": w.code.value, "description": w.description} for w in result.warnings],
        missing_hours=[a["hour"] for a in actual if a["missing"]],
        baseline_kwh=result.total_kwh,
        actual_kwh=sum(a["kwh"] for a in actual if not a["missing"]),
    )
    return Measured(False, float(sum(p["reduction_kwh"] for p in per_hour)), used_method, notes)


def points_for(reduction_kwh: float, rules: formula.ConversionRules) -> tuple[int, str]:
    """Points for a measured DR reduction: rounded down to whole Wh, negative counts as 0 (no
    penalty), at the rules' measured rate times the DR multiplier (2,000 points/kWh in 2026)."""
    credited = max(0.0, reduction_kwh)
    wh = math.floor(round(credited * 1000, 6))
    kwh = min(Decimal(wh) / 1000, rules.max_kwh_per_entry)
    result = formula.kwh_to_points(kwh, "measured", True, rules)
    return result.points, result.reason


def split(points: int, recipients: int) -> list[int]:
    """Equal shares; the remainder one point each to the first recipients."""
    if recipients <= 0:
        return []
    base, rest = divmod(points, recipients)
    return [base + (1 if k < rest else 0) for k in range(recipients)]
