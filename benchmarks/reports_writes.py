"""What the scoreboard group summary's triggers cost writers, on a scratch database left by
``pvpp bench reports --keep-database`` (it adds activities to it: use it for nothing else after).

``python -m benchmarks.reports_writes DATABASE [--admin-url URL] [--writes N]``

1. single-row activity inserts, each its own transaction (as the API writes them), alternately
   with the group triggers idle (``score_group_state.building = 1``) and active;
2. every accepted activity copied in one statement, rolled back, idle and active.
``score_month``'s own triggers run in both cases, so the difference is the group summary's.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from benchmarks.scratch import DEFAULT_ADMIN_URL, asyncpg_dsn, with_database


def _copy(columns: list[str], tag: str, offset: int) -> str:
    select = ", ".join(f"idempotency_key || '-{tag}'" if c == "idempotency_key" else f"id + {offset}" if c == "id"
                       else c for c in columns)
    return f"INSERT INTO activity ({', '.join(columns)}) SELECT {select} FROM activity"


async def run(url: str, writes: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        columns = [r[0] for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'activity' "
            "ORDER BY ordinal_position")]
        top = await conn.fetchval("SELECT MAX(id) FROM activity")
        ids = [r[0] for r in await conn.fetch("SELECT id FROM activity WHERE status = 'accepted' ORDER BY id LIMIT $1",
                                              4 * writes)]
        for n, idle in enumerate((True, False, True, False)):
            await conn.execute("UPDATE score_group_state SET building = $1", int(idle))
            insert = await conn.prepare(_copy(columns, f"w{n}", top * (n + 2)) + " WHERE id = $1")
            t0 = time.perf_counter()
            for i in ids[n * writes:(n + 1) * writes]:
                await insert.fetch(i)
            s = time.perf_counter() - t0
            print(f"single-row inserts, group triggers {'idle' if idle else 'active'}: {writes} in {s:.2f} s, "
                  f"{s / writes * 1e3:.2f} ms each")
        await conn.execute("UPDATE score_group_state SET building = 0")
        for n, idle in enumerate((True, False)):
            status, s = await _rolled_back(conn, idle, _copy(columns, f"b{n}", top * (n + 10))
                                           + " WHERE status = 'accepted'")
            print(f"one statement, group triggers {'idle' if idle else 'active'}: {status} in {s:.1f} s")
    finally:
        await conn.execute("UPDATE score_group_state SET building = 0")
        await conn.close()
    with open("/proc/loadavg", encoding="ascii") as f:
        print(f"load average at the end: {f.read().strip()}")


async def _rolled_back(conn, idle: bool, statement: str) -> tuple[str, float]:
    """Run ``statement`` in a transaction that is rolled back; its status and seconds."""
    tr = conn.transaction()
    await tr.start()
    try:
        await conn.execute("UPDATE score_group_state SET building = $1", int(idle))
        t0 = time.perf_counter()
        status = await conn.execute(statement)
        return status, time.perf_counter() - t0
    finally:
        await tr.rollback()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.reports_writes")
    p.add_argument("database")
    p.add_argument("--admin-url", default=DEFAULT_ADMIN_URL)
    p.add_argument("--writes", type=int, default=2000)
    opts = p.parse_args()
    asyncio.run(run(with_database(opts.admin_url, opts.database), opts.writes))


if __name__ == "__main__":
    main()
