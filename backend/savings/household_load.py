"""A household's hourly load from its plugs' rollups: the (days, 24) grid the baselines read.

The load is the sum of the given plugs. An hour counts only when every one of them covered at
least :data:`MIN_COVERAGE` of it; otherwise it is NaN, so missing data is never read as zero
use (and never becomes savings). Rows are consecutive local dates in ``tz_name``, columns local
clock hours. Which plugs make up the household is the caller's choice: settlement uses the
plugs paired at the event, so a plug unpaired before the event cannot turn into fake savings,
and a plug added recently leaves the older hours missing instead of lowering the baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from tortoise import Tortoise
from tortoise.expressions import Q

from backend.plugs import store
from backend.plugs.models import Plug

MIN_COVERAGE = 0.9
BATCH = 500


@dataclass(frozen=True)
class HouseholdLoad:
    days: tuple[date, ...]
    kwh: np.ndarray  # (D, 24) summed kWh; NaN where any plug covered less than MIN_COVERAGE
    coverage: np.ndarray  # (D, 24) the lowest plug coverage of each hour (0 without a rollup)
    plug_ids: tuple[int, ...]

    def row(self, day: date) -> int:
        return (day - self.days[0]).days


def local_hour_start(day: date, hour: int, tz: ZoneInfo) -> datetime:
    """The UTC instant where local ``hour`` of ``day`` starts."""
    return datetime.combine(day, time(hour), tz).astimezone(UTC)


def _cells(first: date, last: date, tz: ZoneInfo) -> dict[datetime, tuple[int, int]]:
    out: dict[datetime, tuple[int, int]] = {}
    for i in range((last - first).days + 1):
        day = first + timedelta(days=i)
        for hour in range(24):
            out.setdefault(local_hour_start(day, hour, tz), (i, hour))
    return out


async def load_households(plugs_by_household: Mapping[int, Sequence[int]], first: date, last: date,
                          tz_name: str) -> dict[int, HouseholdLoad]:
    """The hourly load of each household from ``first`` to ``last`` (local dates, inclusive)."""
    tz = ZoneInfo(tz_name)
    cells = _cells(first, last, tz)
    n_days = (last - first).days + 1
    start, end = min(cells), max(cells) + timedelta(hours=1)
    all_plugs = sorted({p for plugs in plugs_by_household.values() for p in plugs})
    # a plug that feeds in (balcony solar) never counts: its low or zero draw is not a saving;
    # nor does a whole-home meter channel (it already includes the plugs: counted twice)
    feeding = set(await Plug.filter(Q(feeds_in=True) | Q(meter=True), id__in=all_plugs)
                  .values_list("id", flat=True)) if all_plugs else set()
    if feeding:
        all_plugs = [p for p in all_plugs if p not in feeding]
        plugs_by_household = {h: [p for p in plugs if p not in feeding] for h, plugs in plugs_by_household.items()}
    rows = await store.hours_of(Tortoise.get_connection("default"), all_plugs, start, end)
    energy: dict[int, np.ndarray] = {}
    cover: dict[int, np.ndarray] = {}
    for plug_id in all_plugs:
        energy[plug_id] = np.zeros((n_days, 24))
        cover[plug_id] = np.zeros((n_days, 24))
    for r in rows:
        cell = cells.get(r.hour.astimezone(UTC))
        if cell is not None:
            energy[r.plug_id][cell] = r.energy_wh / 1000.0
            cover[r.plug_id][cell] = min(r.covered_s / 3600.0, 1.0)
    days = tuple(first + timedelta(days=i) for i in range(n_days))
    out = {}
    for household_id, plugs in plugs_by_household.items():
        plugs = tuple(sorted(plugs))
        if not plugs:
            out[household_id] = HouseholdLoad(days, np.full((n_days, 24), np.nan), np.zeros((n_days, 24)), plugs)
            continue
        total = np.sum([energy[p] for p in plugs], axis=0)
        lowest = np.min([cover[p] for p in plugs], axis=0)
        out[household_id] = HouseholdLoad(days, np.where(lowest >= MIN_COVERAGE, total, np.nan), lowest, plugs)
    return out


async def changed_plugs(plug_ids: Sequence[int], start: datetime, end: datetime, since: datetime) -> set[int]:
    """The plugs with a rollup in [start, end) written after ``since`` (late or restated
    readings recompute the rollup and bump its ``updated_at``)."""
    conn = Tortoise.get_connection("default")
    ids = sorted(set(plug_ids))
    out: set[int] = set()
    for lo in range(0, len(ids), BATCH):
        chunk = ids[lo:lo + BATCH]
        if store.is_postgres(conn):
            rows = await conn.execute_query_dict(
                "SELECT DISTINCT plug_id FROM plug_hour WHERE plug_id = ANY($1::int[]) AND hour >= $2 AND hour < $3 "
                "AND updated_at > $4", [chunk, start, end, since])
        else:
            marks = ", ".join("?" * len(chunk))
            rows = await conn.execute_query_dict(
                f"SELECT DISTINCT plug_id FROM plug_hour WHERE plug_id IN ({marks}) AND hour >= ? AND hour < ? "
                "AND updated_at >= ?",  # whole seconds here: a same-second write counts as changed
                [*chunk, int(start.timestamp()), int(end.timestamp()), int(since.timestamp())])
        out.update(r["plug_id"] for r in rows)
    return out
