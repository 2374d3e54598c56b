"""The demo plan is pure and seeded: same input, same history; more families keep the first ones."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from backend.activities.catalogue import load_catalogue
from backend.demo.photos import permitted, picture_pool
from backend.demo.plan import MAX_HOUSEHOLDS, DemoConfig, family, family_reports, make_families, make_plan
from backend.savings.calendar import korean_holidays

ANCHOR = date(2026, 12, 3)


def test_same_config_same_plan_and_bigger_size_keeps_the_first_families():
    a = make_plan(DemoConfig(households=10, days=60, seed=3), ANCHOR)
    b = make_plan(DemoConfig(households=10, days=60, seed=3), ANCHOR)
    bigger = make_plan(DemoConfig(households=25, days=60, seed=3), ANCHOR)
    assert a.reports == b.reports and a.dr_events == b.dr_events
    assert bigger.families[:10] == a.families
    assert [r for r in bigger.reports if r.family < 10] == a.reports
    other_seed = make_plan(DemoConfig(households=10, days=60, seed=4), ANCHOR)
    assert other_seed.reports != a.reports


def test_families_one_at_a_time_are_the_plans_and_go_past_the_plan_cap():
    """The benchmarks' bulk path makes families with ``family`` and ``family_reports``: the same as
    the plan's, and any index works (a whole plan stays capped: it is held in memory)."""
    config = DemoConfig(households=12, days=30, seed=5)
    plan = make_plan(config, ANCHOR)
    assert [family(5, i) for i in range(12)] == make_families(config) == plan.families
    days = [plan.start + timedelta(days=n) for n in range(30)]
    one_by_one = [r for f in plan.families for r in family_reports(5, f, days, ANCHOR, 6)]
    assert sorted(one_by_one, key=lambda r: (r.at, r.family, r.key)) == plan.reports
    far = family(5, 2 * MAX_HOUSEHOLDS)
    assert far.invite_code == f"DEMOH{2 * MAX_HOUSEHOLDS:07d}" and far.index == 2 * MAX_HOUSEHOLDS
    assert family_reports(5, far, days, ANCHOR, 6)
    with pytest.raises(ValueError):
        DemoConfig(households=MAX_HOUSEHOLDS + 1)


def test_default_plan_covers_every_catalogue_type_in_the_period_and_two_schools():
    plan = make_plan(DemoConfig(), ANCHOR)
    types = Counter(r.type_key for r in plan.reports)
    assert set(types) == {t.key for t in load_catalogue().types}, types
    assert all(plan.start <= r.at.date() < ANCHOR for r in plan.reports)
    assert {f.school for f in plan.families} == {0, 1}
    assert len(plan.families) == 30 and sum(f.has_plugs for f in plan.families) >= 6
    assert [f.parent_email for f in plan.families[:2]] == ["parent1@demo.pvpp.kr", "parent2@demo.pvpp.kr"]
    assert any(r.over_cap for r in plan.reports)
    photos = [r.photo for r in plan.reports if r.photo]
    assert any(p.review_at is None for p in photos) and any(p.review_at and not p.approve for p in photos)
    events = plan.dr_events
    assert len(events) == 3 and any(e.short_notice for e in events)
    assert any(e.opt_out_family is not None for e in events) and any(e.failing_family is not None for e in events)
    assert all(e.ends_at.date() < ANCHOR and e.starts_at.date() > plan.start + timedelta(days=12) for e in events)


def test_only_permissive_licences_without_people_are_used():
    assert permitted("MIT (Energy-Sparks repo LICENSE)", "laptop on")
    assert permitted("CC-BY-2.5 (blog content licence)", "charger")
    assert not permitted("repo MIT; images from Places365 val (research/non-commercial terms)", "")
    assert not permitted("Apache-2.0 (repo LICENSE; team photos)", "portrait of person (b/w)")
    assert not permitted("GPL-3.0 (repo .zenodo.json/LICENSE.md)", "")
    for picture in picture_pool():
        assert picture.licence == "generated" or permitted(picture.licence, "")


def _baseline_days(plan, event_day: date, event_days: set[date], holidays) -> int:
    """Working days a KPX 6/10 baseline could use (the first day is partly before pairing)."""
    days = (plan.start + timedelta(days=n) for n in range(1, (event_day - plan.start).days))
    return sum(1 for d in days if d.weekday() < 5 and d not in holidays and d not in event_days
               and (event_day - d).days <= 45)


def test_some_dr_event_has_ten_baseline_days_whatever_the_anchor():
    """The README shows parent1's DR result measured against a baseline: for every anchor of a
    year (every weekday alignment and holiday season) at least one event has 10 working days."""
    holidays = korean_holidays(range(2026, 2029))
    # event dates depend on the history's length only: three families keep the plans small
    for config in (DemoConfig(households=3, days=35, seed=7), DemoConfig(households=3)):
        for k in range(366):
            plan = make_plan(config, date(2027, 1, 1) + timedelta(days=k))
            event_days = {e.starts_at.date() for e in plan.dr_events}
            counts = [_baseline_days(plan, day, event_days, holidays) for day in sorted(event_days)]
            assert len(counts) == 3 and max(counts) >= 10, (config, plan.anchor, counts)
