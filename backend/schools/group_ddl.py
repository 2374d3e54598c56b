"""Tables and triggers of the per-group scoreboard summary (PostgreSQL and SQLite).

Groups are keyed ``(level, scope, g)``: a class as ``('class', the student's school, class)``,
a school as ``('school', 0, school)`` (its municipality is joined at read time, so a municipality
is the sum of its schools' rows). A student counts in a group while their role is ``student``,
as the direct sums count them.

- ``score_group``: enrolled students per group.
- ``score_group_month``: deemed kWh and points per group and month (from ``score_month``).
- ``score_student_year``: per user and school year (March–February) a 12-bit mask of the months
  with an accepted activity (bit 0 March ... bit 11 February).
- ``score_group_participants``: per group, school year and board period of that year (each month,
  each term, the year: :data:`PERIOD_BITS`), how many students have an active month in it — a
  student counts once however many of the period's months they were active in. A board reads
  one row per group; a student's mask changing moves them in at most three periods.
- ``score_group_household``: per group and household, how many of its students are in the group.
- ``score_group_dr``: settled DR reduction and contracted kWh per group and event, over the
  households with a student in the group (each household once).

Every trigger is written once as statements on ``OLD``/``NEW`` and wrapped per dialect: a
PL/pgSQL function on PostgreSQL, one SQL trigger per operation on SQLite. Triggers do nothing
while ``score_group_state.building`` is set (a rebuild).
"""

from __future__ import annotations

PG_TABLES = [
    """CREATE TABLE IF NOT EXISTS score_group_state (id integer PRIMARY KEY, tz text NOT NULL,
        building integer NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS score_group (level text NOT NULL, scope integer NOT NULL, g integer NOT NULL,
        enrolled integer NOT NULL DEFAULT 0, PRIMARY KEY (level, scope, g))""",
    """CREATE TABLE IF NOT EXISTS score_group_month (level text NOT NULL, scope integer NOT NULL,
        g integer NOT NULL, month date NOT NULL, kwh numeric(18, 3) NOT NULL DEFAULT 0,
        points bigint NOT NULL DEFAULT 0, PRIMARY KEY (level, scope, g, month))""",
    """CREATE TABLE IF NOT EXISTS score_student_year (user_id integer NOT NULL, school_year integer NOT NULL,
        mask integer NOT NULL DEFAULT 0, PRIMARY KEY (user_id, school_year))""",
    """CREATE TABLE IF NOT EXISTS score_group_participants (level text NOT NULL, scope integer NOT NULL,
        g integer NOT NULL, school_year integer NOT NULL, bits integer NOT NULL,
        students integer NOT NULL DEFAULT 0, PRIMARY KEY (level, scope, g, school_year, bits))""",
    """CREATE TABLE IF NOT EXISTS score_group_household (level text NOT NULL, scope integer NOT NULL,
        g integer NOT NULL, household_id integer NOT NULL, students integer NOT NULL DEFAULT 0,
        PRIMARY KEY (level, scope, g, household_id))""",
    "CREATE INDEX IF NOT EXISTS score_group_household_h ON score_group_household (household_id)",
    """CREATE TABLE IF NOT EXISTS score_group_dr (level text NOT NULL, scope integer NOT NULL,
        g integer NOT NULL, event_id integer NOT NULL, reduction numeric(24, 9) NOT NULL DEFAULT 0,
        contracted numeric(24, 9) NOT NULL DEFAULT 0, PRIMARY KEY (level, scope, g, event_id))""",
]

SQLITE_TABLES = [ddl.replace("numeric(18, 3)", "NUMERIC").replace("numeric(24, 9)", "REAL") for ddl in PG_TABLES]

# the groups a user row counts in (students only), as the direct sums group them
VIEW = """CREATE VIEW IF NOT EXISTS score_user_group AS
    SELECT id AS user_id, household_id, 'class' AS level, school_id AS scope, school_class_id AS g FROM "user"
    WHERE role = 'student' AND school_id IS NOT NULL AND school_class_id IS NOT NULL
    UNION ALL SELECT id, household_id, 'school', 0, school_id FROM "user"
    WHERE role = 'student' AND school_id IS NOT NULL"""

