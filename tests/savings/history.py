"""A small hand-checkable history: every hour of day ``Jan d`` uses ``d`` kWh (January 2024)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

FIRST = date(2024, 1, 1)  # a Monday
HOLIDAY = date(2024, 1, 10)  # a Wednesday, declared a holiday in these tests
EARLIER_EVENT = date(2024, 1, 16)
GAP_DAY = date(2024, 1, 17)  # one hour missing
EVENT = date(2024, 1, 22)  # a Monday


def history(n_days: int = 22) -> tuple[list[date], np.ndarray]:
    days = [FIRST + timedelta(days=i) for i in range(n_days)]
    kwh = np.array([[float(d.day)] * 24 for d in days])
    kwh[(GAP_DAY - FIRST).days, 3] = np.nan
    return days, kwh


def row(kwh: np.ndarray, day: date) -> np.ndarray:
    return kwh[(day - FIRST).days]
