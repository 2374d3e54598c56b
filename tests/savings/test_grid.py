import numpy as np

from backend.savings.grid import rows_to_grid


def test_grid_keeps_missing_hours_missing_and_averages_the_repeated_hour():
    days = np.array(["2013-10-27", "2013-10-27", "2013-10-27", "2013-10-28"], dtype="datetime64[D]")
    grid = rows_to_grid(["b", "b", "b", "a"], days, np.array([1, 1, 2, 5]), np.array([0.4, 0.2, 0.5, 1.0]))
    assert grid.households == ("a", "b") and grid.kwh.shape == (2, 2, 24)
    assert np.isclose(grid.kwh[1, 0, 1], 0.3)  # two 01:00 hours on the autumn day, averaged
    assert grid.kwh[1, 0, 2] == 0.5 and grid.kwh[0, 1, 5] == 1.0
    assert np.isnan(grid.kwh[1, 0, 0]) and np.isnan(grid.kwh[1, 1]).all()
    assert grid.index(np.datetime64("2013-10-28").item()) == 1
