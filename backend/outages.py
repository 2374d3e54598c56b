"""Which exceptions mean that PostgreSQL or Redis cannot be reached (rather than a bug)."""

from __future__ import annotations

import asyncio

import asyncpg
import redis.exceptions
from tortoise.exceptions import DBConnectionError

SERVICE_UNAVAILABLE_MESSAGE = "The service is briefly unavailable. Try again in a few seconds."

OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,  # refused, reset, loading
    redis.exceptions.TimeoutError,
    DBConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash shutdown
    asyncpg.exceptions.TooManyConnectionsError,
    ConnectionError,  # refused/reset sockets (OSError subclasses)
    asyncio.TimeoutError,
)


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` (or an exception it was raised from) is a lost service."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OUTAGE_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