# the months of each board period of a school year: twelve months, two terms, the year
PERIOD_BITS = (*(1 << i for i in range(12)), 0x3F, 0xFC0, 0xFFF)
PERIODS = "(" + " UNION ALL ".join(f"SELECT {b} AS bits" for b in PERIOD_BITS) + ") pb"

ACTIVE = "(SELECT building FROM score_group_state WHERE id = 1) = 0"


def school_year(pg: bool, month: str) -> str:
    if pg:
        return f"(EXTRACT(YEAR FROM {month})::integer - CASE WHEN EXTRACT(MONTH FROM {month}) < 3 THEN 1 ELSE 0 END)"
    return f"(CAST(strftime('%Y', {month}) AS INTEGER) - (CAST(strftime('%m', {month}) AS INTEGER) < 3))"


def month_bit(pg: bool, month: str) -> str:
    number = f"EXTRACT(MONTH FROM {month})::integer" if pg else f"CAST(strftime('%m', {month}) AS INTEGER)"
    return f"(1 << (({number} + 9) % 12))"


def _upsert(table: str, columns: str, keys: str, select: str, sets: dict[str, str] | None = None,
            adds: tuple[str, ...] = ()) -> str:
    """INSERT ... SELECT ... ON CONFLICT: ``adds`` columns are summed, ``sets`` given explicitly."""
    clauses = [f"{c} = {table}.{c} + excluded.{c}" for c in adds] + [f"{c} = {e}" for c, e in (sets or {}).items()]
    return f"INSERT INTO {table} ({columns}) {select} ON CONFLICT ({keys}) DO UPDATE SET {', '.join(clauses)};"


def _month_sums(row: str, kwh: str, points: str, where: str = "TRUE") -> str:
    return _upsert("score_group_month", "level, scope, g, month, kwh, points", "level, scope, g, month",
                   f"SELECT level, scope, g, {row}.month, {kwh}, {points} FROM score_user_group "
                   f"WHERE user_id = {row}.user_id AND {where}", adds=("kwh", "points"))


def _set_bit(pg: bool, row: str, cond: str) -> str:
    return _upsert("score_student_year", "user_id, school_year, mask", "user_id, school_year",
                   f"SELECT {row}.user_id, {school_year(pg, row + '.month')}, {month_bit(pg, row + '.month')} "
                   f"WHERE {cond}", sets={"mask": "score_student_year.mask | excluded.mask"})


def _clear_bit(pg: bool, row: str, cond: str) -> str:
    return (f"UPDATE score_student_year SET mask = mask & ~{month_bit(pg, row + '.month')} "
            f"WHERE user_id = {row}.user_id AND school_year = {school_year(pg, row + '.month')} AND {cond};")


def score_month_statements(pg: bool) -> dict[str, list[str]]:
    """A student's monthly sums change: their groups' month rows, their mask when a month turns
    active or inactive. (``score_month`` rows keep their key: they are only upserted or rebuilt.)"""
    return {
        "INSERT": [_month_sums("NEW", "NEW.kwh", "NEW.points"), _set_bit(pg, "NEW", "NEW.accepted > 0")],
        "DELETE": [_month_sums("OLD", "-OLD.kwh", "-OLD.points"), _clear_bit(pg, "OLD", "OLD.accepted > 0")],
        "UPDATE": [_month_sums("NEW", "NEW.kwh - OLD.kwh", "NEW.points - OLD.points",
                               "(NEW.kwh <> OLD.kwh OR NEW.points <> OLD.points)"),
                   _clear_bit(pg, "OLD", "OLD.accepted > 0 AND NEW.accepted <= 0"),
                   _set_bit(pg, "NEW", "NEW.accepted > 0 AND OLD.accepted <= 0")],
    }


