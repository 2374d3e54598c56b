"""Portable raw SQL for the reporting queries (PostgreSQL and SQLite).

Aggregates run in the database; this only papers over placeholders and time comparisons:
SQLite keeps times as ISO text in two spellings (``T`` or space), so it compares them through
``julianday``; PostgreSQL compares native timestamps and can use its indexes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient


class Sql:
    """Collects parameters while a statement is written."""

    def __init__(self, conn: BaseDBAsyncClient | None = None) -> None:
        self.conn = conn or connections.get("default")
        self.pg = self.conn.capabilities.dialect == "postgres"
        self.args: list[Any] = []

    def p(self, value: Any) -> str:
        """A placeholder for ``value``."""
        if isinstance(value, datetime):
            if self.pg:
                self.args.append(value.astimezone(UTC))
                return f"${len(self.args)}"
            self.args.append(value.astimezone(UTC).isoformat())
            return "julianday(?)"
        if isinstance(value, date) and not self.pg:
            value = value.isoformat()
        self.args.append(value)
        return f"${len(self.args)}" if self.pg else "?"

    def ts(self, column: str) -> str:
        """A timestamp column, comparable with a datetime placeholder."""
        return column if self.pg else f"julianday({column})"

    async def rows(self, statement: str) -> list[dict[str, Any]]:
        return await self.conn.execute_query_dict(statement, self.args)
