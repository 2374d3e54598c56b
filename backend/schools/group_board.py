"""A board's one statement over the per-group summary (:mod:`backend.schools.group_summary`).

Classes are read from their own rows (scoped by the students' school, as the direct sums scope
them); schools from theirs, joined to ``school`` for the municipality; municipalities sum their
schools' rows. Each part reads a few rows per group: enrolment, the period's months, its
participants, and the DR sums of the events that started in it.
"""

from __future__ import annotations

from collections.abc import Callable

from backend.rewards.programmes import local_day_bounds
from backend.schools.group_summary import period_mask
from backend.schools.periods import Period
from backend.schools.sql import Sql

_NAMES = {"class": "school_class", "school": "school", "municipality": "municipality"}


def _part(level: str, scope_id: int | None, table: str, columns: str, extra: Callable[[], str], sql: Sql,
          join: str = "") -> str:
    """``columns`` per group of ``level`` from ``table`` (alias x), rows also matching ``extra()``
    (written after the scope, as SQLite's placeholders are numbered by position)."""
    if level == "class":
        key, source, where = "x.g", f"{table} x", f"x.level = 'class' AND x.scope = {sql.p(scope_id)}"
    else:
        key, source, where = ("x.g" if level == "school" else "sc.municipality_id",
                              f"{table} x JOIN school sc ON sc.id = x.g", "x.level = 'school'")
        if level == "school":
            where += f" AND sc.municipality_id = {sql.p(scope_id)}"
    return f"SELECT {key} AS g, {columns} FROM {source} {join} WHERE {where} AND {extra()} GROUP BY {key}"


def group_statement(level: str, scope_id: int | None, period: Period, tz: str, sql: Sql) -> str | None:
    """Every figure of a board from the group summary, or None for a period that is not a month,
    term or school year."""
    year_mask = period_mask(period.start, period.end)
    if year_mask is None:
        return None
    since, until = local_day_bounds(period.start, tz)[0], local_day_bounds(period.end, tz)[0]
    # written in the order they appear in the statement
    enrolled = _part(level, scope_id, "score_group", "SUM(x.enrolled) AS n", lambda: "x.enrolled > 0", sql)
    masks = _part(level, scope_id, "score_group_participants", "SUM(x.students) AS p",
                  lambda: f"x.school_year = {sql.p(year_mask[0])} AND x.bits = {sql.p(year_mask[1])}", sql)
    months = _part(level, scope_id, "score_group_month", "SUM(x.kwh) AS kwh, SUM(x.points) AS pts",
                   lambda: f"x.month >= {sql.p(period.start)} AND x.month < {sql.p(period.end)}", sql)
    dr = _part(level, scope_id, "score_group_dr", "SUM(x.reduction) AS red, SUM(x.contracted) AS con",
               lambda: f"{sql.ts('e.starts_at')} >= {sql.p(since)} AND {sql.ts('e.starts_at')} < {sql.p(until)}",
               sql, join="JOIN dr_event e ON e.id = x.event_id")
    return (f"SELECT b.g AS g, b.n AS n, p.p AS p, m.kwh AS kwh, m.pts AS pts, d.red AS red, d.con AS con, "
            f"t.name AS name FROM ({enrolled}) b LEFT JOIN ({masks}) p ON p.g = b.g LEFT JOIN ({months}) m "
            f"ON m.g = b.g LEFT JOIN ({dr}) d ON d.g = b.g LEFT JOIN {_NAMES[level]} t ON t.id = b.g")
