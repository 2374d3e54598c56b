"""Per-household choice of baseline method, chosen on past days and measured on later ones.

Each month, every household gets the method with the lowest RRMSE over its pseudo-event days in
the previous ``train_months`` months; that choice is then scored on the month itself. Choosing
and scoring never share days, so the score is an honest estimate of what the choice delivers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.savings.accuracy import household_scores


@dataclass(frozen=True)
class RollingChoice:
    chosen: np.ndarray  # (H, T) index of the chosen method, -1 where no choice was possible
    predicted: np.ndarray  # (H, T, n_hours) the chosen method's baseline, NaN without a choice


def rolling_choice(predicted: np.ndarray, actual: np.ndarray, months: np.ndarray, *, train_months: int = 2) -> RollingChoice:
    """Choose per household and month from ``predicted`` (M, H, T, n) against ``actual`` (H, T, n).

    ``months`` (T,) numbers each target day's month (e.g. 1–12). Only days where every method
    has a baseline are used for training, so the methods compete on the same days.
    """
    _, n_house, n_targets, _ = predicted.shape
    common = np.isfinite(actual) & np.isfinite(predicted).all(axis=0)
    chosen = np.full((n_house, n_targets), -1)
    for month in np.unique(months):
        train = (months < month) & (months >= month - train_months)
        if not train.any():
            continue
        mask = common & train[None, :, None]
        scores, _ = household_scores(predicted, actual, mask)  # (M, H)
        has_score = np.isfinite(scores).all(axis=0)
        best = np.argmin(np.where(np.isfinite(scores), scores, np.inf), axis=0)
        chosen[:, months == month] = np.where(has_score, best, -1)[:, None]
    picked = np.take_along_axis(predicted, np.maximum(chosen, 0)[None, :, :, None], axis=0)[0]
    return RollingChoice(chosen, np.where((chosen >= 0)[:, :, None], picked, np.nan))
