"""Accuracy of baselines on days without events: RRMSE and bias per household.

Every evaluated day is treated as a pseudo-event: the baseline is built as if an event were
called for the given hours, and compared with what the household actually used. RRMSE is the
root-mean-square error divided by the mean actual use (the KPX aggregator habit); bias is the
mean error divided by the mean actual use (positive = the baseline over-states use, which would
pay for savings that did not happen).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
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
class Candidate:
    """A method under evaluation: a label, its spec and its settings."""

    label: str
    spec: MethodSpec
    settings: BaselineSettings = DEFAULT_SETTINGS


@dataclass(frozen=True)
class Predictions:
    """Baselines and actual use for a set of pseudo-event days."""

    labels: tuple[str, ...]
    targets: np.ndarray  # (T,) day indices
    predicted: np.ndarray  # (M, H, T, n_hours), NaN where refused
    actual: np.ndarray  # (H, T, n_hours), NaN where missing
    upward_refused: dict[str, np.ndarray] = field(default_factory=dict)  # label -> (H, T) guard fired
    capped: dict[str, np.ndarray] = field(default_factory=dict)  # label -> (H, T) adjustment capped

    def common_mask(self) -> np.ndarray:
        """(H, T, n_hours): hours where every method and the actual use have a value."""
        return np.isfinite(self.actual) & np.isfinite(self.predicted).all(axis=0)


def predict(
    kwh: np.ndarray,
    days: Sequence[date] | np.ndarray,
    targets: Sequence[int],
    hours: tuple[int, int],
    candidates: Sequence[Candidate],
    *,
    holidays: HolidayCalendar,
    event_days: Collection[date] = frozenset(),
) -> Predictions:
    """Baselines of every candidate for hours [start, end) of each target day index."""
    dates = as_dates(days)
    masks = {kind: calendar_mask(dates, for_type=kind, holidays=holidays, event_days=event_days)
             for kind in DayType}
    start, end = hours
    n_house = kwh.shape[0]
    predicted = np.full((len(candidates), n_house, len(targets), end - start), np.nan)
    refused_up = {c.label: np.zeros((n_house, len(targets)), bool) for c in candidates if c.spec.in_day_adjustment}
    capped = {c.label: np.zeros((n_house, len(targets)), bool) for c in candidates if c.spec.in_day_adjustment}
    for j, t in enumerate(targets):
        kind = day_type(dates[t], holidays)
        for m, cand in enumerate(candidates):
            result = batch_baseline(kwh, t, start, end, cand.spec, cand.spec.days_for(kind), masks[kind], cand.settings)
            predicted[m, :, j] = result.values
            if cand.label in refused_up:
                refused_up[cand.label][:, j] = result.upward_refused
                capped[cand.label][:, j] = result.capped
    actual = kwh[:, np.asarray(targets, dtype=int), start:end]
    return Predictions(tuple(c.label for c in candidates), np.asarray(targets), predicted, actual, refused_up, capped)


def household_scores(predicted: np.ndarray, actual: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RRMSE and bias per household over the cells of ``mask``.

    ``predicted`` is (..., H, T, n), ``actual`` and ``mask`` (H, T, n). Households with no
    cells, or a mean actual use of zero, get NaN.
    """
    err = np.where(mask, predicted - np.where(mask, actual, 0.0), 0.0)
    n = mask.sum(axis=(-2, -1))
    mean_actual = np.divide(np.where(mask, actual, 0.0).sum(axis=(-2, -1)), n,
                            out=np.full(n.shape, np.nan), where=n > 0)
    denom = np.where(mean_actual > 0, mean_actual, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = np.sqrt((err ** 2).sum(axis=(-2, -1)) / n)
        mean_err = err.sum(axis=(-2, -1)) / n
    return rmse / denom, mean_err / denom


def rrmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    """RRMSE over the cells where both are finite."""
    mask = np.isfinite(predicted) & np.isfinite(actual)
    err = predicted[mask] - actual[mask]
    return float(np.sqrt(np.mean(err ** 2)) / np.mean(actual[mask]))


def bias(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Mean error over mean actual use, over the cells where both are finite."""
    mask = np.isfinite(predicted) & np.isfinite(actual)
    return float(np.mean(predicted[mask] - actual[mask]) / np.mean(actual[mask]))


def summarise(values: np.ndarray) -> dict[str, float]:
    """Mean, median and count over households (NaN households left out)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"mean": float("nan"), "median": float("nan"), "households": 0}
    return {"mean": float(finite.mean()), "median": float(np.median(finite)), "households": int(finite.size)}
