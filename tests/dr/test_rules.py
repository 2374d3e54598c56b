"""The pure rules: validation, overlap, opt-out deadline, due steps, forgiveness, aggregation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.dr import live, rules
from backend.dr.models import DrScope, DrState
from backend.errors import ValidationFailed

NOW = datetime(2031, 7, 1, 5, 0, tzinfo=UTC)
LIMITS = rules.Limits(min_notice=timedelta(minutes=60), max_duration=timedelta(hours=4))
H = timedelta(hours=1)


def _validate(start, end, target=5.0, short=False, title="Peak"):
    return rules.validate_new_event(title, rules.Window(start, end), target, short, NOW, LIMITS)


@pytest.mark.parametrize(("start", "end", "target", "short", "field"), [
    (NOW + 2 * H, NOW + 2 * H, 5.0, False, "endsAt"),             # end equal to start
    (NOW + 2 * H, NOW + H, 5.0, False, "endsAt"),                 # end before start
    (NOW - H, NOW + H, 5.0, True, "startsAt"),                    # start in the past
    (NOW + 2 * H, NOW + 7 * H, 5.0, False, "endsAt"),             # longer than 4 h
    (NOW + 2 * H, NOW + 3 * H, 0.0, False, "targetKw"),
    (NOW + 2 * H, NOW + 3 * H, -1.0, False, "targetKw"),
    (NOW + 2 * H, NOW + 3 * H, float("nan"), False, "targetKw"),
    (NOW + timedelta(minutes=30), NOW + 2 * H, 5.0, False, "startsAt"),  # too little notice
])
def test_invalid_events_name_the_field(start, end, target, short, field):
    with pytest.raises(ValidationFailed) as caught:
        _validate(start, end, target, short)
    assert caught.value.field == field


def test_short_notice_is_allowed_when_flagged_and_titles_are_cleaned():
    assert _validate(NOW + timedelta(minutes=10), NOW + H, short=True, title="  Heat   wave ") == "Heat wave"
    with pytest.raises(ValidationFailed):
        _validate(NOW + 2 * H, NOW + 3 * H, title="   ")


def test_overlap_in_place_national_overlaps_everything():
    national = rules.Area(DrScope.NATIONAL)
    muni_a, muni_b = rules.Area(DrScope.MUNICIPALITY, 1), rules.Area(DrScope.MUNICIPALITY, 2)
    school_a1, school_a2 = rules.Area(DrScope.SCHOOL, 1, 10), rules.Area(DrScope.SCHOOL, 1, 11)
    assert national.intersects(muni_b) and school_a1.intersects(national)
    assert muni_a.intersects(school_a1) and school_a1.intersects(muni_a)
    assert not muni_a.intersects(muni_b) and not school_a1.intersects(school_a2)
    window = rules.Window(NOW, NOW + H)
    touching = rules.Window(NOW + H, NOW + 2 * H)
    assert not rules.conflicts(muni_a, window, [(muni_a, touching), (muni_b, window)])
    assert rules.conflicts(muni_a, window, [(national, rules.Window(NOW + H / 2, NOW + 2 * H))])


def test_opt_out_until_fifteen_minutes_after_start_and_back_in_before_start():
    grace = timedelta(minutes=15)
    rules.check_decision(True, DrState.RUNNING, NOW, NOW + timedelta(minutes=15), grace)
    with pytest.raises(ValidationFailed):
        rules.check_decision(True, DrState.RUNNING, NOW, NOW + timedelta(minutes=16), grace)
    rules.check_decision(False, DrState.NOTIFIED, NOW, NOW - timedelta(seconds=1), grace)
    with pytest.raises(ValidationFailed):
        rules.check_decision(False, DrState.RUNNING, NOW, NOW, grace)
    with pytest.raises(ValidationFailed):
        rules.check_decision(True, DrState.CANCELLED, NOW, NOW - H, grace)


def test_due_steps_follow_the_clock():
    start, end = NOW + H, NOW + 2 * H
    assert rules.due(DrState.SCHEDULED, start, end, NOW) is rules.Step.NOTIFY
    assert rules.due(DrState.NOTIFIED, start, end, NOW) is rules.Step.NONE
    assert rules.due(DrState.NOTIFIED, start, end, start) is rules.Step.START
    assert rules.due(DrState.RUNNING, start, end, start + H / 2) is rules.Step.NONE
    assert rules.due(DrState.RUNNING, start, end, end) is rules.Step.END
    assert rules.due(DrState.ENDED, start, end, end + H) is rules.Step.NONE
    assert rules.due(DrState.CANCELLED, start, end, start) is rules.Step.NONE


def test_forgiveness_for_short_or_late_notice_and_failed_commands():
    notice = timedelta(minutes=60)
    assert rules.notice_forgiveness(True, NOW + 2 * H, NOW, notice) is rules.Forgiven.SHORT_NOTICE
    assert rules.notice_forgiveness(False, NOW + 2 * H, NOW, notice) is None
    assert rules.notice_forgiveness(False, NOW + H, NOW, notice) is None  # exactly the minimum
    assert rules.notice_forgiveness(False, NOW + H, NOW + timedelta(seconds=1), notice) is rules.Forgiven.LATE_NOTICE
    assert rules.command_forgiveness(0, 0) is None
    assert rules.command_forgiveness(1, 1) is rules.Forgiven.SWITCH_FAILED
    assert rules.command_forgiveness(0, 2) is rules.Forgiven.RESTORE_FAILED


def test_reference_needs_enough_covered_days():
    samples = [live.HourSample(100.0, 1.0), live.HourSample(200.0, 0.95), live.HourSample(900.0, 0.5)]
    assert live.reference_w(samples, min_days=2) == 150.0
    assert live.reference_w(samples, min_days=3) is None


def test_reduction_sums_counted_plugs_and_reports_skipped():
    result = live.reduction([live.PlugNow(150.0, 0.0), live.PlugNow(100.0, 120.0), live.PlugNow(None, 0.0),
                             live.PlugNow(80.0, None)])
    assert result == live.Reduction(0.13, 2, 2)  # 150 W saved, 20 W more: 130 W


def test_households_see_no_counts_in_small_groups():
    view = live.LiveView(5.0, 0.13, 2, 2, 3, 1, 1, 4, 3, 1, NOW)
    small = live.for_household(view, min_households=5)
    assert (small.target_kw, small.reduction_kw, small.households_participating) == (5.0, None, None)
    large = live.for_household(view, min_households=3)
    assert (large.reduction_kw, large.households_participating) == (0.13, 3)
    assert live.LiveView.from_json(view.to_json()) == view
