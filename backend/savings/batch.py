"""Vectorised baselines for many households at once: the numeric core every caller shares.

Input is hourly kWh as an array (households, days, 24) with NaN for missing hours; a day is
usable only if all 24 of its hours are present, so a missing hour is never read as zero use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.savings.methods import (
    DEFAULT_SETTINGS,
    AdjustmentRule,
    BaselineSettings,
    MethodSpec,
)
from backend.savings.sufficiency import SufficiencyReason, coverage

# Refusal codes in :attr:`BatchBaseline.refused` (0 = a baseline was computed).
REFUSALS: tuple[SufficiencyReason | None, ...] = (
    None,
    SufficiencyReason.LOW_COVERAGE,
    SufficiencyReason.TOO_FEW_ELIGIBLE_DAYS,
    SufficiencyReason.NOT_APPLICABLE,
    SufficiencyReason.NO_HISTORY,
)
_LOW_COVERAGE, _TOO_FEW, _NOT_APPLICABLE, _NO_HISTORY = 1, 2, 3, 4


@dataclass(frozen=True)
class BatchBaseline:
    """Baselines for the event hours of one event day, one row per household."""

    values: np.ndarray  # (H, n_hours) kWh; NaN where refused
    unadjusted: np.ndarray  # (H, n_hours) before any in-day adjustment
    refused: np.ndarray  # (H,) int8 index into REFUSALS
    eligible_days: np.ndarray  # (H,) complete, calendar-eligible days found in the lookback
    coverage: np.ndarray  # (H,) share of readings present over the coverage window
    day_index: np.ndarray  # (H, k) day indices used, oldest first; -1 where refused
    adjustment: np.ndarray  # (H,) applied kWh per hour (0 without adjustment)
    raw_adjustment: np.ndarray  # (H,) before guard and cap; NaN when the window is missing
    capped: np.ndarray  # (H,) bool
    upward_refused: np.ndarray  # (H,) bool: the gaming guard fired
    window_observed: np.ndarray  # (H,) kWh per hour in the adjustment window on the event day
    window_typical: np.ndarray  # (H,) the baseline days' mean kWh per hour in the same hours


def _masked_mean(x: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    """Mean over finite values; NaN (without a RuntimeWarning) where none is finite."""
    finite = np.isfinite(x)
    total = np.where(finite, x, 0.0).sum(axis=axis)
    count = finite.sum(axis=axis)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def select_last(pool: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the last ``k`` True values in each row of ``pool`` (oldest first).

    Returns (rows that have at least ``k``, their positions as an (n, k) array).
    """
    rank_from_end = np.cumsum(pool[:, ::-1], axis=1, dtype=np.int32)[:, ::-1]
    ok = rank_from_end[:, 0] >= k if pool.shape[1] else np.zeros(pool.shape[0], bool)
    chosen = pool & (rank_from_end <= k) & ok[:, None]
    return np.flatnonzero(ok), np.nonzero(chosen)[1].reshape(-1, k)


def trimmed_mean(values: np.ndarray, low: int, high: int) -> np.ndarray:
    """Per column, drop the ``low`` smallest and ``high`` largest of axis 1 and average the rest."""
    k = values.shape[1]
    if low == 0 and high == 0:
        return values.mean(axis=1)
    ordered = np.sort(values, axis=1)
    return ordered[:, low:k - high].mean(axis=1)


