"""Hourly readings as a (households, days, 24) local-time grid, NaN where a reading is missing.

Rows are keyed by the local date and the local clock hour. On the spring-forward day the
missing 01:00 hour stays NaN; on the autumn day the two 01:00 hours are averaged, so every
cell stays "kWh in one hour". Also reads the London development data set (LCL extract).
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class HourlyGrid:
    households: tuple[str, ...]
    days: np.ndarray  # (D,) datetime64[D], consecutive
    kwh: np.ndarray  # (H, D, 24) float64, NaN = missing

    def index(self, day: date) -> int:
        return int((np.datetime64(day, "D") - self.days[0]).astype(int))

    def subset(self, households: Sequence[str]) -> HourlyGrid:
        rows = [self.households.index(h) for h in households]
        return HourlyGrid(tuple(households), self.days, self.kwh[rows])


def rows_to_grid(household: Sequence[str], day: np.ndarray, hour: np.ndarray, kwh: np.ndarray) -> HourlyGrid:
    """Build the grid from parallel arrays of readings (local date, local hour 0–23, kWh)."""
    names, h_idx = np.unique(np.asarray(household), return_inverse=True)
    day = np.asarray(day, dtype="datetime64[D]")
    first, last = day.min(), day.max()
    n_days = int((last - first).astype(int)) + 1
    d_idx = (day - first).astype(int)
    total = np.zeros((names.size, n_days, 24))
    count = np.zeros((names.size, n_days, 24))
    np.add.at(total, (h_idx, d_idx, hour), kwh)
    np.add.at(count, (h_idx, d_idx, hour), 1)
    grid = np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)
    return HourlyGrid(tuple(str(n) for n in names), first + np.arange(n_days), grid)


def load_lcl_hourly(path: Path) -> HourlyGrid:
    """Read ``meter_hourly.csv.gz`` (``household_id,timestamp_local,kwh``; local ISO time with offset)."""
    ids, days, hours, values = [], [], [], []
    with gzip.open(path, "rt", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for household_id, stamp, kwh in reader:
            ids.append(household_id)
            days.append(stamp[:10])
            hours.append(int(stamp[11:13]))
            values.append(float(kwh))
    return rows_to_grid(ids, np.array(days, dtype="datetime64[D]"), np.array(hours), np.array(values))


def load_households(path: Path) -> dict[str, dict[str, str]]:
    """``households.csv`` as {household_id: row}."""
    with open(path, newline="") as fh:
        return {row["household_id"]: row for row in csv.DictReader(fh)}


def load_dtou_signals(path: Path) -> dict[str, np.ndarray]:
    """The dToU schedule as hourly boolean grids (days, 24) per signal, keyed "High" and "Low".

    An hour carries a signal when both of its half hours do (the 2013 signals start on the hour).
    Days are the data's local dates starting at the schedule's first date (key "days").
    """
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    days = np.array([r["timestamp_local"][:10] for r in rows], dtype="datetime64[D]")
    hours = np.array([int(r["timestamp_local"][11:13]) for r in rows])
    first = days.min()
    n_days = int((days.max() - first).astype(int)) + 1
    out: dict[str, np.ndarray] = {"days": first + np.arange(n_days)}
    for signal in ("High", "Low"):
        halves = np.zeros((n_days, 24), dtype=np.int8)
        total = np.zeros((n_days, 24), dtype=np.int8)
        flags = np.array([r["tariff"] == signal for r in rows])
        np.add.at(halves, ((days - first).astype(int), hours), flags.astype(np.int8))
        np.add.at(total, ((days - first).astype(int), hours), 1)
        out[signal] = (halves == total) & (total > 0)
    return out
