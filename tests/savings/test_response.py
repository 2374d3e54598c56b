from datetime import date, timedelta

import numpy as np
import pytest

from backend.savings.methods import SPECS, Method
from backend.savings.response import difference_in_differences, per_household_gaps


def test_did_recovers_a_known_reduction():
    """4 treated households cut 0.3 kWh in the signal hours; 4 controls carry on. Use is 1 kWh/h
    plus a day-level swing common to both groups, which the control group cancels."""
    rng = np.random.default_rng(11)
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(70)]
    swing = rng.normal(0, 0.1, size=(70, 1))
    kwh = np.ones((8, 70, 24)) + swing
    signal = np.zeros((70, 24), bool)
    signal_days = [30, 37, 44, 51, 58, 65]  # Wednesdays
    signal[signal_days, 17:19] = True
    treated = np.arange(8) < 4
    kwh[np.ix_(treated, signal_days)] -= 0.3 * signal[signal_days][None]
    events = {days[i] for i in signal_days}
    gap, base, count, covered = per_household_gaps(kwh, days, signal, SPECS[Method.OHMCONNECT],
                                                   holidays=set(), event_days=events)
    assert covered == 6 and (count == 12).all()
    r = difference_in_differences(gap, base, count, treated, covered)
    assert r.did_kwh_per_hour == pytest.approx(0.3)
    assert r.control.kwh_per_hour == pytest.approx(r.treated.kwh_per_hour - 0.3)
    assert r.treated.households == 4 and r.control.hours == 48


def test_earlier_signal_days_must_be_excluded():
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(60)]
    kwh = np.ones((1, 60, 24))
    signal = np.zeros((60, 24), bool)
    signal[[30, 31, 32, 33, 36, 37, 38, 39, 40, 43, 44, 45, 46, 47], 18] = True  # every weekday
    kwh[0, signal.any(axis=1), 18] = 0.5
    spec = SPECS[Method.OHMCONNECT]
    excluded = per_household_gaps(kwh, days, signal, spec, holidays=set(),
                                  event_days={days[i] for i in np.flatnonzero(signal.any(axis=1))})
    included = per_household_gaps(kwh, days, signal, spec, holidays=set(), event_days=set())
    assert excluded[0][0] / excluded[2][0] == pytest.approx(0.5)
    assert included[0][0] / included[2][0] < 0.5
