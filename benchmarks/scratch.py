"""What the PostgreSQL benchmarks share: a scratch database, the settings that point at it,
the machine description, and the ``main`` that writes the results JSON and prints the table."""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def asyncpg_dsn(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


async def admin(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(admin_url: str, prefix: str, progress: Callable[[str], None]) -> AsyncIterator[str]:
    """Create ``<prefix>_<random>`` through ``admin_url``, yield its URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    await admin(admin_url, f'CREATE DATABASE "{name}"')
    progress(f"created database {name}")
    try:
        yield with_database(admin_url, name)
    finally:
        await admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        progress(f"dropped database {name}")


def bench_settings(url: str, name: str, **overrides: Any):
    """Settings for a benchmark's own process on ``url``: a fixed signing key, quiet logs."""
    from backend.settings import Settings

    values: dict[str, Any] = {
        "env": "development", "var_dir": Path(tempfile.mkdtemp(prefix=f"pvpp-bench-{name}-")),
        "database_url": url, "secret_key": "b" * 40,
        "ledger_signing_key": base64.b64encode(hashlib.sha256(b"bench").digest()).decode(),
        "log_level": "WARNING", "log_format": "console",
    }
    return Settings(**{**values, **overrides})


_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its child processes, e.g. uvicorn's
    ``--workers`` (0 when it is gone)."""
    try:
        fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields_[11]) + int(fields_[12])) / _TICK + sum(process_cpu(int(c)) for c in children)


def postgres_cpu(database: str) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving ``database``, by pid.

    A backend's process title names its database ("postgres: USER DATABASE HOST ..."), so
    other work on the same server (another developer's tests) is not counted here.
    """
    found = {}
    marker = f" {database} ".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres" and marker in (entry / "cmdline").read_bytes():
                    found[int(entry.name)] = process_cpu(int(entry.name))
            except OSError:
                continue
    return found


def uptime() -> str:
    """``uptime``'s line: the load from other work on the shared machine during a run."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return f"load average {os.getloadavg()}"


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    model = cpu_model() or ""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"cpus": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "platform": platform.platform(), "git_commit": commit}


def main_writing_results(args: list[str], parse_args: Callable[[list[str]], argparse.Namespace],
                         run: Callable[[argparse.Namespace], Awaitable[dict[str, Any]]],
                         table: Callable[[dict[str, Any]], str]) -> int:
    """Parse, run, write ``opts.output`` as JSON, print the table."""
    opts = parse_args(args)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    results = asyncio.run(run(opts))
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(table(results))
    print(f"results: {opts.output}")
    return 0
