"""Data sufficiency (refuse rather than guess) and named data-quality warnings.

Habit taken from eemeter: an insufficient history raises a typed error with a reason; softer
problems travel with the result as named warnings the API can show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

COVERAGE_DAYS = 15
MIN_COVERAGE = 0.80


class SufficiencyReason(StrEnum):
    """Why no baseline can be given."""

    LOW_COVERAGE = "low_coverage"  # < 80% of hourly readings present over the last 15 days
    TOO_FEW_ELIGIBLE_DAYS = "too_few_eligible_days"  # fewer complete eligible days than the method needs
    NOT_APPLICABLE = "not_applicable"  # the method defines no baseline for this kind of day
    NO_HISTORY = "no_history"  # the event lies before (or too close to) the start of the data


class DataSufficiencyError(Exception):
    """The history cannot support a baseline; the reason says why, the detail says by how much."""

    def __init__(self, reason: SufficiencyReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class WarningCode(StrEnum):
    """Named data-quality warnings attached to a baseline."""

    PARTIAL_COVERAGE = "partial_coverage"  # coverage ≥ 80% but < 100% over the last 15 days
    LONG_LOOKBACK = "long_lookback"  # eligible days reach back more than 4 weeks
    LOW_CONSUMPTION = "low_consumption"  # baseline < 0.05 kWh/h: relative savings are unreliable
    ADJUSTMENT_WINDOW_MISSING = "adjustment_window_missing"  # in-day adjustment skipped
    ADJUSTMENT_CAPPED = "adjustment_capped"  # in-day adjustment limited by the cap
    ADJUSTMENT_WINDOW_ANOMALY = "adjustment_window_anomaly"  # upward adjustment refused (gaming guard)


@dataclass(frozen=True)
class BaselineWarning:
    """One named warning with a plain-language description and the numbers behind it."""

    code: WarningCode
    description: str
    data: Mapping[str, Any] = field(default_factory=dict)


def coverage(kwh: np.ndarray, target: int, days: int = COVERAGE_DAYS) -> np.ndarray:
    """Share of hourly readings present over the ``days`` days before day index ``target``.

    ``kwh`` is (..., D, 24) with NaN for missing hours; days before the start of the array count
    as missing, so a short history lowers the coverage instead of being ignored.
    """
    start = max(target - days, 0)
    present = np.isfinite(kwh[..., start:target, :]).sum(axis=(-2, -1))
    return present / float(days * 24)


def check_coverage(share: float, *, minimum: float = MIN_COVERAGE, days: int = COVERAGE_DAYS) -> None:
    """Raise :class:`DataSufficiencyError` when coverage is below ``minimum``."""
    if share < minimum:
        raise DataSufficiencyError(
            SufficiencyReason.LOW_COVERAGE,
            f"{share:.0%} of hourly readings present over the last {days} days; {minimum:.0%} needed",
        )
