import numpy as np
import pytest

from backend.savings.standby import standby_from_hourly_kwh, standby_watts, yearly_cost
from backend.savings.sufficiency import DataSufficiencyError


def test_standby_is_a_low_night_percentile():
    hours = np.tile(np.arange(24), 7)
    power = np.where((hours >= 1) & (hours < 5), 5.0, 80.0)
    power[hours == 2] = 6.0
    power[np.flatnonzero(hours == 3)[0]] = 0.0  # one glitch does not set the figure
    watts, samples = standby_watts(power[None], hours)
    assert samples[0] == 28 and watts[0] == pytest.approx(5.0)


def test_standby_from_hourly_kwh_and_yearly_cost():
    kwh = np.full((2, 10, 24), 0.2)
    kwh[:, :, 1:5] = 0.004  # 4 W at night
    kwh[1, :, 1:5] = np.nan  # plug 2 never reports at night
    watts, samples = standby_from_hourly_kwh(kwh)
    assert watts[0] == pytest.approx(4.0) and np.isnan(watts[1]) and samples.tolist() == [40, 0]
    est = yearly_cost(float(watts[0]), int(samples[0]), price_won_per_kwh=120.0)
    assert est.kwh_per_year == pytest.approx(35.04) and est.won_per_year == pytest.approx(35.04 * 120)
    with pytest.raises(DataSufficiencyError):
        yearly_cost(float(watts[1]), int(samples[1]), price_won_per_kwh=120.0)
