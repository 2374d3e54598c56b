from datetime import date

from backend.savings.calendar import (
    DayType,
    Exclusion,
    calendar_exclusions,
    calendar_mask,
    day_type,
    korean_holidays,
    uk_bank_holidays,
)

JAN = [date(2024, 1, d) for d in range(5, 11)]  # Fri … Wed


def test_working_day_pool_names_each_reason():
    reasons = calendar_exclusions(JAN, for_type=DayType.WORKING, holidays={date(2024, 1, 10)},
                                  event_days={date(2024, 1, 8)})
    assert reasons == [None, Exclusion.WEEKEND, Exclusion.WEEKEND, Exclusion.EVENT_DAY, None, Exclusion.HOLIDAY]


def test_non_working_pool_takes_weekends_and_holidays():
    mask = calendar_mask(JAN, for_type=DayType.NON_WORKING, holidays={date(2024, 1, 10)},
                         event_days={date(2024, 1, 7)})
    assert mask.tolist() == [False, True, False, False, False, True]
    reasons = calendar_exclusions(JAN, for_type=DayType.NON_WORKING, holidays=set(), event_days=set())
    assert reasons[0] is Exclusion.WORKING_DAY


def test_holiday_calendars_are_parameters():
    uk = uk_bank_holidays([2013])
    assert sorted(d for d in uk if d.year == 2013) == [
        date(2013, 1, 1), date(2013, 3, 29), date(2013, 4, 1), date(2013, 5, 6),
        date(2013, 5, 27), date(2013, 8, 26), date(2013, 12, 25), date(2013, 12, 26)]
    kr = korean_holidays([2024])
    assert date(2024, 3, 1) in kr  # Independence Movement Day, a Friday
    assert day_type(date(2024, 3, 1), kr) is DayType.NON_WORKING
    assert day_type(date(2024, 3, 1), uk_bank_holidays([2024])) is DayType.WORKING
