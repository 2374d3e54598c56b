"""Each method against hand-computed values on the history in ``history.py``.

Eligible working days before Mon 22 Jan, newest first: 19, 18, (17 has a missing hour),
(16 earlier event), 15, 12, 11, (10 holiday), 9, 8, 5, 4, 3 — each day's use is its date.
"""

from datetime import date, datetime

import numpy as np
import pytest

from backend.savings.baselines import compute_baseline
from backend.savings.calendar import Exclusion
from backend.savings.methods import Event, Method
from backend.savings.sufficiency import (
    DataSufficiencyError,
    SufficiencyReason,
    WarningCode,
)

from .history import EARLIER_EVENT, EVENT, GAP_DAY, HOLIDAY, history, row

EVENING = Event(EVENT, 17, 20)
TEN_DAYS = [3, 4, 5, 8, 9, 11, 12, 15, 18, 19]


def run(method, kwh=None, event=EVENING, **kw):
    days, base = history()
    return compute_baseline(method, days, base if kwh is None else kwh, event,
                            holidays={HOLIDAY}, event_days={EARLIER_EVENT}, **kw)


def test_mid_6_10_drops_two_highest_and_two_lowest_per_hour():
    days, kwh = history()
    kwh[(date(2024, 1, 8) - days[0]).days, 18] = 100.0  # one spike at 18:00 on the 8th
    r = run(Method.KPX_MID_6_10, kwh)
    assert [d.day for d in r.used_days] == TEN_DAYS
    assert r.baseline_kwh[0] == pytest.approx((5 + 8 + 9 + 11 + 12 + 15) / 6)  # 3, 4, 18, 19 dropped
    hour18 = r.hours[1]
    assert hour18.hour == 18
    assert sorted(v.day.day for v in hour18.dropped) == [3, 4, 8, 19]
    assert sorted(v.kwh for v in hour18.kept) == [5, 9, 11, 12, 15, 18]
    assert hour18.baseline_kwh == pytest.approx(70 / 6)


def test_explanation_lists_every_skipped_day_with_its_reason():
    r = run(Method.KPX_MID_6_10)
    reasons = {e.day: e.reason for e in r.excluded_days}
    assert reasons[HOLIDAY] is Exclusion.HOLIDAY
    assert reasons[EARLIER_EVENT] is Exclusion.EVENT_DAY
    assert reasons[GAP_DAY] is Exclusion.INSUFFICIENT_DATA
    assert reasons[date(2024, 1, 6)] is Exclusion.WEEKEND and reasons[date(2024, 1, 21)] is Exclusion.WEEKEND
    assert len(reasons) == 9  # 6, 7, 10, 13, 14, 16, 17, 20, 21
    assert r.coverage == pytest.approx(359 / 360)
    assert [w.code for w in r.warnings] == [WarningCode.PARTIAL_COVERAGE]


def test_max_4_5_drops_the_day_with_least_use_in_the_event_hours():
    days, kwh = history()
    kwh[(date(2024, 1, 19) - days[0]).days, 17:20] = 0.5  # the newest day is the lowest in the event hours
    r = run(Method.KPX_MAX_4_5, kwh)
    assert [d.day for d in r.used_days] == [11, 12, 15, 18, 19]
    assert [(d.day.day, d.kwh) for d in r.dropped_days] == [(19, 1.5)]
    assert r.baseline_kwh == pytest.approx([(11 + 12 + 15 + 18) / 4] * 3)
    assert all(len(h.kept) == 4 and h.dropped[0].day == date(2024, 1, 19) for h in r.hours)


def test_max_4_5_tie_drops_the_older_day():
    days, kwh = history()
    kwh[(date(2024, 1, 11) - days[0]).days, 17:20] = 12.0  # ties with the 12th
    r = run(Method.KPX_MAX_4_5, kwh)
    assert [d.day.day for d in r.dropped_days] == [11]
    assert r.baseline_kwh[0] == pytest.approx((12 + 15 + 18 + 19) / 4)


def test_ohmconnect_working_and_weekend_events():
    r = run(Method.OHMCONNECT)
    assert r.baseline_kwh == pytest.approx([sum(TEN_DAYS) / 10] * 3)
    weekend = run(Method.OHMCONNECT, event=Event(date(2024, 1, 20), 9, 11))
    assert [d.day for d in weekend.used_days] == [7, 10, 13, 14]  # Sat/Sun and the holiday
    assert weekend.baseline_kwh == pytest.approx([11.0, 11.0])


def test_kpx_defines_no_weekend_baseline():
    with pytest.raises(DataSufficiencyError) as exc:
        run(Method.KPX_MID_6_10, event=Event(date(2024, 1, 20), 9, 11))
    assert exc.value.reason is SufficiencyReason.NOT_APPLICABLE


