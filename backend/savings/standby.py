"""Standby (always-on) power of a plug, and what it costs over a year.

The always-on load is what a plug draws when nobody uses it, so it is read off the quiet night
hours: a low percentile (default the 10th) of the interval power between 01:00 and 05:00. A low
percentile rather than the minimum ignores a single glitchy zero or a reading taken while the
plug was off.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from backend.savings.sufficiency import DataSufficiencyError, SufficiencyReason

HOURS_PER_YEAR = 8760
NIGHT_HOURS = frozenset(range(1, 5))


@dataclass(frozen=True)
class StandbyEstimate:
    watts: float
    kwh_per_year: float
    won_per_year: float
    samples: int


def standby_watts(
    power_w: np.ndarray,
    hour_of_day: np.ndarray,
    *,
    night_hours: Collection[int] = NIGHT_HOURS,
    percentile: float = 10.0,
    min_samples: int = 12,
) -> tuple[np.ndarray, np.ndarray]:
    """Standby watts per plug from interval power ``power_w`` (plugs, n) and local hours (n,).

    NaN samples are ignored. Returns (watts, night samples) per plug; watts is NaN for a plug
    with fewer than ``min_samples`` night samples.
    """
    power = np.atleast_2d(np.asarray(power_w, dtype=float))
    night = np.isin(np.asarray(hour_of_day), list(night_hours))
    values = power[:, night]
    counts = np.isfinite(values).sum(axis=1)
    enough = counts >= max(min_samples, 1)
    watts = np.full(len(power), np.nan)
    if enough.any():
        watts[enough] = np.nanpercentile(values[enough], percentile, axis=1)
    return watts, counts


def standby_from_hourly_kwh(kwh: np.ndarray, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """The same from hourly kWh (plugs, days, 24): an hour's kWh × 1000 is its mean power in W."""
    kwh = np.asarray(kwh, dtype=float)
    plugs, days = kwh.shape[0], kwh.shape[1]
    return standby_watts(kwh.reshape(plugs, days * 24) * 1000.0, np.tile(np.arange(24), days), **kwargs)


def yearly_cost(watts: float, samples: int, *, price_won_per_kwh: float) -> StandbyEstimate:
    """kWh and won per year for an always-on load; refuses a plug without a standby figure."""
    if not np.isfinite(watts):
        raise DataSufficiencyError(SufficiencyReason.LOW_COVERAGE, f"only {samples} night readings")
    kwh = watts * HOURS_PER_YEAR / 1000.0
    return StandbyEstimate(float(watts), kwh, kwh * price_won_per_kwh, int(samples))
