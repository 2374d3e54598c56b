"""Where the test suite finds PostgreSQL, Redis and ../shared; in CI a missing one fails."""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

POSTGRES_HOST = os.environ.get("PVPP_TEST_POSTGRES_HOST", "127.0.0.1")
POSTGRES_PORT = int(os.environ.get("PVPP_TEST_POSTGRES_PORT", "5432"))
POSTGRES_ADMIN_DB = os.environ.get("PVPP_TEST_POSTGRES_DB", "test")
POSTGRES_USER = os.environ.get("PVPP_TEST_POSTGRES_USER", "postgres")
REDIS_URL = os.environ.get("PVPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def redis_url() -> str:
    """REDIS_URL, with the database number moved on by the pytest-xdist worker's number (gw0 -> +0,
    gw1 -> +1, ...) so that parallel workers never flush each other's data."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return REDIS_URL
    url = urlsplit(REDIS_URL)
    db = int(url.path.strip("/") or 0) + int(worker[2:])
    return urlunsplit(url._replace(path=f"/{db}"))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_tool(command: str, package: str) -> None:
    """Skip (outside CI) or fail (in CI) when a command ``make test`` installs is not on PATH."""
    if shutil.which(command) is not None:
        return
    message = f"{command} ({package}) is not installed"
    if in_ci():
        pytest.fail(f"{message} (CI=true: `make test` installs it)")
    pytest.skip(message)


def require_service(name: str, host: str, port: int) -> None:
    """Skip (outside CI) or fail (in CI) when a service is not listening."""
    if reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)


async def pg_admin(sql: str) -> None:
    """Run one statement on the admin database (CREATE/DROP DATABASE cannot run in a pool)."""
    conn = await asyncpg.connect(host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER,
                                 database=POSTGRES_ADMIN_DB)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_url(database: str) -> str:
    return f"postgres://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{database}"
