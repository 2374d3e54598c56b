"""``score_month``: per student and month, the sums scoreboards need, kept by database triggers.

One row per (local month, user): accepted activities and their deemed kWh (by ``occurred_on``),
and the points legs (award, reversal, adjustment) of the user's ledger account (by the local
month of ``recorded_at`` in the time zone kept in ``score_month_tz``). Every period a
scoreboard knows (month, term, school year) is a run of whole months, so a board sums at most
12 rows per student instead of every activity and ledger leg of the period.

Boards read the per-group summary built on top of this table (:mod:`backend.schools.group_summary`);
this one is their reference and fallback. The triggers run inside the writing transaction, so the table is exactly as current as the rows
it sums; students are joined at read time, so a class change moves a student's figures with
them as the direct computation does. :func:`rebuild` recomputes everything (the migration runs
it; run it again after changing the display time zone, until then boards use the direct path).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient

DEFAULT_TZ = "Asia/Seoul"
POINT_KINDS = "('award', 'reversal', 'adjustment')"

PG_DDL = [
    """CREATE TABLE IF NOT EXISTS score_month (
        month date NOT NULL,
        user_id integer NOT NULL,
        accepted integer NOT NULL DEFAULT 0,
        kwh numeric(16, 3) NOT NULL DEFAULT 0,
        points bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (month, user_id))""",
    """CREATE TABLE IF NOT EXISTS score_month_tz (
        id integer PRIMARY KEY, tz text NOT NULL, offset_minutes integer NOT NULL)""",
    """CREATE OR REPLACE FUNCTION score_month_activity() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND OLD.status = 'accepted' THEN
            INSERT INTO score_month AS s (month, user_id, accepted, kwh)
            VALUES (date_trunc('month', OLD.occurred_on)::date, OLD.user_id, -1, -OLD.kwh)
            ON CONFLICT (month, user_id) DO UPDATE
            SET accepted = s.accepted + EXCLUDED.accepted, kwh = s.kwh + EXCLUDED.kwh;
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.status = 'accepted' THEN
            INSERT INTO score_month AS s (month, user_id, accepted, kwh)
            VALUES (date_trunc('month', NEW.occurred_on)::date, NEW.user_id, 1, NEW.kwh)
            ON CONFLICT (month, user_id) DO UPDATE
            SET accepted = s.accepted + EXCLUDED.accepted, kwh = s.kwh + EXCLUDED.kwh;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION score_month_points() RETURNS trigger AS $$
    BEGIN
        INSERT INTO score_month AS s (month, user_id, points)
        SELECT date_trunc('month', NEW.recorded_at AT TIME ZONE c.tz)::date, u.id, NEW.amount
        FROM "user" u CROSS JOIN score_month_tz c WHERE u.pseudonym = NEW.account AND c.id = 1
        ON CONFLICT (month, user_id) DO UPDATE SET points = s.points + EXCLUDED.points;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS score_month_activity ON activity",
    """CREATE TRIGGER score_month_activity AFTER INSERT OR UPDATE OR DELETE ON activity
        FOR EACH ROW EXECUTE FUNCTION score_month_activity()""",
    "DROP TRIGGER IF EXISTS score_month_points ON ledger_entry",
    f"""CREATE TRIGGER score_month_points AFTER INSERT ON ledger_entry FOR EACH ROW
        WHEN (NEW.asset = 'points' AND NEW.kind IN {POINT_KINDS}) EXECUTE FUNCTION score_month_points()""",
]

def _sqlite_activity(row: str, sign: str) -> str:
    """Add (sign '') or take away (sign '-') an accepted activity row's share."""
    return (f"INSERT INTO score_month (month, user_id, accepted, kwh) SELECT date({row}.occurred_on, "
            f"'start of month'), {row}.user_id, {sign}1, {sign}{row}.kwh WHERE {row}.status = 'accepted' "
            "ON CONFLICT (month, user_id) DO UPDATE SET accepted = accepted + excluded.accepted, "
            "kwh = kwh + excluded.kwh;")


