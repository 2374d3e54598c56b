"""Tortoise ORM configuration, start-up and migrations."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import asyncpg
import tortoise.backends.sqlite.executor  # noqa: F401 - registers its adapters, which ours replaces
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url

from backend.settings import Settings


def _sqlite_datetime(value: datetime) -> str:
    """Datetimes as SQLite text, always in UTC.

    SQLite compares these columns as text, so every stored value and every query bound must be
    written the same way: an aware time in another zone (``…+09:00``) would sort wrongly
    against UTC values whenever the two dates differ.
    """
    return (value.astimezone(UTC) if value.tzinfo is not None else value).isoformat(" ")


sqlite3.register_adapter(datetime, _sqlite_datetime)

MODEL_MODULES = [
    "backend.municipalities.models",
    "backend.schools.models",
    "backend.households.models",
    "backend.accounts.models",
    "backend.rewards.models",
    "backend.activities.models",
    "backend.ledger.models",
    "backend.plugs.models",
    "backend.photos.models",
    "backend.dr.models",
    "backend.demo.models",
]


class _NoResetConnection(asyncpg.connection.Connection):
    """A pooled connection without asyncpg's reset query on release.

    The reset (unlock advisory locks, close cursors, UNLISTEN, RESET ALL) costs a round trip
    after every statement; the platform uses none of those session features, and asyncpg
    still rolls back an open transaction on release.
    """

    def get_reset_query(self) -> str:
        return ""


#: How long a SQLite writer waits for another process's write (the API, the worker and
#: ``pvpp demo-data`` share one file) before "database is locked"; sqlite3's default is 5 s.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _connection(database_url: str) -> str | dict[str, Any]:
    if database_url.startswith("sqlite://") and ":memory:" not in database_url:
        config = expand_db_url(database_url)
        config["credentials"].setdefault("busy_timeout", SQLITE_BUSY_TIMEOUT_MS)
        return config
    if not database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return database_url
    config = expand_db_url(database_url)
    config["credentials"]["connection_class"] = _NoResetConnection
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config for one database; all domains share the app label ``pvpp``."""
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            "pvpp": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "backend.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_dir(database_url: str) -> None:
    if database_url.startswith("sqlite://") and ":memory:" not in database_url:
        from pathlib import Path

        Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)


async def init_db(settings: Settings) -> None:
    """Open the connections; handlers use them through Tortoise's global fallback."""
    url = settings.resolved_database_url
    _ensure_sqlite_dir(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(settings: Settings) -> None:
    """Apply all committed migrations (idempotent)."""
    from tortoise.migrations.api.migrate import migrate as run_migrations

    url = settings.resolved_database_url
    _ensure_sqlite_dir(url)
    try:
        await run_migrations(config=tortoise_config(url))
    finally:
        await Tortoise.close_connections()


#: Used by ``tortoise -c backend.db.MAKEMIGRATIONS_CONFIG makemigrations`` when models change.
MAKEMIGRATIONS_CONFIG = tortoise_config("sqlite://:memory:")
