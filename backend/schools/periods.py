"""Scoring periods of the Korean school year (pure).

A school year runs from 1 March to the end of February; its first term (1학기) from March to
August, its second (2학기) from September to February. Periods are half-open date ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class PeriodKind(StrEnum):
    MONTH = "month"
    TERM = "term"
    SCHOOL_YEAR = "school_year"


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: date  # first day
    end: date  # day after the last

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.start:%Y-%m}"
        year = school_year_of(self.start)
        if self.kind is PeriodKind.SCHOOL_YEAR:
            return f"{year} school year"
        return f"{year} term {1 if self.start.month == 3 else 2}"

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def school_year_of(day: date) -> int:
    """The calendar year in which the school year holding ``day`` began (March)."""
    return day.year if day.month >= 3 else day.year - 1


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_of(kind: PeriodKind, day: date) -> Period:
    """The period of ``kind`` that contains ``day``."""
    if kind is PeriodKind.MONTH:
        start = day.replace(day=1)
        return Period(kind, start, _add_months(start, 1))
    year = school_year_of(day)
    if kind is PeriodKind.SCHOOL_YEAR:
        return Period(kind, date(year, 3, 1), date(year + 1, 3, 1))
    if 3 <= day.month <= 8:
        return Period(kind, date(year, 3, 1), date(year, 9, 1))
    return Period(kind, date(year, 9, 1), date(year + 1, 3, 1))
