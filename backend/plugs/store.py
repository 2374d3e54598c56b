"""Storage of raw plug readings and hourly rollups, with plain SQL per dialect.

PostgreSQL: ``plug_reading`` is partitioned by day and ``plug_hour`` by month; a batch goes
in by COPY into a temporary table and one ``INSERT … ON CONFLICT DO NOTHING`` that also marks
the (plug, hour) pairs whose rollup must be recomputed. Raw partitions older than the
retention are dropped whole. SQLite (the embedded default) keeps plain tables with the
same keys; timestamps are stored there as integer epoch microseconds (readings) and
seconds (hours).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.plugs.rollup import HourRollup, Sample

HOUR = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
NEIGHBOUR_LOOKBACK = timedelta(days=7)

PG_DDL = [
    """CREATE TABLE IF NOT EXISTS plug_reading (
        plug_id integer NOT NULL,
        ts timestamptz NOT NULL,
        power_w real,
        counter_wh double precision,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (plug_id, ts)
    ) PARTITION BY RANGE (ts)""",
    """CREATE TABLE IF NOT EXISTS plug_hour (
        plug_id integer NOT NULL,
        hour timestamptz NOT NULL,
        energy_wh double precision NOT NULL,
        covered_s real NOT NULL,
        samples integer NOT NULL,
        power_max_w real,
        power_avg_w real,
        resets integer NOT NULL DEFAULT 0,
        spikes integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (plug_id, hour)
    ) PARTITION BY RANGE (hour)""",
    """CREATE TABLE IF NOT EXISTS plug_rollup_dirty (
        plug_id integer NOT NULL,
        hour timestamptz NOT NULL,
        PRIMARY KEY (plug_id, hour)
    )""",
]
SQLITE_DDL = [
    """CREATE TABLE IF NOT EXISTS plug_reading (
        plug_id INTEGER NOT NULL, ts INTEGER NOT NULL, power_w REAL, counter_wh REAL,
        received_at INTEGER NOT NULL, PRIMARY KEY (plug_id, ts)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS plug_hour (
        plug_id INTEGER NOT NULL, hour INTEGER NOT NULL, energy_wh REAL NOT NULL,
        covered_s REAL NOT NULL, samples INTEGER NOT NULL, power_max_w REAL, power_avg_w REAL,
        resets INTEGER NOT NULL DEFAULT 0, spikes INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL, PRIMARY KEY (plug_id, hour)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS plug_rollup_dirty (
        plug_id INTEGER NOT NULL, hour INTEGER NOT NULL, PRIMARY KEY (plug_id, hour)) WITHOUT ROWID""",
]
RAW_TABLES = ("plug_reading", "plug_hour", "plug_rollup_dirty")


def is_postgres(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


async def create_tables(conn: BaseDBAsyncClient, today: date | None = None) -> None:
    """Create the reading tables (and on PostgreSQL the partitions around ``today``)."""
    for ddl in PG_DDL if is_postgres(conn) else SQLITE_DDL:
        await conn.execute_script(ddl)
    if is_postgres(conn):
        await ensure_partitions(conn, today or datetime.now(UTC).date())


# -- partitions (PostgreSQL) ----------------------------------------------------------------
def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


async def _existing_partitions(conn: BaseDBAsyncClient, parent: str) -> set[str]:
    rows = await conn.execute_query_dict(
        "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = $1", [parent])
    return {row["name"] for row in rows}


async def ensure_partitions(conn: BaseDBAsyncClient, today: date, *, days_back: int = 8,
                            days_ahead: int = 3) -> list[str]:
    """Create the daily reading partitions for ``today - days_back … today + days_ahead``
    and the monthly rollup partitions they touch; returns the names created."""
    if not is_postgres(conn):
        return []
    created: list[str] = []
    readings = await _existing_partitions(conn, "plug_reading")
    hours = await _existing_partitions(conn, "plug_hour")
    first, last = today - timedelta(days=days_back), today + timedelta(days=days_ahead)
    day = first
    while day <= last:
        name = f"plug_reading_{day:%Y%m%d}"
        if name not in readings:
            await conn.execute_script(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF plug_reading "
                f"FOR VALUES FROM ('{day.isoformat()} 00:00+00') TO ('{(day + timedelta(days=1)).isoformat()} 00:00+00')")
            created.append(name)
        day += timedelta(days=1)
    month = _month_start(first)
    while month <= last:
        name = f"plug_hour_{month:%Y%m}"
        if name not in hours:
            await conn.execute_script(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF plug_hour "
                f"FOR VALUES FROM ('{month.isoformat()} 00:00+00') TO ('{_next_month(month).isoformat()} 00:00+00')")
            created.append(name)
        month = _next_month(month)
    return created


async def drop_expired_raw(conn: BaseDBAsyncClient, today: date, retention_days: int) -> int:
    """Delete raw readings older than the retention (rollups stay); returns partitions
    dropped on PostgreSQL or rows deleted on SQLite."""
    cutoff = today - timedelta(days=retention_days)
    if not is_postgres(conn):
        cutoff_us = _us(datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC))
        count, _ = await conn.execute_query("DELETE FROM plug_reading WHERE ts < ?", [cutoff_us])
        return int(count)
    dropped = 0
    for name in sorted(await _existing_partitions(conn, "plug_reading")):
        day = datetime.strptime(name.rsplit("_", 1)[1], "%Y%m%d").date()
        if day < cutoff:
            await conn.execute_script(f"DROP TABLE IF EXISTS {name}")
            dropped += 1
    return dropped


# -- conversions --------------------------------------------------------------------------
def _us(ts: datetime) -> int:
    return (ts - _EPOCH) // _MICROSECOND


def _from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _s(ts: datetime) -> int:
    return int(ts.timestamp())


def _from_s(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A validated reading ready for storage."""

    plug_id: int
    ts: datetime
    power_w: float | None
    counter_wh: float | None
    received_at: datetime


# -- writing ------------------------------------------------------------------------------
_PG_TEMP = ("CREATE TEMP TABLE IF NOT EXISTS plug_reading_in (plug_id integer, ts timestamptz, "
            "power_w real, counter_wh double precision, received_at timestamptz) ON COMMIT DELETE ROWS")
_PG_MOVE = """
WITH ins AS (
    INSERT INTO plug_reading SELECT plug_id, ts, power_w, counter_wh, received_at FROM plug_reading_in
    ON CONFLICT DO NOTHING RETURNING plug_id, ts
), marks AS (
    INSERT INTO plug_rollup_dirty
    SELECT DISTINCT plug_id, date_trunc('hour', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' FROM ins
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM ins"""


async def insert_readings(conn: BaseDBAsyncClient, rows: Sequence[StoredRow]) -> int:
    """Store rows not stored before (same plug and timestamp) and mark their hours for
    rollup; returns how many were new. Call inside a transaction."""
    if not rows:
        return 0
    if is_postgres(conn):
        async with conn.acquire_connection() as raw:
            await raw.execute(_PG_TEMP)
            await raw.copy_records_to_table(
                "plug_reading_in", records=[(r.plug_id, r.ts, r.power_w, r.counter_wh, r.received_at) for r in rows])
            return int(await raw.fetchval(_PG_MOVE))
    fresh = 0
    marks: set[tuple[int, int]] = set()
    for row in rows:
        count, _ = await conn.execute_query(
            "INSERT OR IGNORE INTO plug_reading (plug_id, ts, power_w, counter_wh, received_at) "
            "VALUES (?, ?, ?, ?, ?)", [row.plug_id, _us(row.ts), row.power_w, row.counter_wh, _us(row.received_at)])
        if count:
            fresh += 1
            marks.add((row.plug_id, _s(row.ts) // 3600 * 3600))
    if marks:
        await conn.execute_many("INSERT OR IGNORE INTO plug_rollup_dirty (plug_id, hour) VALUES (?, ?)",
                                [list(m) for m in marks])
    return fresh


async def already_stored(conn: BaseDBAsyncClient, checks: Sequence[tuple], lookback: timedelta) -> set[int]:
    """Of ``(index, plug id, counter Wh, power W, received at)`` re-sent readings, the indexes
    of those whose plug already has a reading with the same counter (or, without a counter, the
    same power) received within ``lookback`` before. One query for all of them."""
    wanted = [c for c in checks if c[2] is not None or c[3] is not None]
    if not wanted:
        return set()
    plug_ids = sorted({c[1] for c in wanted})
    lo = min(c[4] for c in wanted) - lookback
    hi = max(c[4] for c in wanted)
    if is_postgres(conn):
        rows = await conn.execute_query_dict(
            "SELECT plug_id, counter_wh, power_w, received_at FROM plug_reading WHERE plug_id = ANY($1::int[]) "
            "AND ts >= $2 AND received_at >= $2 AND received_at < $3", [plug_ids, lo, hi])
    else:
        marks = ", ".join("?" * len(plug_ids))
        rows = await conn.execute_query_dict(
            f"SELECT plug_id, counter_wh, power_w, received_at FROM plug_reading WHERE plug_id IN ({marks}) "
            "AND received_at >= ? AND received_at < ?", [*plug_ids, _us(lo), _us(hi)])
    seen: dict[tuple, list[datetime]] = {}
    for r in rows:
        at = r["received_at"] if isinstance(r["received_at"], datetime) else _from_us(r["received_at"])
        key = (r["plug_id"], "c", r["counter_wh"]) if r["counter_wh"] is not None else (r["plug_id"], "p", r["power_w"])
        seen.setdefault(key, []).append(at)
    found: set[int] = set()
    for index, plug_id, counter_wh, power_w, received_at in wanted:
        key = (plug_id, "c", counter_wh) if counter_wh is not None else (plug_id, "p", max(power_w, 0.0))
        if any(received_at - lookback <= at < received_at for at in seen.get(key, ())):
            found.add(index)
    return found


async def add_reject_counts(conn: BaseDBAsyncClient, day: date, counts: dict[tuple[str, str], int]) -> None:
    """Add ``{(vendor, reason): n}`` to the day's persistent reject counters."""
    if not counts:
        return
    values = [[day.isoformat() if not is_postgres(conn) else day, vendor, reason, n]
              for (vendor, reason), n in sorted(counts.items())]
    if is_postgres(conn):
        sql = ("INSERT INTO plug_reject_count (day, vendor, reason, count) VALUES ($1, $2, $3, $4) "
               "ON CONFLICT (day, vendor, reason) DO UPDATE SET count = plug_reject_count.count + EXCLUDED.count")
    else:
        sql = ("INSERT INTO plug_reject_count (day, vendor, reason, count) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (day, vendor, reason) DO UPDATE SET count = plug_reject_count.count + excluded.count")
    await conn.execute_many(sql, values)


# -- rollup ---------------------------------------------------------------------------------
async def take_dirty(conn: BaseDBAsyncClient, limit: int) -> dict[int, list[datetime]]:
    """Remove up to ``limit`` rollup marks and return them grouped by plug. Call inside the
    transaction that writes the recomputed hours, so a crash leaves the marks in place."""
    if is_postgres(conn):
        rows = await conn.execute_query_dict(
            "DELETE FROM plug_rollup_dirty WHERE (plug_id, hour) IN (SELECT plug_id, hour FROM plug_rollup_dirty "
            "ORDER BY hour LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING plug_id, hour", [limit])
        marks = [(r["plug_id"], r["hour"]) for r in rows]
    else:
        rows = await conn.execute_query_dict(
            "SELECT plug_id, hour FROM plug_rollup_dirty ORDER BY hour LIMIT ?", [limit])
        marks = [(r["plug_id"], _from_s(r["hour"])) for r in rows]
        await conn.execute_many("DELETE FROM plug_rollup_dirty WHERE plug_id = ? AND hour = ?",
                                [[p, _s(h)] for p, h in marks])
    grouped: dict[int, list[datetime]] = {}
    for plug_id, hour in marks:
        grouped.setdefault(plug_id, []).append(hour)
    return grouped


def _sample(row: dict) -> Sample:
    ts = row["ts"]
    return Sample(ts=ts if isinstance(ts, datetime) else _from_us(ts),
                  counter_wh=row["counter_wh"], power_w=row["power_w"])


async def neighbour(conn: BaseDBAsyncClient, plug_id: int, at: datetime, *, before: bool) -> Sample | None:
    """The last sample before ``at`` (or first at/after it) within a week, preferring one
    with a counter, so an interval crossing a range edge is attributed correctly."""
    order = "DESC" if before else "ASC"
    lo, hi = (at - NEIGHBOUR_LOOKBACK, at) if before else (at, at + NEIGHBOUR_LOOKBACK)
    pg = is_postgres(conn)
    args = [plug_id, lo, hi] if pg else [plug_id, _us(lo), _us(hi)]
    p = ("$1", "$2", "$3") if pg else ("?", "?", "?")
    for extra in (" AND counter_wh IS NOT NULL", ""):
        rows = await conn.execute_query_dict(
            f"SELECT ts, counter_wh, power_w FROM plug_reading WHERE plug_id = {p[0]} AND ts >= {p[1]} "
            f"AND ts < {p[2]}{extra} ORDER BY ts {order} LIMIT 1", args)
        if rows:
            return _sample(rows[0])
    return None


async def samples_between(conn: BaseDBAsyncClient, plug_id: int, start: datetime, end: datetime) -> list[Sample]:
    if is_postgres(conn):
        rows = await conn.execute_query_dict(
            "SELECT ts, counter_wh, power_w FROM plug_reading WHERE plug_id = $1 AND ts >= $2 AND ts < $3 "
            "ORDER BY ts", [plug_id, start, end])
    else:
        rows = await conn.execute_query_dict(
            "SELECT ts, counter_wh, power_w FROM plug_reading WHERE plug_id = ? AND ts >= ? AND ts < ? "
            "ORDER BY ts", [plug_id, _us(start), _us(end)])
    return [_sample(r) for r in rows]


async def write_hours(conn: BaseDBAsyncClient, plug_id: int, hours: Iterable[HourRollup], now: datetime) -> int:
    """Replace the rollups of these hours (hours without samples or energy are removed)."""
    keep = [h for h in hours if h.samples or h.energy_wh or h.covered_s]
    gone = [h.hour for h in hours if not (h.samples or h.energy_wh or h.covered_s)]
    pg = is_postgres(conn)
    if gone:
        if pg:
            await conn.execute_query("DELETE FROM plug_hour WHERE plug_id = $1 AND hour = ANY($2::timestamptz[])",
                                     [plug_id, gone])
        else:
            await conn.execute_many("DELETE FROM plug_hour WHERE plug_id = ? AND hour = ?",
                                    [[plug_id, _s(h)] for h in gone])
    if not keep:
        return 0
    values = [[plug_id, h.hour if pg else _s(h.hour), h.energy_wh, h.covered_s, h.samples, h.power_max_w,
               h.power_avg_w, h.resets, h.spikes, now if pg else _s(now)] for h in keep]
    marks = ("$1, $2, $3, $4, $5, $6, $7, $8, $9, $10" if pg else ", ".join("?" * 10))
    await conn.execute_many(
        "INSERT INTO plug_hour (plug_id, hour, energy_wh, covered_s, samples, power_max_w, power_avg_w, "
        f"resets, spikes, updated_at) VALUES ({marks}) ON CONFLICT (plug_id, hour) DO UPDATE SET "
        "energy_wh = EXCLUDED.energy_wh, covered_s = EXCLUDED.covered_s, samples = EXCLUDED.samples, "
        "power_max_w = EXCLUDED.power_max_w, power_avg_w = EXCLUDED.power_avg_w, resets = EXCLUDED.resets, "
        "spikes = EXCLUDED.spikes, updated_at = EXCLUDED.updated_at", values)
    return len(keep)


# -- reading back -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StoredHour:
    plug_id: int
    hour: datetime
    energy_wh: float
    covered_s: float
    samples: int
    power_max_w: float | None
    power_avg_w: float | None
    resets: int
    spikes: int


async def hours_of(conn: BaseDBAsyncClient, plug_ids: Sequence[int], start: datetime,
                   end: datetime) -> list[StoredHour]:
    """Stored rollups of these plugs with ``start <= hour < end``, by plug then hour."""
    if not plug_ids:
        return []
    cols = "plug_id, hour, energy_wh, covered_s, samples, power_max_w, power_avg_w, resets, spikes"
    if is_postgres(conn):
        rows = await conn.execute_query_dict(
            f"SELECT {cols} FROM plug_hour WHERE plug_id = ANY($1::int[]) AND hour >= $2 AND hour < $3 "
            "ORDER BY plug_id, hour", [list(plug_ids), start, end])
    else:
        marks = ", ".join("?" * len(plug_ids))
        rows = await conn.execute_query_dict(
            f"SELECT {cols} FROM plug_hour WHERE plug_id IN ({marks}) AND hour >= ? AND hour < ? "
            "ORDER BY plug_id, hour", [*plug_ids, _s(start), _s(end)])
    return [StoredHour(**{**r, "hour": r["hour"] if isinstance(r["hour"], datetime) else _from_s(r["hour"])})
            for r in rows]


@dataclass(frozen=True)
class Latest:
    """A plug's newest reading since a point in time, and its newest one carrying power."""

    plug_id: int
    seen_at: datetime
    power_at: datetime | None
    power_w: float | None


_PG_LATEST = """
SELECT p.id AS plug_id, seen.ts AS seen_at, pw.ts AS power_at, pw.power_w
FROM unnest($1::int[]) AS p(id)
JOIN LATERAL (SELECT ts FROM plug_reading r WHERE r.plug_id = p.id AND r.ts >= $2
              ORDER BY ts DESC LIMIT 1) seen ON true
LEFT JOIN LATERAL (SELECT ts, power_w FROM plug_reading r WHERE r.plug_id = p.id AND r.ts >= $2
                   AND r.power_w IS NOT NULL ORDER BY ts DESC LIMIT 1) pw ON true"""


async def latest_readings(conn: BaseDBAsyncClient, plug_ids: Sequence[int], since: datetime) -> dict[int, Latest]:
    """Per plug that reported since ``since``: when it last did, and its latest power (one
    query on PostgreSQL, two on SQLite, whatever the number of plugs)."""
    ids = sorted(set(plug_ids))
    if not ids:
        return {}
    if is_postgres(conn):
        rows = await conn.execute_query_dict(_PG_LATEST, [ids, since])
        return {r["plug_id"]: Latest(r["plug_id"], r["seen_at"], r["power_at"], r["power_w"]) for r in rows}
    marks = ", ".join("?" * len(ids))
    seen = await conn.execute_query_dict(
        f"SELECT plug_id, max(ts) AS ts FROM plug_reading WHERE plug_id IN ({marks}) AND ts >= ? GROUP BY plug_id",
        [*ids, _us(since)])
    # SQLite takes the bare column power_w from the row holding max(ts)
    power = {r["plug_id"]: r for r in await conn.execute_query_dict(
        f"SELECT plug_id, max(ts) AS ts, power_w FROM plug_reading WHERE plug_id IN ({marks}) AND ts >= ? "
        "AND power_w IS NOT NULL GROUP BY plug_id", [*ids, _us(since)])}
    out = {}
    for row in seen:
        pw = power.get(row["plug_id"])
        out[row["plug_id"]] = Latest(row["plug_id"], _from_us(row["ts"]), _from_us(pw["ts"]) if pw else None,
                                     pw["power_w"] if pw else None)
    return out
