import numpy as np
import pytest

from backend.savings.accuracy import bias, household_scores, rrmse, summarise
from backend.savings.selection import rolling_choice


def test_rrmse_and_bias_by_hand():
    pred, actual = np.array([2.0, 2.0, np.nan]), np.array([1.0, 3.0, 5.0])
    assert rrmse(pred, actual) == pytest.approx(0.5)  # rmse 1 over mean 2
    assert bias(pred, actual) == pytest.approx(0.0)
    assert bias(np.array([3.0, 3.0]), np.array([1.0, 3.0])) == pytest.approx(0.5)


def test_household_scores_only_count_masked_cells():
    actual = np.array([[[1.0, 3.0]], [[2.0, 2.0]]])  # (H=2, T=1, n=2)
    pred = np.array([[[2.0, 2.0]], [[2.0, 4.0]]])
    mask = np.array([[[True, True]], [[True, False]]])
    rr, bi = household_scores(pred, actual, mask)
    assert rr.tolist() == pytest.approx([0.5, 0.0]) and bi.tolist() == pytest.approx([0.0, 0.0])
    assert summarise(np.array([1.0, np.nan, 3.0])) == {"mean": 2.0, "median": 2.0, "households": 2}


def test_choice_is_made_on_past_months_only():
    """Method 0 is right in months 1–2 and wrong in month 3; method 1 the opposite.

    An honest choice for month 3 (trained on 1–2) picks method 0 and so scores badly there.
    """
    months = np.array([1] * 5 + [2] * 5 + [3] * 5)
    actual = np.ones((1, 15, 1))
    good, bad = np.ones(15), np.full(15, 3.0)
    m0 = np.where(months < 3, good, bad)
    m1 = np.where(months < 3, bad, good)
    predicted = np.stack([m0, m1])[:, None, :, None]
    choice = rolling_choice(predicted, actual, months, train_months=2)
    assert (choice.chosen[0, months == 1] == -1).all()  # nothing to learn from yet
    assert (choice.chosen[0, months >= 2] == 0).all()
    assert np.isnan(choice.predicted[0, months == 1]).all()
    assert (choice.predicted[0, months == 3, 0] == 3.0).all()


def test_choice_follows_the_better_method_per_household():
    rng = np.random.default_rng(3)
    months = np.repeat(np.arange(1, 5), 10)
    actual = rng.gamma(2.0, 0.5, size=(2, 40, 3))
    noise = rng.normal(0, 1, size=(2, 2, 40, 3))
    scale = np.array([[0.1, 1.0], [1.0, 0.1]])  # household 0 suits method 0, household 1 method 1
    predicted = actual[None] + scale.T[:, :, None, None] * noise
    choice = rolling_choice(predicted, actual, months, train_months=1)
    assert (choice.chosen[0, months > 1] == 0).all() and (choice.chosen[1, months > 1] == 1).all()
