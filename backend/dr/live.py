"""The live "People's VPP" view of a running event, as pure functions on plain numbers.

Reduction per plug = reference power − current power, where the reference is the plug's mean
power in the same hour over earlier eligible days (hours with enough coverage, not during an
event of the household). Plugs without enough history or without a fresh reading are not
guessed: they are skipped and counted as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

MIN_COVERAGE = 0.9


@dataclass(frozen=True)
class HourSample:
    """One earlier hour of a plug: energy in Wh (= mean W over the hour) and its coverage."""

    energy_wh: float
    coverage: float


def reference_w(samples: Iterable[HourSample], min_days: int, min_coverage: float = MIN_COVERAGE) -> float | None:
    """Mean power of the covered hours, or None with fewer than ``min_days`` of them."""
    values = [s.energy_wh for s in samples if s.coverage >= min_coverage]
    if len(values) < min_days:
        return None
    return sum(values) / len(values)


@dataclass(frozen=True)
class PlugNow:
    reference_w: float | None
    current_w: float | None


@dataclass(frozen=True)
class Reduction:
    kw: float
    plugs_counted: int
    plugs_skipped: int


def reduction(plugs: Sequence[PlugNow]) -> Reduction:
    """Sum of (reference − current) over plugs with both values; a plug using more than its
    reference counts negative (no clamping: the figure must not flatter)."""
    counted = [p for p in plugs if p.reference_w is not None and p.current_w is not None]
    watts = sum(p.reference_w - p.current_w for p in counted)  # type: ignore[operator]
    return Reduction(round(watts / 1000.0, 4), len(counted), len(plugs) - len(counted))


@dataclass(frozen=True)
class LiveView:
    target_kw: float
    reduction_kw: float | None
    plugs_counted: int
    plugs_skipped: int
    households_participating: int
    households_opted_out: int
    households_forgiven: int
    plugs_switched_off: int
    plugs_confirmed: int
    plugs_failed: int
    updated_at: datetime

    def to_json(self) -> dict:
        data = asdict(self)
        data["updated_at"] = self.updated_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict) -> LiveView:
        return cls(**{**data, "updated_at": datetime.fromisoformat(data["updated_at"])})


@dataclass(frozen=True)
class HouseholdLiveView:
    """What a household sees: the target and, only when enough households take part that no
    single one can be singled out, the total reduction and the number taking part."""

    target_kw: float
    reduction_kw: float | None
    households_participating: int | None
    updated_at: datetime


def for_household(view: LiveView, min_households: int) -> HouseholdLiveView:
    enough = view.households_participating >= min_households
    return HouseholdLiveView(view.target_kw, view.reduction_kw if enough else None,
                             view.households_participating if enough else None, view.updated_at)
