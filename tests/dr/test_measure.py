"""The pure part of settlement: event hours, one household's measurement, points and shares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from backend.dr.measure import event_hours, measure, points_for, split
from backend.rewards.formula import load_rules
from backend.savings.calendar import korean_holidays
from backend.savings.household_load import HouseholdLoad
from backend.savings.methods import Method

SEOUL = "Asia/Seoul"


def _load(first: date, days: int, kwh: float = 0.5) -> HouseholdLoad:
    values = np.full((days, 24), kwh)
    return HouseholdLoad(tuple(first + timedelta(days=i) for i in range(days)), values, np.ones((days, 24)), (1,))


def test_event_hours_are_the_local_hours_the_window_touches():
    start = datetime(2031, 6, 10, 7, 0, 1, tzinfo=UTC)  # 16:00:01 in Seoul
    assert event_hours(start, start + timedelta(minutes=5), SEOUL).hours == range(16, 17)
    whole = event_hours(datetime(2031, 6, 10, 7, tzinfo=UTC), datetime(2031, 6, 10, 9, tzinfo=UTC), SEOUL)
    assert (whole.day, whole.hours) == (date(2031, 6, 10), range(16, 18))
    late = event_hours(datetime(2031, 6, 10, 14, tzinfo=UTC), datetime(2031, 6, 10, 15, tzinfo=UTC), SEOUL)
    assert late.hours == range(23, 24)
    assert event_hours(datetime(2031, 6, 10, 14, tzinfo=UTC), datetime(2031, 6, 10, 16, tzinfo=UTC), SEOUL) is None


def test_a_weekend_event_falls_back_from_kpx_to_the_weekend_baseline_and_says_so():
    saturday = date(2031, 6, 14)
    load = _load(saturday - timedelta(days=50), 51)
    load.kwh[-1, 16:18] = 0.2
    result = measure(load, event_hours(datetime(2031, 6, 14, 7, tzinfo=UTC), datetime(2031, 6, 14, 9, tzinfo=UTC),
                                       SEOUL), Method.KPX_MID_6_10, holidays=korean_holidays([2031]), event_days=set())
    assert not result.refused and result.method is Method.OHMCONNECT
    assert "defines no baseline for non_working days" in result.explanation["fallback"]
    assert result.reduction_kwh == pytest.approx(0.6) and len(result.explanation["used_days"]) == 4


def test_missing_event_hours_add_no_saving_and_a_thin_history_is_refused():
    day = date(2031, 6, 10)
    hours = event_hours(datetime(2031, 6, 10, 7, tzinfo=UTC), datetime(2031, 6, 10, 9, tzinfo=UTC), SEOUL)
    load = _load(day - timedelta(days=50), 51)
    load.kwh[-1, 16], load.kwh[-1, 17] = 0.1, np.nan
    result = measure(load, hours, Method.KPX_MID_6_10, holidays=korean_holidays([2031]), event_days=set())
    assert result.reduction_kwh == pytest.approx(0.4) and result.explanation["missing_hours"] == [17]
    thin = _load(day - timedelta(days=5), 6)
    refused = measure(thin, hours, Method.KPX_MID_6_10, holidays=korean_holidays([2031]), event_days=set())
    assert refused.refused and refused.reduction_kwh == 0.0
    assert refused.explanation["insufficient"]["reason"] == "low_coverage"


def test_points_round_down_to_whole_wh_never_go_negative_and_are_shared_equally():
    rules = load_rules(2026)
    assert points_for(0.6, rules)[0] == 1_200
    assert points_for(0.0015999, rules)[0] == 2  # 1 Wh
    assert points_for(-3.0, rules)[0] == 0
    assert points_for(5_000.0, rules)[0] == 2_000_000  # capped at max_kwh_per_entry (1,000 kWh)
    assert split(1_201, 2) == [601, 600] and split(5, 3) == [2, 2, 1] and split(10, 0) == []
