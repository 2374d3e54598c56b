"""Scoreboards per class, school and municipality: who may see which, and the database sums.

Every figure is aggregated in the database. A board reads the per-group summary
(:mod:`backend.schools.group_summary`, a few rows per group); :func:`score_month_totals` sums
the per-student monthly rows of :mod:`backend.schools.summary` and the settlements, and
:func:`direct_group_totals` the activity and ledger rows themselves — the references the
summaries must equal, used when a summary was built for another time zone. The pure
arithmetic is in :mod:`backend.schools.scoring`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from backend.accounts.models import Role, User
from backend.accounts.principal import Principal
from backend.errors import NotAllowed, ValidationFailed
from backend.municipalities.models import Municipality
from backend.rewards.programmes import local_day_bounds
from backend.schools.models import School, SchoolClass
from backend.schools.periods import Period
from backend.schools.scoring import GroupTotals, Score, scoreboard
from backend.schools import group_summary, summary
from backend.schools.group_board import group_statement
from backend.schools.sql import Sql


class Level(StrEnum):
    CLASS = "class"
    SCHOOL = "school"
    MUNICIPALITY = "municipality"


_GROUP = {Level.CLASS: "u.school_class_id", Level.SCHOOL: "u.school_id", Level.MUNICIPALITY: "sc.municipality_id"}
_SCOPE = {Level.CLASS: "u.school_id", Level.SCHOOL: "sc.municipality_id", Level.MUNICIPALITY: None}
_FROM = 'FROM "user" u JOIN school sc ON sc.id = u.school_id'


@dataclass(frozen=True)
class Board:
    level: Level
    scope_id: int | None
    period: Period
    scores: list[Score]


async def check_scope(principal: Principal, level: Level, scope_id: int | None) -> int | None:
    """Who sees a board with names: staff. Classes of a school: its staff, its city's officers;
    schools of a municipality: staff of its schools and its officers; municipalities: all staff."""
    if principal.role in (Role.STUDENT, Role.PARENT):
        raise NotAllowed("Scoreboards with names are for staff; students see their ranks in myRanks.")
    if level is Level.MUNICIPALITY:
        if scope_id is not None:
            raise ValidationFailed("scopeId", "The municipal scoreboard has no scope id.")
        return None
    if scope_id is None:
        if level is Level.CLASS and principal.is_school_staff:
            return principal.school_id
        if level is Level.SCHOOL and principal.role is Role.OFFICER:
            return principal.municipality_id
        raise ValidationFailed("scopeId", "Name the school (classes) or municipality (schools).")
    if level is Level.CLASS:
        school = await School.get_or_none(id=scope_id)
        allowed = school is not None and (principal.can_view_school_people(scope_id) or
                                          principal.can_view_municipality_data(school.municipality_id))
    else:
        own_school = await School.get_or_none(id=principal.school_id) if principal.is_school_staff else None
        allowed = principal.can_view_municipality_data(scope_id) or (
            own_school is not None and own_school.municipality_id == scope_id)
    if not allowed:
        raise NotAllowed("You cannot see this scoreboard.")
    return scope_id


async def _names(level: Level, ids: list[int]) -> dict[int, str]:
    model = {Level.CLASS: SchoolClass, Level.SCHOOL: School, Level.MUNICIPALITY: Municipality}[level]
    return dict(await model.filter(id__in=ids).values_list("id", "name")) if ids else {}


def _where(level: Level, scope_id: int | None, sql: Sql) -> str:
    group, scope = _GROUP[level], _SCOPE[level]
    clause = f"u.role = {sql.p(Role.STUDENT.value)} AND {group} IS NOT NULL"
    return clause + (f" AND {scope} = {sql.p(scope_id)}" if scope else "")


def _dr_statement(level: Level, scope_id: int | None, since, until, sql: Sql) -> str:
    """Settled DR reduction and contracted kWh per group, over the households of its students."""
    return (f"SELECT x.g AS g, SUM(s.reduction_kwh) AS red, SUM(s.contracted_kwh) AS con FROM "
            f"(SELECT DISTINCT {_GROUP[level]} AS g, u.household_id AS h {_FROM} WHERE {_where(level, scope_id, sql)} "
            f"AND u.household_id IS NOT NULL) x JOIN dr_settlement s ON s.household_id = x.h "
            f"JOIN dr_event e ON e.id = s.event_id WHERE s.status = {sql.p('settled')} "
            f"AND {sql.ts('e.starts_at')} >= {sql.p(since)} AND {sql.ts('e.starts_at')} < {sql.p(until)} GROUP BY x.g")


async def _totals(level: Level, enrolled: list[dict], by: dict[int, dict[str, float]]) -> list[GroupTotals]:
    names = await _names(level, [r["g"] for r in enrolled])
    return [GroupTotals(
        group_id=r["g"], name=names.get(r["g"], ""), enrolled=int(r["n"]),
        participants=int(by[r["g"]].get("participants", 0)), deemed_kwh=by[r["g"]].get("deemed", 0.0),
        measured_kwh=by[r["g"]].get("red", 0.0), points=int(by[r["g"]].get("points", 0)),
        dr_reduction_kwh=by[r["g"]].get("red", 0.0), dr_contracted_kwh=by[r["g"]].get("con", 0.0),
    ) for r in enrolled]


_TABLE = {Level.CLASS: "school_class", Level.SCHOOL: "school", Level.MUNICIPALITY: "municipality"}


def summary_statement(level: Level, scope_id: int | None, period: Period, tz: str, sql: Sql) -> str:
    """Every figure of a board in one statement: enrolled, participants, deemed kWh and points per
    group from ``score_month`` (each student's months of the period summed first), DR delivery
    from the settlements, and the group's name."""
    group = _GROUP[level]
    since, until = local_day_bounds(period.start, tz)[0], local_day_bounds(period.end, tz)[0]
    base = (f"SELECT {group} AS g, COUNT(*) AS n, SUM(CASE WHEN s.accepted > 0 THEN 1 ELSE 0 END) AS p, "
            f"SUM(s.kwh) AS kwh, SUM(s.points) AS pts {_FROM} LEFT JOIN (SELECT user_id, SUM(accepted) AS accepted, "
            f"SUM(kwh) AS kwh, SUM(points) AS points FROM score_month WHERE month >= {sql.p(period.start)} "
            f"AND month < {sql.p(period.end)} GROUP BY user_id) s ON s.user_id = u.id "
            f"WHERE {_where(level, scope_id, sql)} GROUP BY {group}")
    dr = _dr_statement(level, scope_id, since, until, sql)
    return (f"SELECT b.g AS g, b.n AS n, b.p AS p, b.kwh AS kwh, b.pts AS pts, d.red AS red, d.con AS con, "
            f"t.name AS name FROM ({base}) b LEFT JOIN ({dr}) d ON d.g = b.g LEFT JOIN {_TABLE[level]} t ON t.id = b.g")


def totals_from_rows(rows: list[dict]) -> list[GroupTotals]:
    """A board statement's rows (g, n, p, kwh, pts, red, con, name) as group totals."""
    return [GroupTotals(
        group_id=r["g"], name=r["name"] or "", enrolled=int(r["n"]), participants=int(r["p"] or 0),
        deemed_kwh=float(r["kwh"] or 0), measured_kwh=float(r["red"] or 0), points=int(r["pts"] or 0),
        dr_reduction_kwh=float(r["red"] or 0), dr_contracted_kwh=float(r["con"] or 0),
    ) for r in rows]


async def group_totals(level: Level, scope_id: int | None, period: Period, tz: str) -> list[GroupTotals]:
    """Sums per group over the period: from the per-group summary (a few rows per group), else
    from ``score_month`` (a row per student), else straight from the activity and ledger rows."""
    sql = Sql()
    if await group_summary.usable(sql.conn, tz):
        statement = group_statement(level.value, scope_id, period, tz, sql)
        if statement is not None:
            return totals_from_rows(await sql.rows(statement))
    return await score_month_totals(level, scope_id, period, tz)


async def score_month_totals(level: Level, scope_id: int | None, period: Period, tz: str) -> list[GroupTotals]:
    """Sums per group in one statement over ``score_month`` and the settlements."""
    sql = Sql()
    if not await summary.usable(sql.conn, tz):
        return await direct_group_totals(level, scope_id, period, tz)
    return totals_from_rows(await sql.rows(summary_statement(level, scope_id, period, tz, sql)))


async def direct_group_totals(level: Level, scope_id: int | None, period: Period, tz: str) -> list[GroupTotals]:
    """The same sums straight from the activity and ledger rows of the period, four grouped queries."""
    group = _GROUP[level]
    since, until = local_day_bounds(period.start, tz)[0], local_day_bounds(period.end, tz)[0]

    def where(sql: Sql) -> str:
        return _where(level, scope_id, sql)

    sql = Sql()
    enrolled = await sql.rows(f"SELECT {group} AS g, COUNT(*) AS n {_FROM} WHERE {where(sql)} GROUP BY {group}")
    sql = Sql()
    acts = await sql.rows(
        f"SELECT {group} AS g, COUNT(DISTINCT u.id) AS n, SUM(a.kwh) AS kwh FROM activity a "
        f"JOIN \"user\" u ON u.id = a.user_id JOIN school sc ON sc.id = u.school_id WHERE {where(sql)} "
        f"AND a.status = {sql.p('accepted')} AND a.occurred_on >= {sql.p(period.start)} "
        f"AND a.occurred_on < {sql.p(period.end)} GROUP BY {group}")
    sql = Sql()
    points = await sql.rows(
        f"SELECT {group} AS g, SUM(l.amount) AS pts FROM ledger_entry l "
        f"JOIN \"user\" u ON u.pseudonym = l.account JOIN school sc ON sc.id = u.school_id WHERE {where(sql)} "
        f"AND l.asset = {sql.p('points')} AND l.kind IN ({sql.p('award')}, {sql.p('reversal')}, "
        f"{sql.p('adjustment')}) AND {sql.ts('l.recorded_at')} >= {sql.p(since)} "
        f"AND {sql.ts('l.recorded_at')} < {sql.p(until)} GROUP BY {group}")
    by: dict[int, dict[str, float]] = defaultdict(dict)
    for r in acts:
        by[r["g"]].update(participants=int(r["n"]), deemed=float(r["kwh"] or 0))
    for r in points:
        by[r["g"]]["points"] = int(r["pts"] or 0)
    sql = Sql()
    for r in await sql.rows(_dr_statement(level, scope_id, since, until, sql)):
        by[r["g"]].update(red=float(r["red"] or 0), con=float(r["con"] or 0))
    return await _totals(level, enrolled, by)


async def board(level: Level, scope_id: int | None, period: Period, tz: str, min_students: int) -> Board:
    return Board(level, scope_id, period, scoreboard(await group_totals(level, scope_id, period, tz), min_students))


@dataclass(frozen=True)
class MyRank:
    level: Level
    rank: int | None
    ranked: int  # groups with a rank on that board
    suppressed: bool
    points_per_student: float | None


async def my_ranks(principal: Principal, period: Period, tz: str, min_students: int) -> list[MyRank]:
    """A student's class among their school's classes and school among their city's schools."""
    if principal.role is not Role.STUDENT:
        raise NotAllowed("Only students see their own class and school ranks.")
    user = principal.user or await User.get(id=principal.user_id)
    if user.school_id is None:
        raise NotAllowed("Join a class first.")
    school = await School.get(id=user.school_id)
    out = []
    for level, scope_id, mine in ((Level.CLASS, school.id, user.school_class_id),
                                  (Level.SCHOOL, school.municipality_id, school.id)):
        scores = (await board(level, scope_id, period, tz, min_students)).scores
        own = next((s for s in scores if s.totals.group_id == mine), None)
        out.append(MyRank(level, own.rank if own else None, sum(1 for s in scores if s.rank is not None),
                          own is None or own.suppressed, own.points_per_student if own else None))
    return out


def period_day(on: date | None, today: date) -> date:
    if on is not None and on > today:
        raise ValidationFailed("on", "The period must not lie in the future.")
    return on or today
