"""``score_month`` (trigger-kept per-student monthly sums) gives the boards the direct sums give."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tortoise import connections

from backend.activities.models import Activity, ActivityStatus
from backend.activities.service import decide_activity
from backend.schools import summary
from backend.schools.periods import PeriodKind, period_of
from backend.schools.scoreboard import Level, direct_group_totals, group_totals
from backend.schools.scoring import scoreboard
from tests.builders import build_world, start_programmes
from tests.schools.support import add_activity, add_students, award_points, settled_dr

TZ = "Asia/Seoul"
DAYS = [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 1), date(2027, 2, 28),
        date(2027, 3, 1)]
PERIODS = [period_of(kind, day) for kind in PeriodKind for day in DAYS]


async def _world():
    """Activities in several months with every status change, points on both sides of local
    midnight at month ends, a reversal, a deleted activity and a student who changed class."""
    w = await build_world()
    programme, _ = await start_programmes(w, year=2026)
    extra = await add_students(w.class_a, 6, w.muni_a.id, "x")
    students = [w.family_a1.student, w.family_a2.student, *extra]
    acts = []
    for i, s in enumerate(students):
        for day in DAYS[i % 3: i % 3 + 3]:
            acts.append(await add_activity(s, programme, day, f"{0.25 * (i + 1):.3f}", 10 * (i + 1)))
    pending = await add_activity(students[3], programme, date(2026, 11, 15), "1.5", 30,
                                 status=ActivityStatus.PENDING_EVIDENCE)
    await add_activity(students[4], programme, date(2026, 11, 15), "9.0", 100, status=ActivityStatus.REJECTED)
    await decide_activity(pending.id, True, "photo accepted", now=datetime(2026, 11, 16, 3, tzinfo=UTC))
    await decide_activity(acts[2].id, False, "photo rejected", now=datetime(2026, 11, 16, 4, tzinfo=UTC))
    await Activity.filter(id=acts[5].id).update(kwh=Decimal("2.125"))
    await acts[7].delete()
    # 14:30 UTC on 31 October is 23:30 in Seoul (October), 15:30 UTC is 00:30 on 1 November
    await award_points([(s, 7 * (i + 1)) for i, s in enumerate(students)], at=datetime(2026, 10, 31, 14, 30, tzinfo=UTC))
    await award_points([(s, 11 * (i + 1)) for i, s in enumerate(students)], at=datetime(2026, 10, 31, 15, 30, tzinfo=UTC))
    await award_points([(students[1], -5), (w.family_b.student, 40)], at=datetime(2027, 2, 28, 15, 10, tzinfo=UTC))
    await award_points([(w.family_a1.parent, 500)], at=datetime(2026, 11, 2, tzinfo=UTC))  # a parent: not counted
    await settled_dr(w.muni_a.id, w.family_a1.household.id, reduction=1.5, contracted=2.0,
                     starts_at=datetime(2026, 11, 3, 9, tzinfo=UTC))
    extra[0].school_class_id = w.class_b.id  # moved class: their figures follow them
    extra[0].school_id = w.school_b.id
    await extra[0].save(update_fields=["school_class_id", "school_id"])
    return w


def _figures(totals):
    return sorted((t.group_id, t.name, t.enrolled, t.participants, round(t.deemed_kwh, 6), t.points,
                   round(t.dr_reduction_kwh, 6), round(t.dr_contracted_kwh, 6)) for t in totals)


async def _compare(w) -> int:
    compared = 0
    for period in PERIODS:
        for level, scope in ((Level.CLASS, w.school_a.id), (Level.CLASS, w.school_b.id),
                             (Level.SCHOOL, w.muni_a.id), (Level.MUNICIPALITY, None)):
            fast = await group_totals(level, scope, period, TZ)
            direct = await direct_group_totals(level, scope, period, TZ)
            assert _figures(fast) == _figures(direct), (level, scope, period)
            assert scoreboard(fast, 2) == scoreboard(direct, 2)
            compared += sum(1 for t in direct if t.points or t.participants)
    return compared


async def test_score_month_boards_equal_the_direct_sums(db):
    w = await _world()
    conn = connections.get("default")
    assert await summary.usable(conn, TZ)
    assert await _compare(w) > 20  # many non-empty groups were compared, not only zeros
    november = period_of(PeriodKind.MONTH, date(2026, 11, 1))
    points = {t.group_id: t.points for t in await group_totals(Level.CLASS, w.school_a.id, november, TZ)}
    # at least the 00:30 (Seoul) awards of 1 November to class A, not the moved student's, nor the parent's
    assert 11 * (1 + 2 + 4 + 5 + 6 + 7 + 8) <= points[w.class_a.id] < 500


async def test_rebuild_gives_what_the_triggers_kept(db):
    w = await _world()
    conn = connections.get("default")
    kept = await conn.execute_query_dict("SELECT month, user_id, accepted, kwh, points FROM score_month "
                                         "WHERE accepted <> 0 OR kwh <> 0 OR points <> 0 ORDER BY month, user_id")
    await summary.rebuild(conn, TZ)
    rebuilt = await conn.execute_query_dict("SELECT month, user_id, accepted, kwh, points FROM score_month "
                                            "ORDER BY month, user_id")
    def norm(rows):
        return [(str(r["month"])[:10], r["user_id"], r["accepted"], round(float(r["kwh"]), 6), r["points"])
                for r in rows]
    assert norm(kept) == norm(rebuilt) and len(kept) > 10
    assert await _compare(w) > 20


async def test_another_time_zone_falls_back_to_the_direct_sums(db):
    w = await _world()
    conn = connections.get("default")
    assert not await summary.usable(conn, "Europe/Berlin")
    period = period_of(PeriodKind.MONTH, date(2026, 11, 1))
    fast = await group_totals(Level.CLASS, w.school_a.id, period, "Europe/Berlin")
    assert _figures(fast) == _figures(await direct_group_totals(Level.CLASS, w.school_a.id, period, "Europe/Berlin"))
