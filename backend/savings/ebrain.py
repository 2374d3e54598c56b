"""e-Brain basics: what each plug wastes on standby, and the cheapest hours for laundry.

The calculations are the pure functions in :mod:`backend.savings.standby` and
:mod:`backend.savings.tou`; this module reads the plugs' hourly rollups and the configured
time-of-use table around them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from backend.plugs import service as plugs
from backend.savings.standby import StandbyEstimate, standby_watts, yearly_cost
from backend.savings.sufficiency import DataSufficiencyError
from backend.savings.tou import TouTable, Window, best_window

DEFAULT_TOU_TABLE = Path(__file__).parent / "data" / "tou_example.json"
STANDBY_DAYS = 14
MIN_COVERAGE = 0.9  # an hour counts only when readings cover 90% of it


async def standby_of(plug_ids: Sequence[int], now: datetime, tz_name: str, price_won_per_kwh: float,
                     days: int = STANDBY_DAYS) -> dict[int, StandbyEstimate | None]:
    """Per plug: its always-on power from the night hours of the last ``days`` days, or None
    when there are too few well-covered night hours to say."""
    end = now.replace(minute=0, second=0, microsecond=0)
    series = await plugs.hourly(list(plug_ids), end - timedelta(days=days), end)
    zone = ZoneInfo(tz_name)
    out: dict[int, StandbyEstimate | None] = {}
    for plug_id, points in series.items():
        watts = np.array([p.energy_wh if p.coverage >= MIN_COVERAGE else np.nan for p in points])
        hours = np.array([p.hour.astimezone(zone).hour for p in points])
        standby, samples = standby_watts(watts[None, :], hours)  # Wh in one hour = mean W
        try:
            out[plug_id] = yearly_cost(float(standby[0]), int(samples[0]), price_won_per_kwh=price_won_per_kwh)
        except DataSufficiencyError:
            out[plug_id] = None
    return out


@lru_cache(maxsize=8)
def _load_table(path: str) -> tuple[str, TouTable]:
    config = json.loads(Path(path).read_text())
    return str(config.get("name", Path(path).stem)), TouTable.from_config(config)


def tou_table(path: Path | None) -> tuple[str, TouTable]:
    """The configured time-of-use table (``PVPP_TOU_TABLE_PATH``) and its name."""
    return _load_table(str(path or DEFAULT_TOU_TABLE))


def laundry_window(hours: int, table: TouTable, kwh_per_hour: float = 1.0) -> Window:
    """The cheapest window of ``hours`` whole hours for an appliance cycle."""
    return best_window(hours, table, kwh_per_hour=kwh_per_hour)
