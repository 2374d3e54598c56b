"""The cheapest or lowest-carbon N-hour window, e.g. for the family's laundry.

The time-of-use table is configuration (a mapping read from settings or JSON), never code:
Korean residential tariffs have no time of use, and the optional pilots differ (off-peak
22:00–08:00 on Jeju, 23:00–09:00 in the 2019 pilot).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np


@dataclass(frozen=True)
class TouPeriod:
    name: str
    start_hour: int  # inclusive
    end_hour: int  # exclusive; smaller than start_hour means the period runs past midnight
    price_won_per_kwh: float

    def hours(self) -> list[int]:
        span = (self.end_hour - self.start_hour) % 24 or 24
        return [(self.start_hour + i) % 24 for i in range(span)]


@dataclass(frozen=True)
class TouTable:
    periods: tuple[TouPeriod, ...]

    def __post_init__(self) -> None:
        hours = sorted(h for p in self.periods for h in p.hours())
        if hours != list(range(24)):
            raise ValueError("time-of-use periods must cover each hour of the day exactly once")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TouTable:
        """``{"periods": [{"name": "off_peak", "start": 22, "end": 8, "price": 90.5}, ...]}``."""
        return cls(tuple(TouPeriod(str(p["name"]), int(p["start"]), int(p["end"]), float(p["price"]))
                         for p in config["periods"]))

    def price_by_hour(self) -> np.ndarray:
        prices = np.empty(24)
        for p in self.periods:
            prices[p.hours()] = p.price_won_per_kwh
        return prices

    def period_at(self, hour: int) -> str:
        return next(p.name for p in self.periods if hour % 24 in p.hours())


@dataclass(frozen=True)
class Window:
    start_hour: int
    end_hour: int  # exclusive, modulo 24
    cost_won: float
    carbon_g: float | None


def best_window(
    n_hours: int,
    table: TouTable,
    *,
    kwh_per_hour: Sequence[float] | float = 1.0,
    carbon_g_per_kwh: Sequence[float] | None = None,
    objective: Literal["cost", "carbon"] = "cost",
    allowed_starts: Sequence[int] | None = None,
) -> Window:
    """The N-hour window (it may cross midnight) that minimises cost or carbon.

    ``kwh_per_hour`` is the appliance's use in each hour of its cycle; ``carbon_g_per_kwh`` the
    grid's carbon intensity for each hour of the day. Ties go to the earliest allowed start, and
    a carbon tie is broken by cost.
    """
    if not 1 <= n_hours <= 24:
        raise ValueError("a window is 1 to 24 hours")
    profile = np.broadcast_to(np.asarray(kwh_per_hour, dtype=float), (n_hours,))
    starts = list(range(24)) if allowed_starts is None else [s % 24 for s in allowed_starts]
    if not starts:
        raise ValueError("no allowed start hour")
    idx = (np.asarray(starts)[:, None] + np.arange(n_hours)[None, :]) % 24
    cost = (table.price_by_hour()[idx] * profile).sum(axis=1)
    carbon = None
    if carbon_g_per_kwh is not None:
        intensity = np.asarray(carbon_g_per_kwh, dtype=float)
        if intensity.shape != (24,):
            raise ValueError("carbon intensity needs one value per hour of the day")
        carbon = (intensity[idx] * profile).sum(axis=1)
    if objective == "carbon":
        if carbon is None:
            raise ValueError("the carbon objective needs hourly carbon intensity")
        best = int(np.lexsort((cost, carbon))[0])
    else:
        best = int(np.argmin(cost))
    start = starts[best]
    return Window(start, (start + n_hours) % 24, float(cost[best]), None if carbon is None else float(carbon[best]))