def _participants(row: str, sign: str, cond: str) -> str:
    return _upsert("score_group_participants", "level, scope, g, school_year, bits, students",
                   "level, scope, g, school_year, bits",
                   f"SELECT ug.level, ug.scope, ug.g, {row}.school_year, pb.bits, {sign}1 FROM score_user_group ug "
                   f"CROSS JOIN {PERIODS} WHERE ug.user_id = {row}.user_id AND {cond}", adds=("students",))


def student_year_statements() -> dict[str, list[str]]:
    """A student's mask of a school year changes: they join the periods it now meets and leave
    those it no longer meets, in each of their groups."""
    old, new = "(OLD.mask & pb.bits) <> 0", "(NEW.mask & pb.bits) <> 0"
    return {
        "INSERT": [_participants("NEW", "", new)],
        "DELETE": [_participants("OLD", "-", old)],
        "UPDATE": [_participants("OLD", "-", f"{old} AND NOT {new}"),
                   _participants("NEW", "", f"{new} AND NOT {old}")],
    }


def _membership(row: str, sign: str) -> list[str]:
    """Add (sign '') or take away (sign '-') one user row's share of its groups."""
    grp = (f"(SELECT 'class' AS level, {row}.school_id AS scope, {row}.school_class_id AS g "
           f"UNION ALL SELECT 'school', 0, {row}.school_id) grp")
    counted = f"{row}.role = 'student' AND {row}.school_id IS NOT NULL AND grp.g IS NOT NULL"
    return [
        _upsert("score_group", "level, scope, g, enrolled", "level, scope, g",
                f"SELECT grp.level, grp.scope, grp.g, {sign}1 FROM {grp} WHERE {counted}", adds=("enrolled",)),
        _upsert("score_group_month", "level, scope, g, month, kwh, points", "level, scope, g, month",
                f"SELECT grp.level, grp.scope, grp.g, m.month, {sign}m.kwh, {sign}m.points FROM {grp} "
                f"JOIN score_month m ON m.user_id = {row}.id WHERE {counted}", adds=("kwh", "points")),
        _upsert("score_group_participants", "level, scope, g, school_year, bits, students",
                "level, scope, g, school_year, bits",
                f"SELECT grp.level, grp.scope, grp.g, y.school_year, pb.bits, {sign}1 FROM {grp} "
                f"JOIN score_student_year y ON y.user_id = {row}.id CROSS JOIN {PERIODS} "
                f"WHERE {counted} AND (y.mask & pb.bits) <> 0", adds=("students",)),
        _upsert("score_group_household", "level, scope, g, household_id, students", "level, scope, g, household_id",
                f"SELECT grp.level, grp.scope, grp.g, {row}.household_id, {sign}1 FROM {grp} "
                f"WHERE {counted} AND {row}.household_id IS NOT NULL", adds=("students",)),
    ]


USER_CHANGED = ("OLD.role {ne} NEW.role OR OLD.school_id {ne} NEW.school_id OR "
                "OLD.school_class_id {ne} NEW.school_class_id OR OLD.household_id {ne} NEW.household_id")


def user_statements() -> dict[str, list[str]]:
    """A user joins, leaves or changes class, school, role or household: their enrolment, sums,
    masks and household move with them, as the direct sums join students at read time."""
    return {"INSERT": _membership("NEW", ""), "DELETE": _membership("OLD", "-"),
            "UPDATE": _membership("OLD", "-") + _membership("NEW", "")}


def _household_dr(row: str, sign: str, cond: str) -> str:
    return _upsert("score_group_dr", "level, scope, g, event_id, reduction, contracted", "level, scope, g, event_id",
                   f"SELECT {row}.level, {row}.scope, {row}.g, st.event_id, {sign}st.reduction_kwh, "
                   f"{sign}st.contracted_kwh FROM dr_settlement st WHERE st.household_id = {row}.household_id "
                   f"AND st.status = 'settled' AND {cond}", adds=("reduction", "contracted"))