def _with_window(value: float) -> np.ndarray:
    _, kwh = history()
    row(kwh, EVENT)[13:16] = value  # 13:00–16:00 ends one hour before the 17:00 event
    return kwh


def test_dfs_additive_in_day_adjustment():
    r = run(Method.UK_DFS, _with_window(11.4))
    a = r.adjustment
    assert (a.window_start, a.window_end) == (datetime(2024, 1, 22, 13), datetime(2024, 1, 22, 16))
    assert a.typical_kwh_per_hour == pytest.approx(10.4) and a.observed_kwh_per_hour == pytest.approx(11.4)
    assert a.applied_kwh_per_hour == pytest.approx(1.0) and not a.capped and not a.upward_refused
    assert r.baseline_kwh == pytest.approx([11.4] * 3)
    assert r.hours[0].unadjusted_kwh == pytest.approx(10.4)


def test_dfs_adjustment_is_capped_both_ways():
    up = run(Method.UK_DFS, _with_window(20.0))  # +9.6 raw, below the guard's 2 × 10.4
    assert up.adjustment.capped and up.adjustment.applied_kwh_per_hour == pytest.approx(0.25 * 10.4)
    assert up.baseline_kwh == pytest.approx([13.0] * 3)
    assert WarningCode.ADJUSTMENT_CAPPED in [w.code for w in up.warnings]
    down = run(Method.UK_DFS, _with_window(5.0))
    assert down.baseline_kwh == pytest.approx([10.4 - 2.6] * 3)


def test_dfs_gaming_guard_refuses_an_inflated_window():
    r = run(Method.UK_DFS, _with_window(30.0))  # above every baseline day and > 2 × typical
    assert r.adjustment.upward_refused and r.adjustment.applied_kwh_per_hour == 0.0
    assert r.baseline_kwh == pytest.approx([10.4] * 3)
    anomaly = [w for w in r.warnings if w.code is WarningCode.ADJUSTMENT_WINDOW_ANOMALY]
    assert anomaly and anomaly[0].data["observed_kwh_per_hour"] == pytest.approx(30.0)


def test_dfs_missing_window_means_no_adjustment():
    kwh = _with_window(11.4)
    row(kwh, EVENT)[14] = np.nan
    r = run(Method.UK_DFS, kwh)
    assert r.adjustment.raw_kwh_per_hour is None and r.baseline_kwh == pytest.approx([10.4] * 3)
    assert WarningCode.ADJUSTMENT_WINDOW_MISSING in [w.code for w in r.warnings]


def test_refuses_low_coverage():
    days, kwh = history()
    kwh[-6:-2] = np.nan  # four of the last 15 days missing: 264 of 360 hours
    with pytest.raises(DataSufficiencyError) as exc:
        compute_baseline(Method.OHMCONNECT, days, kwh, EVENING, holidays={HOLIDAY})
    assert exc.value.reason is SufficiencyReason.LOW_COVERAGE and "73%" in exc.value.detail


def test_refuses_too_few_eligible_days():
    days, kwh = history()
    with pytest.raises(DataSufficiencyError) as exc:
        compute_baseline(Method.KPX_MID_6_10, days[7:], kwh[7:], EVENING,
                         holidays={HOLIDAY}, event_days={EARLIER_EVENT})
    assert exc.value.reason is SufficiencyReason.TOO_FEW_ELIGIBLE_DAYS
    assert exc.value.detail.startswith("7 complete working days")


def test_missing_hours_are_never_zero_use():
    days, kwh = history()
    zeros = kwh.copy()
    zeros[(GAP_DAY - days[0]).days, 3] = 0.0  # as if the missing hour had been read as 0 kWh
    with_nan = run(Method.OHMCONNECT, kwh)
    with_zero = run(Method.OHMCONNECT, zeros)
    assert GAP_DAY not in with_nan.used_days and GAP_DAY in with_zero.used_days
    with pytest.raises(DataSufficiencyError):
        with_nan.savings_kwh([1.0, np.nan, 1.0])
    assert with_nan.savings_kwh([10.0, 10.0, 10.0]) == pytest.approx(3 * 0.4)


def test_baseline_ahead_of_the_event_needs_no_event_day_rows():
    days, kwh = history(21)  # data up to Sunday 21st
    r = compute_baseline(Method.KPX_MID_6_10, days, kwh, EVENING, holidays={HOLIDAY}, event_days={EARLIER_EVENT})
    assert r.baseline_kwh == pytest.approx([10.0] * 3)


def test_low_consumption_warning():
    days, kwh = history()
    r = compute_baseline(Method.OHMCONNECT, days, kwh / 1000, EVENING, holidays={HOLIDAY})
    assert WarningCode.LOW_CONSUMPTION in [w.code for w in r.warnings]