SQLITE_DDL = [
    """CREATE TABLE IF NOT EXISTS score_month (
        month TEXT NOT NULL, user_id INTEGER NOT NULL, accepted INTEGER NOT NULL DEFAULT 0,
        kwh NUMERIC NOT NULL DEFAULT 0, points INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (month, user_id)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS score_month_tz (
        id INTEGER PRIMARY KEY, tz TEXT NOT NULL, offset_minutes INTEGER NOT NULL)""",
    f"CREATE TRIGGER IF NOT EXISTS score_month_activity_ins AFTER INSERT ON activity BEGIN "
    f"{_sqlite_activity('NEW', '')} END",
    f"CREATE TRIGGER IF NOT EXISTS score_month_activity_del AFTER DELETE ON activity BEGIN "
    f"{_sqlite_activity('OLD', '-')} END",
    f"CREATE TRIGGER IF NOT EXISTS score_month_activity_upd AFTER UPDATE ON activity BEGIN "
    f"{_sqlite_activity('OLD', '-')} {_sqlite_activity('NEW', '')} END",
    f"""CREATE TRIGGER IF NOT EXISTS score_month_points AFTER INSERT ON ledger_entry
        WHEN NEW.asset = 'points' AND NEW.kind IN {POINT_KINDS} BEGIN
        INSERT INTO score_month (month, user_id, points)
        SELECT date(NEW.recorded_at, printf('%+d minutes', c.offset_minutes), 'start of month'), u.id, NEW.amount
        FROM "user" u, score_month_tz c WHERE u.pseudonym = NEW.account AND c.id = 1
        ON CONFLICT (month, user_id) DO UPDATE SET points = points + excluded.points;
        END""",
]


def _pg(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


def fixed_offset_minutes(tz: str) -> int | None:
    """The zone's UTC offset in minutes when it has no daylight saving (needed on SQLite)."""
    zone = ZoneInfo(tz)
    winter, summer = (datetime(2026, m, 1, tzinfo=zone).utcoffset() for m in (1, 7))
    return None if winter != summer else int(winter.total_seconds() // 60)


async def create(conn: BaseDBAsyncClient, tz: str = DEFAULT_TZ) -> None:
    """The table, its time zone row and the triggers; then fill it from the existing rows."""
    for ddl in PG_DDL if _pg(conn) else SQLITE_DDL:
        await conn.execute_script(ddl)
    await rebuild(conn, tz)


async def rebuild(conn: BaseDBAsyncClient, tz: str) -> None:
    """Recompute every row from ``activity`` and ``ledger_entry`` for time zone ``tz``.

    Run it where no other writer runs (a migration) or inside the ledger lock: every write that
    changes activities or points happens under that lock."""
    offset = fixed_offset_minutes(tz)
    pg = _pg(conn)
    if offset is None and not pg:
        raise ValueError(f"{tz} has daylight saving: SQLite's score_month needs a fixed offset")
    p = (lambda n: f"${n}") if pg else (lambda n: "?")
    month_of_day = "date_trunc('month', a.occurred_on)::date" if pg else "date(a.occurred_on, 'start of month')"
    month_of_time = (f"date_trunc('month', l.recorded_at AT TIME ZONE {p(1)})::date" if pg else
                     f"date(l.recorded_at, printf('%+d minutes', {p(1)}), 'start of month')")
    await conn.execute_query("DELETE FROM score_month")
    await conn.execute_query("DELETE FROM score_month_tz")
    await conn.execute_query(f"INSERT INTO score_month_tz (id, tz, offset_minutes) VALUES (1, {p(1)}, {p(2)})",
                             [tz, offset if offset is not None else 0])
    await conn.execute_query(
        "INSERT INTO score_month (month, user_id, accepted, kwh, points) "
        "SELECT month, user_id, SUM(accepted), SUM(kwh), SUM(points) FROM ("
        f"SELECT {month_of_day} AS month, a.user_id AS user_id, COUNT(*) AS accepted, SUM(a.kwh) AS kwh, "
        "0 AS points FROM activity a WHERE a.status = 'accepted' GROUP BY 1, 2 UNION ALL "
        f"SELECT {month_of_time} AS month, u.id AS user_id, 0, 0, SUM(l.amount) FROM ledger_entry l "
        f"JOIN \"user\" u ON u.pseudonym = l.account WHERE l.asset = 'points' AND l.kind IN {POINT_KINDS} "
        "GROUP BY 1, 2) x GROUP BY month, user_id", [tz if pg else offset])
    forget()


_checked: dict[tuple[int, str], bool] = {}


async def usable(conn: BaseDBAsyncClient, tz: str) -> bool:
    """Whether ``score_month`` was built for ``tz`` (remembered per connection and zone)."""
    key = (id(conn), tz)
    if key not in _checked:
        rows = await conn.execute_query_dict("SELECT tz FROM score_month_tz WHERE id = 1")
        _checked[key] = bool(rows) and rows[0]["tz"] == tz and (_pg(conn) or fixed_offset_minutes(tz) is not None)
    return _checked[key]


def forget() -> None:
    """Drop the remembered checks (after :func:`rebuild`)."""
    _checked.clear()
