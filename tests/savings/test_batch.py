from datetime import date, timedelta

import numpy as np
import pytest

from backend.savings.baselines import compute_baseline
from backend.savings.batch import REFUSALS, batch_baseline, select_last, trimmed_mean
from backend.savings.calendar import DayType, calendar_mask
from backend.savings.methods import SPECS, Event, Method
from backend.savings.sufficiency import DataSufficiencyError


def test_select_last_picks_the_newest_k_oldest_first():
    pool = np.array([[1, 0, 1, 1, 0, 1], [1, 0, 0, 0, 0, 1]], dtype=bool)
    rows, cols = select_last(pool, 3)
    assert rows.tolist() == [0] and cols.tolist() == [[2, 3, 5]]


def test_trimmed_mean_per_column():
    values = np.array([[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [100.0, 0.0]]])
    assert trimmed_mean(values, 1, 1).tolist() == [[2.5, 15.0]]


@pytest.mark.parametrize("method", list(Method))
def test_batch_matches_the_explained_baseline_household_by_household(method):
    rng = np.random.default_rng(7)
    first = date(2024, 3, 4)
    days = [first + timedelta(days=i) for i in range(40)]
    kwh = rng.gamma(2.0, 0.3, size=(6, 40, 24))
    kwh[rng.random(kwh.shape) < 0.01] = np.nan
    kwh[5, 20:36] = np.nan  # one household with a long gap
    kwh[2, 38, 12:16] = 9.0  # an inflated adjustment window
    holidays, events = {date(2024, 4, 1)}, {date(2024, 3, 28)}
    event = Event(days[38], 16, 19)
    eligible = calendar_mask(days, for_type=DayType.WORKING, holidays=holidays, event_days=events)
    spec = SPECS[method]
    batch = batch_baseline(kwh, 38, 16, 19, spec, spec.working_days, eligible)
    for h in range(6):
        try:
            one = compute_baseline(method, days, kwh[h], event, holidays=holidays, event_days=events)
        except DataSufficiencyError as exc:
            assert REFUSALS[batch.refused[h]] is exc.reason
            assert np.isnan(batch.values[h]).all()
        else:
            assert batch.refused[h] == 0
            assert batch.values[h] == pytest.approx(one.baseline_kwh)
    assert REFUSALS[batch.refused[5]] is not None