def household_statements() -> dict[str, list[str]]:
    """A household gains its first or loses its last student in a group: its settlements join or
    leave the group's DR sums."""
    return {
        "INSERT": [_household_dr("NEW", "", "NEW.students > 0")],
        "DELETE": [_household_dr("OLD", "-", "OLD.students > 0")],
        "UPDATE": [_household_dr("OLD", "-", "OLD.students > 0 AND NEW.students <= 0"),
                   _household_dr("NEW", "", "NEW.students > 0 AND OLD.students <= 0")],
    }


def _settlement_dr(row: str, sign: str) -> str:
    return _upsert("score_group_dr", "level, scope, g, event_id, reduction, contracted", "level, scope, g, event_id",
                   f"SELECT h.level, h.scope, h.g, {row}.event_id, {sign}{row}.reduction_kwh, "
                   f"{sign}{row}.contracted_kwh FROM score_group_household h WHERE h.household_id = "
                   f"{row}.household_id AND h.students > 0 AND {row}.status = 'settled'",
                   adds=("reduction", "contracted"))


SETTLEMENT_CHANGED = ("OLD.status {ne} NEW.status OR OLD.reduction_kwh {ne} NEW.reduction_kwh OR "
                      "OLD.contracted_kwh {ne} NEW.contracted_kwh OR OLD.event_id {ne} NEW.event_id OR "
                      "OLD.household_id {ne} NEW.household_id")


def settlement_statements() -> dict[str, list[str]]:
    """A settlement written, adjusted or deleted: every group its household counts in."""
    return {"INSERT": [_settlement_dr("NEW", "")], "DELETE": [_settlement_dr("OLD", "-")],
            "UPDATE": [_settlement_dr("OLD", "-"), _settlement_dr("NEW", "")]}


# (trigger name, table, statements, what an UPDATE must change to matter)
def triggers(pg: bool) -> list[tuple[str, str, dict[str, list[str]], str | None]]:
    return [
        ("score_group_month_sums", "score_month", score_month_statements(pg), None),
        ("score_group_periods", "score_student_year", student_year_statements(), None),
        ("score_group_members", '"user"', user_statements(), USER_CHANGED),
        ("score_group_households", "score_group_household", household_statements(), None),
        ("score_group_settlements", "dr_settlement", settlement_statements(), SETTLEMENT_CHANGED),
    ]


def pg_ddl() -> list[str]:
    out = [*PG_TABLES, VIEW.replace("CREATE VIEW IF NOT EXISTS", "CREATE OR REPLACE VIEW")]
    for name, table, statements, changed in triggers(True):
        body = " ".join(f"{'IF' if i == 0 else 'ELSIF'} TG_OP = '{op}' THEN {' '.join(s)}"
                        for i, (op, s) in enumerate(statements.items()))
        out.append(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
                   f"IF NOT COALESCE({ACTIVE}, FALSE) THEN RETURN NULL; END IF; {body} END IF; "
                   "RETURN NULL; END $$ LANGUAGE plpgsql")
        out.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        out.append(f"CREATE TRIGGER {name} AFTER INSERT OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")
        when = f" WHEN ({changed.format(ne='IS DISTINCT FROM')})" if changed else ""
        out.append(f"DROP TRIGGER IF EXISTS {name}_upd ON {table}")
        out.append(f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} FOR EACH ROW{when} EXECUTE FUNCTION {name}()")
    return out


def sqlite_ddl() -> list[str]:
    out = [*SQLITE_TABLES, VIEW]
    for name, table, statements, changed in triggers(False):
        for op, body in statements.items():
            when = f"COALESCE({ACTIVE}, 0)"
            if op == "UPDATE" and changed:
                when += f" AND ({changed.format(ne='IS NOT')})"
            out.append(f"CREATE TRIGGER IF NOT EXISTS {name}_{op.lower()} AFTER {op} ON {table} "
                       f"WHEN {when} BEGIN {' '.join(body)} END")
    return out