def drop_lowest_days_mean(values: np.ndarray, drop: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop the ``drop`` days with the lowest total over the event hours, average the others.

    Ties drop the older day. Returns (mean per hour, positions of the dropped days).
    """
    totals = values.sum(axis=2)
    dropped = np.argsort(totals, axis=1, kind="stable")[:, :drop]
    keep = np.ones(totals.shape, dtype=bool)
    np.put_along_axis(keep, dropped, False, axis=1)
    kept_sum = np.where(keep[:, :, None], values, 0.0).sum(axis=1)
    return kept_sum / (values.shape[1] - drop), dropped


def _window_offsets(start_hour: int, rule: AdjustmentRule) -> np.ndarray:
    end = start_hour - rule.gap_hours
    return np.arange(end - rule.window_hours, end)


def _gather_flat(flat: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``flat[row, pos]`` with NaN for positions outside the array."""
    inside = (positions >= 0) & (positions < flat.shape[1])
    safe = np.clip(positions, 0, flat.shape[1] - 1)
    rows = np.arange(flat.shape[0]).reshape((-1,) + (1,) * (positions.ndim - 1))
    return np.where(inside, flat[rows, safe], np.nan)


def in_day_adjustment(
    flat: np.ndarray, target: int, day_index: np.ndarray, start_hour: int, unadjusted: np.ndarray, rule: AdjustmentRule
) -> tuple[np.ndarray, ...]:
    """Additive in-day adjustment with the gaming guard and the cap.

    ``flat`` is (n, D*24) hourly use of the households that have a baseline, ``day_index`` their
    (n, k) baseline days. Returns (applied, raw, capped, upward_refused, observed, typical),
    each (n,).
    """
    offsets = _window_offsets(start_hour, rule)
    observed_hours = _gather_flat(flat, target * 24 + offsets[None, :])
    observed = observed_hours.mean(axis=1)  # NaN if any window hour is missing
    day_windows = _masked_mean(_gather_flat(flat, day_index[:, :, None] * 24 + offsets[None, None, :]), axis=2)
    typical = _masked_mean(day_windows, axis=1)
    highest = np.where(np.isfinite(day_windows), day_windows, -np.inf).max(axis=1)
    raw = observed - typical
    usable = np.isfinite(raw)
    refused = usable & rule.guard & (raw > 0) & (observed > highest) & (observed > rule.guard_ratio * typical)
    adj = np.where(usable & ~refused, raw, 0.0)
    cap = rule.cap_fraction * unadjusted.mean(axis=1)
    capped = np.abs(adj) > cap
    return np.clip(adj, -cap, cap), raw, capped, refused, observed, typical


def batch_baseline(
    kwh: np.ndarray,
    target: int,
    start_hour: int,
    end_hour: int,
    spec: MethodSpec,
    k: int | None,
    eligible: np.ndarray,
    settings: BaselineSettings = DEFAULT_SETTINGS,
) -> BatchBaseline:
    """Baselines of ``spec`` for event hours [start_hour, end_hour) of day index ``target``.

    ``k`` is the number of days the method uses for this kind of day (None: not applicable);
    ``eligible`` is the calendar mask, (D,) or (H, D), for this kind of day (earlier event days,
    and weekends or working days, already False).
    """
    n_house, n_days, _ = kwh.shape
    n_hours = end_hour - start_hour
    lo = max(target - settings.lookback_days, 0)
    cand = kwh[:, lo:min(target, n_days), :]
    pool = np.isfinite(cand).all(axis=2) & np.broadcast_to(eligible, (n_house, eligible.shape[-1]))[:, lo:lo + cand.shape[1]]
    cov = coverage(kwh, target, settings.coverage_days)
    found = pool.sum(axis=1)
    refused = np.zeros(n_house, dtype=np.int8)
    if k is None:
        refused[:] = _NOT_APPLICABLE
    elif target <= 0:
        refused[:] = _NO_HISTORY
    else:
        refused[found < k] = _TOO_FEW
        refused[cov < settings.min_coverage] = _LOW_COVERAGE
    values = np.full((n_house, n_hours), np.nan)
    unadjusted = values.copy()
    day_index = np.full((n_house, k or 0), -1, dtype=np.int64)
    adjustment, raw = np.zeros(n_house), np.full(n_house, np.nan)
    capped, upward_refused = np.zeros(n_house, bool), np.zeros(n_house, bool)
    observed, typical = np.full(n_house, np.nan), np.full(n_house, np.nan)
    ok_rows = np.flatnonzero(refused == 0)
    if k and ok_rows.size:
        rows, cols = select_last(pool[ok_rows], k)
        rows, cols = ok_rows[rows], cols + lo
        days = kwh[rows[:, None], cols, start_hour:end_hour]
        if spec.drop_lowest_days:
            base, _ = drop_lowest_days_mean(days, spec.drop_lowest_days)
        else:
            base = trimmed_mean(days, spec.trim_low, spec.trim_high)
        unadjusted[rows] = base
        day_index[rows] = cols
        if spec.in_day_adjustment:
            flat = kwh[rows].reshape(rows.size, -1)
            (adjustment[rows], raw[rows], capped[rows], upward_refused[rows], observed[rows],
             typical[rows]) = in_day_adjustment(flat, target, cols, start_hour, base, settings.adjustment)
            base = np.maximum(base + adjustment[rows, None], 0.0)
        values[rows] = base
    return BatchBaseline(values, unadjusted, refused, found, cov, day_index, adjustment, raw, capped,
                         upward_refused, observed, typical)
