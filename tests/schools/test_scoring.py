"""Pure scoreboard logic: school-year periods, per-student normalising, suppression, tie ranks."""

from __future__ import annotations

from datetime import date

from backend.schools.periods import PeriodKind, period_of
from backend.schools.scoring import GroupTotals, scoreboard


def test_the_school_year_runs_march_to_february_in_two_terms():
    feb = date(2027, 2, 10)
    assert (period_of(PeriodKind.SCHOOL_YEAR, feb).start, period_of(PeriodKind.SCHOOL_YEAR, feb).end) == (
        date(2026, 3, 1), date(2027, 3, 1))
    assert period_of(PeriodKind.TERM, feb).start == date(2026, 9, 1)
    assert period_of(PeriodKind.TERM, date(2026, 8, 31)).end == date(2026, 9, 1)
    assert period_of(PeriodKind.TERM, date(2026, 3, 1)).label == "2026 term 1"
    dec = period_of(PeriodKind.MONTH, date(2026, 12, 31))
    assert (dec.start, dec.end, dec.label) == (date(2026, 12, 1), date(2027, 1, 1), "2026-12")


def _g(gid: int, enrolled: int, points: int, **kw) -> GroupTotals:
    return GroupTotals(group_id=gid, name=f"g{gid}", enrolled=enrolled, points=points, **kw)


def test_a_small_school_can_win_per_enrolled_student():
    board = scoreboard([_g(1, 1000, 50_000), _g(2, 40, 4_000)], min_students=5)
    assert [(s.totals.group_id, s.rank, s.points_per_student) for s in board] == [(2, 1, 100.0), (1, 2, 50.0)]


def test_groups_under_the_minimum_get_no_score_and_no_rank():
    board = scoreboard([_g(1, 4, 10_000, participants=4), _g(2, 5, 10)], min_students=5)
    small = next(s for s in board if s.totals.group_id == 1)
    assert small.suppressed and small.rank is None and small.points_per_student is None
    assert small.participation_rate is None
    assert [s.totals.group_id for s in board] == [2, 1]  # ranked first, suppressed last


def test_ties_share_a_rank_in_a_stable_order():
    totals = [_g(7, 10, 100), _g(3, 10, 100), _g(5, 10, 300), _g(9, 10, 0)]
    for _ in range(3):
        board = scoreboard(list(reversed(totals)), min_students=5)
        assert [(s.totals.group_id, s.rank) for s in board] == [(5, 1), (3, 2), (7, 2), (9, 4)]


def test_rates_are_per_enrolled_student_and_delivery_over_contracted():
    s = scoreboard([_g(1, 8, 80, participants=6, deemed_kwh=4.0, measured_kwh=2.0, dr_reduction_kwh=2.0,
                       dr_contracted_kwh=2.5)], min_students=5)[0]
    assert (s.participation_rate, s.deemed_kwh_per_student, s.measured_kwh_per_student, s.dr_delivery_rate) == (
        0.75, 0.5, 0.25, 0.8)
    assert scoreboard([_g(1, 8, 0)], 5)[0].dr_delivery_rate is None  # no settled event: no rate, not 0
