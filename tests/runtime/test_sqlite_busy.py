"""Processes sharing the SQLite file wait for each other's writes instead of failing at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time

from backend.db import SQLITE_BUSY_TIMEOUT_MS, tortoise_config


def test_sqlite_connections_wait_for_a_long_write_by_another_process(tmp_path):
    path = tmp_path / "pvpp.sqlite3"
    creds = tortoise_config(f"sqlite://{path}")["connections"]["default"]["credentials"]
    assert int(creds["busy_timeout"]) == SQLITE_BUSY_TIMEOUT_MS and creds["journal_mode"] == "WAL"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (n INTEGER)")
    setup.close()
    ready = tmp_path / "writer-ready"
    # another process holds the write lock for 7 s after the writer is ready to write: longer
    # than sqlite3's default 5 s wait
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, sqlite3, sys, time
        c = sqlite3.connect({str(path)!r}, isolation_level=None)
        c.execute("BEGIN IMMEDIATE"); c.execute("INSERT INTO t VALUES (1)")
        print("locked", flush=True)
        while not os.path.exists({str(ready)!r}):
            time.sleep(0.05)
        time.sleep(7); c.execute("COMMIT")
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    script = textwrap.dedent(f"""
        import asyncio
        from tortoise import Tortoise, connections
        from backend.db import tortoise_config
        async def main():
            await Tortoise.init(config=tortoise_config("sqlite://{path}"))
            open({str(ready)!r}, "w").close()
            try:
                await connections.get("default").execute_query("INSERT INTO t VALUES (2)")
            finally:
                await Tortoise.close_connections()
        asyncio.run(main())
    """)
    writer = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    waited = time.time() - ready.stat().st_mtime
    holder.wait(timeout=30)
    holder.stdout.close()
    assert writer.returncode == 0, writer.stderr[-2000:]
    assert waited > 6  # it really waited for the holder
    check = sqlite3.connect(path)
    try:
        assert sorted(r[0] for r in check.execute("SELECT n FROM t")) == [1, 2]
    finally:
        check.close()
