import pytest

from backend.savings.tou import TouTable, best_window

JEJU_LIKE = {"periods": [
    {"name": "off_peak", "start": 22, "end": 8, "price": 90.0},
    {"name": "mid", "start": 8, "end": 17, "price": 150.0},
    {"name": "peak", "start": 17, "end": 22, "price": 250.0},
]}


def test_table_from_configuration():
    table = TouTable.from_config(JEJU_LIKE)
    prices = table.price_by_hour()
    assert prices[23] == 90.0 and prices[7] == 90.0 and prices[8] == 150.0 and prices[21] == 250.0
    assert table.period_at(2) == "off_peak"
    with pytest.raises(ValueError):
        TouTable.from_config({"periods": [{"name": "x", "start": 0, "end": 23, "price": 1}]})


def test_cheapest_window_crosses_midnight_and_ties_go_earliest():
    table = TouTable.from_config(JEJU_LIKE)
    w = best_window(2, table, kwh_per_hour=[1.0, 0.5])
    assert (w.start_hour, w.end_hour, w.cost_won) == (0, 2, 135.0)
    late = best_window(3, table, allowed_starts=range(18, 24))
    assert (late.start_hour, late.end_hour, late.cost_won) == (22, 1, 270.0)


def test_lowest_carbon_window():
    table = TouTable.from_config(JEJU_LIKE)
    carbon = [450.0] * 24
    carbon[12:15] = [300.0, 280.0, 310.0]  # solar midday
    w = best_window(2, table, carbon_g_per_kwh=carbon, objective="carbon")
    assert (w.start_hour, w.carbon_g) == (12, 580.0) and w.cost_won == 300.0
    with pytest.raises(ValueError):
        best_window(2, table, objective="carbon")
