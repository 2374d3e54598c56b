"""The per-group scoreboard summary: a board reads a handful of rows per group.

Tables and triggers are in :mod:`backend.schools.group_ddl`; they sit on top of the per-student
``score_month`` (:mod:`backend.schools.summary`) and the DR settlements and are kept in the
writing transaction. Enrolment, monthly kWh and points, participants (counts of students by
students with an active month per board period of each school year, from each student's 12-bit
mask of active months) and DR sums per event are kept per class and school; a municipality is
the sum of its schools. A board reads one row per group from each part.

:func:`rebuild` recomputes everything (the migration runs it, and it must run after changing the
display time zone; until then boards use ``score_month`` or the direct sums).
"""

from __future__ import annotations

from datetime import date

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.schools import group_ddl, summary
from backend.schools.group_ddl import PERIOD_BITS, PERIODS, month_bit, school_year

TABLES = ["score_group", "score_group_month", "score_student_year", "score_group_participants",
          "score_group_household", "score_group_dr"]


def _pg(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


async def create(conn: BaseDBAsyncClient, tz: str = summary.DEFAULT_TZ) -> None:
    """Tables, view and triggers; then fill them from ``score_month``, the users and the settlements."""
    for ddl in group_ddl.pg_ddl() if _pg(conn) else group_ddl.sqlite_ddl():
        await conn.execute_script(ddl)
    await rebuild(conn, tz, with_score_month=False)


async def _state(conn: BaseDBAsyncClient, tz: str, building: int) -> None:
    p = (lambda n: f"${n}") if _pg(conn) else (lambda n: "?")
    await conn.execute_query("DELETE FROM score_group_state")
    await conn.execute_query(f"INSERT INTO score_group_state (id, tz, building) VALUES (1, {p(1)}, {p(2)})",
                             [tz, building])


def rebuild_statements(pg: bool) -> list[str]:
    """Set-based recomputation of every summary table, in dependency order."""
    sy, bit = school_year(pg, "month"), month_bit(pg, "month")
    return [
        "INSERT INTO score_group (level, scope, g, enrolled) SELECT level, scope, g, COUNT(*) "
        "FROM score_user_group GROUP BY level, scope, g",
        "INSERT INTO score_group_month (level, scope, g, month, kwh, points) SELECT ug.level, ug.scope, ug.g, "
        "m.month, SUM(m.kwh), SUM(m.points) FROM score_month m JOIN score_user_group ug ON ug.user_id = m.user_id "
        "GROUP BY ug.level, ug.scope, ug.g, m.month",
        f"INSERT INTO score_student_year (user_id, school_year, mask) SELECT user_id, {sy}, SUM({bit}) "
        f"FROM score_month WHERE accepted > 0 GROUP BY user_id, {sy}",
        "INSERT INTO score_group_participants (level, scope, g, school_year, bits, students) SELECT ug.level, "
        "ug.scope, ug.g, y.school_year, pb.bits, COUNT(*) FROM score_student_year y JOIN score_user_group ug "
        f"ON ug.user_id = y.user_id CROSS JOIN {PERIODS} WHERE (y.mask & pb.bits) <> 0 "
        "GROUP BY ug.level, ug.scope, ug.g, y.school_year, pb.bits",
        "INSERT INTO score_group_household (level, scope, g, household_id, students) SELECT level, scope, g, "
        "household_id, COUNT(*) FROM score_user_group WHERE household_id IS NOT NULL "
        "GROUP BY level, scope, g, household_id",
        "INSERT INTO score_group_dr (level, scope, g, event_id, reduction, contracted) SELECT h.level, h.scope, "
        "h.g, s.event_id, SUM(s.reduction_kwh), SUM(s.contracted_kwh) FROM score_group_household h "
        "JOIN dr_settlement s ON s.household_id = h.household_id WHERE s.status = 'settled' "
        "GROUP BY h.level, h.scope, h.g, s.event_id",
    ]


async def rebuild(conn: BaseDBAsyncClient, tz: str, with_score_month: bool = True) -> None:
    """Recompute the group summary (and first ``score_month``, unless told not to) for ``tz``,
    with the triggers idle. Run it where no other writer runs (a migration, the ledger lock)."""
    await _state(conn, tz, 1)
    if with_score_month:
        await summary.rebuild(conn, tz)
    for table in TABLES:
        await conn.execute_query(f"DELETE FROM {table}")
    for statement in rebuild_statements(_pg(conn)):
        await conn.execute_query(statement)
    await _state(conn, tz, 0)
    forget()


_checked: dict[tuple[int, str], bool] = {}


async def usable(conn: BaseDBAsyncClient, tz: str) -> bool:
    """Whether the group summary was built for ``tz`` on top of a usable ``score_month``."""
    key = (id(conn), tz)
    if key not in _checked:
        rows = await conn.execute_query_dict("SELECT tz, building FROM score_group_state WHERE id = 1")
        _checked[key] = (bool(rows) and rows[0]["tz"] == tz and not rows[0]["building"]
                         and await summary.usable(conn, tz))
    return _checked[key]


def forget() -> None:
    _checked.clear()
    summary.forget()


def period_mask(start: date, end: date) -> tuple[int, int] | None:
    """(school year, mask of its months) for a board period (a month, term or school year)."""
    first = (start.year * 12 + start.month - 1)
    last = (end.year * 12 + end.month - 1) - 1
    year = lambda index: index // 12 - (1 if index % 12 < 2 else 0)  # noqa: E731 - March starts the year
    if start.day != 1 or end.day != 1 or last < first or year(first) != year(last):
        return None
    mask = sum(1 << ((i % 12 + 10) % 12) for i in range(first, last + 1))
    return (year(first), mask) if mask in PERIOD_BITS else None
