"""The baseline methods in use, as data: how many days, what is trimmed or dropped, adjusted or not.

- KPX Mid(6/10): last 10 working days; per hour drop the 2 highest and 2 lowest, average 6.
- KPX Max(4/5): last 5 working days; drop the day with the lowest use over the event hours
  (KPX ranks days by their consumption in the event hours), average the other 4.
- UK DFS / Octopus Saving Sessions: mean of the same hour over the last 10 working days
  (4 non-working days for weekend and holiday events), with an additive in-day adjustment.
- OhmConnect: mean of the same hour over the last 10 weekdays, last 4 weekend days for weekend
  events; no adjustment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from backend.savings.calendar import DayType


class Method(StrEnum):
    KPX_MID_6_10 = "kpx_mid_6_10"
    KPX_MAX_4_5 = "kpx_max_4_5"
    UK_DFS = "uk_dfs"
    OHMCONNECT = "ohmconnect"


@dataclass(frozen=True)
class MethodSpec:
    """How a method builds its baseline. ``non_working_days=None``: no weekend/holiday baseline."""

    method: Method
    working_days: int
    non_working_days: int | None
    trim_low: int = 0  # per hour, drop this many lowest values
    trim_high: int = 0  # per hour, drop this many highest values
    drop_lowest_days: int = 0  # drop whole days with the lowest use over the event hours
    in_day_adjustment: bool = False

    def days_for(self, kind: DayType) -> int | None:
        return self.working_days if kind is DayType.WORKING else self.non_working_days


SPECS: dict[Method, MethodSpec] = {
    Method.KPX_MID_6_10: MethodSpec(Method.KPX_MID_6_10, 10, None, trim_low=2, trim_high=2),
    Method.KPX_MAX_4_5: MethodSpec(Method.KPX_MAX_4_5, 5, None, drop_lowest_days=1),
    Method.UK_DFS: MethodSpec(Method.UK_DFS, 10, 4, in_day_adjustment=True),
    Method.OHMCONNECT: MethodSpec(Method.OHMCONNECT, 10, 4),
}


@dataclass(frozen=True)
class Event:
    """An event on ``day`` covering local hours ``start_hour`` ≤ h < ``end_hour``."""

    day: date
    start_hour: int
    end_hour: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_hour < self.end_hour <= 24:
            raise ValueError(f"event hours must satisfy 0 <= start < end <= 24, got {self.start_hour}–{self.end_hour}")

    @property
    def hours(self) -> range:
        return range(self.start_hour, self.end_hour)


@dataclass(frozen=True)
class AdjustmentRule:
    """The DFS in-day adjustment and its guards against gaming the adjustment window.

    The window is ``window_hours`` long and ends ``gap_hours`` before the event starts (for a
    17:00 event: 13:00–16:00); it may reach into the previous day. The adjustment is additive:
    (use in the window) − (baseline days' mean use in the same window), in kWh per hour.

    Guards: an upward adjustment is refused when the window's use is above every baseline day's
    use in the same hours *and* more than ``guard_ratio`` × their mean (someone ran appliances in
    the window); any adjustment is capped at ``cap_fraction`` × the unadjusted baseline's mean
    over the event hours.
    """

    window_hours: int = 3
    gap_hours: int = 1
    cap_fraction: float = 0.25
    guard_ratio: float = 2.0
    guard: bool = True


@dataclass(frozen=True)
class BaselineSettings:
    lookback_days: int = 45  # how far back eligible days are searched
    coverage_days: int = 15
    min_coverage: float = 0.80
    long_lookback_days: int = 28
    low_consumption_kwh: float = 0.05
    adjustment: AdjustmentRule = field(default_factory=AdjustmentRule)


DEFAULT_SETTINGS = BaselineSettings()
