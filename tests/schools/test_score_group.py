"""The per-group summary (trigger-kept sums per class and school) gives the boards the direct sums give."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from tortoise import connections

from backend.accounts.models import Role
from backend.activities.models import Activity
from backend.codes import new_code
from backend.dr.models import DrSettlement, SettlementStatus
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.service import ledger_transaction
from backend.rewards.models import Programme
from backend.schools import group_summary
from backend.schools.group_board import group_statement
from backend.schools.group_summary import period_mask
from backend.schools.models import SchoolClass
from backend.schools.periods import PeriodKind, period_of
from backend.schools.scoreboard import Level, totals_from_rows, direct_group_totals, group_totals, score_month_totals
from backend.schools.scoring import scoreboard
from backend.schools.sql import Sql
from tests.schools.support import add_activity, add_students, award_points, settled_dr
from tests.schools.test_score_month import PERIODS, TZ, _figures, _world

SUMMARY_ROWS = {
    "score_group": ("level, scope, g, enrolled", "enrolled <> 0"),
    "score_group_month": ("level, scope, g, month, kwh, points", "kwh <> 0 OR points <> 0"),
    "score_student_year": ("user_id, school_year, mask", "mask <> 0"),
    "score_group_participants": ("level, scope, g, school_year, bits, students", "students <> 0"),
    "score_group_household": ("level, scope, g, household_id, students", "students <> 0"),
    "score_group_dr": ("level, scope, g, event_id, reduction, contracted", "reduction <> 0 OR contracted <> 0"),
}


async def _bigger_world():
    """``test_score_month``'s world, and: a second class whose students share households with each
    other and with class A, DR events in three months with a settlement adjusted, one deleted and
    one settled late, a household that leaves a class, a student with no class, a student who
    became a parent, an activity moved to another month and a reversal leg."""
    w = await _world()
    programme = await Programme.get(id=(await Activity.filter(user_id=w.family_a1.student.id).first()).programme_id)
    class_a2 = await SchoolClass.create(school=w.school_a, name="2-2", grade=8, year=2026, join_code=new_code())
    twins = await add_students(class_a2, 5, w.muni_a.id, "t")
    twins[1].household_id = twins[0].household_id  # siblings in one class: their household counts once
    twins[2].household_id = w.family_a1.household.id  # a sibling in class A: the household counts in both
    for t in twins[1:3]:
        await t.save(update_fields=["household_id"])
    for i, t in enumerate(twins):
        await add_activity(t, programme, date(2026, 11 + i % 2, 10), "0.5", 5)
    homes = {w.family_a1.household.id, w.family_a2.household.id, w.family_b.household.id,
             twins[0].household_id, twins[3].household_id, twins[4].household_id}
    settlements = []
    for n, at in enumerate((datetime(2026, 11, 30, 16, tzinfo=UTC), datetime(2026, 12, 2, 9, tzinfo=UTC),
                            datetime(2027, 3, 1, 1, tzinfo=UTC))):
        for k, home in enumerate(sorted(homes)):
            muni = w.muni_b.id if home == w.family_b.household.id else w.muni_a.id
            settlements.append(await settled_dr(muni, home, reduction=0.25 * (k + n + 1), contracted=1.5,
                                                starts_at=at))
    await DrSettlement.filter(id=settlements[1].id).update(reduction_kwh=2.75, version=2)  # adjusted
    await DrSettlement.filter(id=settlements[2].id).update(status=SettlementStatus.INSUFFICIENT_DATA)
    await DrSettlement.filter(id=settlements[8].id).delete()
    late = settlements[9]
    await DrSettlement.filter(id=late.id).update(status=SettlementStatus.FORGIVEN)
    await DrSettlement.filter(id=late.id).update(status=SettlementStatus.SETTLED, contracted_kwh=3.0)
    twins[3].school_class_id = w.class_a.id  # leaves 2-2 with their household's DR
    await twins[3].save(update_fields=["school_class_id"])
    twins[4].school_class_id = None  # in the school, in no class
    await twins[4].save(update_fields=["school_class_id"])
    extra = await add_students(class_a2, 1, w.muni_a.id, "p")
    await add_activity(extra[0], programme, date(2026, 11, 12), "4.0", 40)
    await award_points([(extra[0], 70), (twins[0], 9)], at=datetime(2026, 11, 20, tzinfo=UTC))
    extra[0].role = Role.PARENT  # no longer counted anywhere
    await extra[0].save(update_fields=["role"])
    moved = await Activity.filter(user_id=twins[0].id).first()
    await Activity.filter(id=moved.id).update(occurred_on=date(2027, 2, 27))  # to another month and term
    async with ledger_transaction(datetime(2026, 12, 5, tzinfo=UTC)) as tx:
        tx.add(EntryKind.REVERSAL, twins[0].pseudonym, Asset.POINTS, -9, f"test-reversal:{uuid.uuid4()}")
    return w


def _boards(w):
    return ((Level.CLASS, w.school_a.id), (Level.CLASS, w.school_b.id), (Level.SCHOOL, w.muni_a.id),
            (Level.SCHOOL, w.muni_b.id), (Level.MUNICIPALITY, None))


async def _from_group_summary(level, scope, period):
    sql = Sql()
    statement = group_statement(level.value, scope, period, TZ, sql)
    assert statement is not None
    return totals_from_rows(await sql.rows(statement))


def _ranks(totals, min_students):
    return [(s.totals.group_id, s.rank, s.suppressed, s.points_per_student, s.participation_rate,
             s.deemed_kwh_per_student, s.measured_kwh_per_student, s.dr_delivery_rate)
            for s in scoreboard(totals, min_students)]


def _plain(value):
    """A row value comparable across dialects and paths (dates as ISO text, sums rounded)."""
    if isinstance(value, (int, str)):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return round(float(value), 6)


async def _compare(w) -> int:
    """Every level and period: the group summary, ``score_month`` and the direct sums agree."""
    compared = 0
    for period in PERIODS:
        for level, scope in _boards(w):
            fast = await _from_group_summary(level, scope, period)
            direct = await direct_group_totals(level, scope, period, TZ)
            assert _figures(fast) == _figures(direct), (level, scope, period)
            assert _figures(await score_month_totals(level, scope, period, TZ)) == _figures(direct)
            for min_students in (2, 5):
                assert _ranks(fast, min_students) == _ranks(direct, min_students), (level, scope, period)
            compared += sum(1 for t in direct if t.points or t.participants or t.dr_contracted_kwh)
    return compared


async def test_group_summary_boards_equal_the_direct_sums(db):
    w = await _bigger_world()
    assert await group_summary.usable(connections.get("default"), TZ)
    assert await _compare(w) > 60
    november = period_of(PeriodKind.MONTH, date(2026, 11, 1))
    boards = {t.group_id: t for t in await group_totals(Level.CLASS, w.school_a.id, november, TZ)}
    assert len(boards) == 2 and boards[w.class_a.id].dr_contracted_kwh > 0  # the API path reads it too


async def test_rebuild_gives_what_the_triggers_kept(db):
    w = await _bigger_world()
    conn = connections.get("default")

    async def rows():
        out = {}
        for table, (columns, nonzero) in SUMMARY_ROWS.items():
            found = await conn.execute_query_dict(f"SELECT {columns} FROM {table} WHERE {nonzero} ORDER BY {columns}")
            out[table] = [tuple(_plain(v) for v in r.values()) for r in found]
        return out

    kept = await rows()
    await group_summary.rebuild(conn, TZ)
    assert await rows() == kept and all(kept.values())
    assert await _compare(w) > 60


async def test_writes_after_a_rebuild_are_kept_and_other_zones_fall_back(db):
    w = await _bigger_world()
    conn = connections.get("default")
    await group_summary.rebuild(conn, TZ)
    late = await add_students(w.class_a, 2, w.muni_a.id, "late")
    await award_points([(late[0], 13)], at=datetime(2026, 11, 8, tzinfo=UTC))
    await settled_dr(w.muni_a.id, late[1].household_id, reduction=0.5, contracted=1.0,
                     starts_at=datetime(2026, 11, 9, tzinfo=UTC))
    assert await _compare(w) > 60
    assert not await group_summary.usable(conn, "Europe/Berlin")
    november = period_of(PeriodKind.MONTH, date(2026, 11, 1))
    berlin = await group_totals(Level.SCHOOL, w.muni_a.id, november, "Europe/Berlin")
    assert _figures(berlin) == _figures(await direct_group_totals(Level.SCHOOL, w.muni_a.id, november,
                                                                   "Europe/Berlin"))


def test_period_masks_name_the_months_of_each_board_period():
    def mask(kind, day):
        p = period_of(kind, day)
        return period_mask(p.start, p.end)
    assert mask(PeriodKind.MONTH, date(2026, 3, 9)) == (2026, 1)
    assert mask(PeriodKind.MONTH, date(2027, 2, 1)) == (2026, 1 << 11)
    assert mask(PeriodKind.MONTH, date(2027, 1, 31)) == (2026, 1 << 10)
    assert mask(PeriodKind.TERM, date(2026, 8, 31)) == (2026, 0b111111)
    assert mask(PeriodKind.TERM, date(2027, 1, 2)) == (2026, 0b111111 << 6)
    assert mask(PeriodKind.SCHOOL_YEAR, date(2026, 12, 1)) == (2026, 0xFFF)
    assert period_mask(date(2026, 12, 1), date(2027, 4, 1)) is None  # across school years
    assert period_mask(date(2026, 3, 1), date(2026, 6, 1)) is None  # not a board period
    assert period_mask(date(2026, 12, 2), date(2027, 1, 1)) is None  # not whole months
