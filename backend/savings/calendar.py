"""Which days may stand in for an event day: weekends, holidays and earlier event days.

Holidays are a parameter (any container of ``datetime.date``: a set, or a ``holidays`` calendar),
because the London development data needs England's bank holidays and production needs Korea's.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterable, Sequence
from datetime import date
from enum import StrEnum

import holidays as holidays_lib
import numpy as np

HolidayCalendar = Container[date]


class DayType(StrEnum):
    """The two kinds of day a baseline can be built for."""

    WORKING = "working"  # Monday–Friday and not a holiday
    NON_WORKING = "non_working"  # Saturday, Sunday or a holiday


class Exclusion(StrEnum):
    """Why a day before the event was not used in the baseline."""

    EVENT_DAY = "event_day"  # an earlier event: the household was asked to change its use
    HOLIDAY = "holiday"
    WEEKEND = "weekend"
    WORKING_DAY = "working_day"  # for a non-working-day event, working days do not count
    INSUFFICIENT_DATA = "insufficient_data"  # at least one hour of the day is missing


def uk_bank_holidays(years: Iterable[int]) -> HolidayCalendar:
    """England's bank holidays (the calendar for the London development data)."""
    return holidays_lib.country_holidays("GB", subdiv="ENG", years=list(years))


def korean_holidays(years: Iterable[int]) -> HolidayCalendar:
    """Korean public holidays (the production calendar)."""
    return holidays_lib.country_holidays("KR", years=list(years))


def day_type(day: date, holidays: HolidayCalendar) -> DayType:
    """Working or non-working day."""
    if day.weekday() >= 5 or day in holidays:
        return DayType.NON_WORKING
    return DayType.WORKING


def as_dates(days: Sequence[date] | np.ndarray) -> list[date]:
    """Plain ``date`` objects from a list of dates or a ``datetime64[D]`` array."""
    if isinstance(days, np.ndarray):
        return [d.item() for d in days.astype("datetime64[D]")]
    return list(days)


def calendar_exclusions(
    days: Sequence[date] | np.ndarray,
    *,
    for_type: DayType,
    holidays: HolidayCalendar,
    event_days: Collection[date] = frozenset(),
) -> list[Exclusion | None]:
    """For each day, the calendar reason it cannot be a baseline day for an event of ``for_type``.

    ``None`` means the day is eligible as far as the calendar goes (its data may still be
    missing). When several reasons apply the first of event day, holiday, weekend is given.
    """
    out: list[Exclusion | None] = []
    for d in as_dates(days):
        if d in event_days:
            out.append(Exclusion.EVENT_DAY)
        elif day_type(d, holidays) is not for_type:
            if for_type is DayType.NON_WORKING:
                out.append(Exclusion.WORKING_DAY)
            else:
                out.append(Exclusion.HOLIDAY if d in holidays else Exclusion.WEEKEND)
        else:
            out.append(None)
    return out


def calendar_mask(
    days: Sequence[date] | np.ndarray,
    *,
    for_type: DayType,
    holidays: HolidayCalendar,
    event_days: Collection[date] = frozenset(),
) -> np.ndarray:
    """Boolean array: True where the calendar allows the day as a baseline day."""
    reasons = calendar_exclusions(days, for_type=for_type, holidays=holidays, event_days=event_days)
    return np.array([r is None for r in reasons], dtype=bool)
