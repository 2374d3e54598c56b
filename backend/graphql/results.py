"""Turn domain failures into typed union members, and parse ids from the client."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from graphql import GraphQLError

from backend import errors as domain
from backend.graphql.errors import to_graphql_error
from backend.outages import is_outage

log = logging.getLogger("pvpp.graphql")

P = ParamSpec("P")
T = TypeVar("T")


def catching_errors(convert: Callable[[domain.DomainError], Any]):
    """A decorator that turns a resolver's ``DomainError`` into ``convert(error)``, and a lost
    database or Redis into ``ServiceUnavailable``."""

    def decorate(resolver: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[Any]]:
        @functools.wraps(resolver)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                return await resolver(*args, **kwargs)
            except domain.DomainError as exc:
                return convert(exc)
            except Exception as exc:
                if not is_outage(exc):
                    raise
                log.warning("service unavailable in %s: %s", resolver.__name__, type(exc).__name__)
                return convert(domain.ServiceUnavailable())

        return wrapper

    return decorate


#: Wrap a resolver so an expected ``DomainError`` becomes its typed union member.
returns_errors = catching_errors(to_graphql_error)


def parse_id(value: str, field: str) -> int:
    """An ``ID`` argument as an integer primary key, or ``ValidationFailed`` naming it."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise domain.ValidationFailed(field, "This is not a valid id.") from None
    if not 0 < number < 2**31:
        raise domain.ValidationFailed(field, "This is not a valid id.")
    return number


class BadUserInput(GraphQLError):
    """For resolvers without a result union (lists): a bad argument, named."""

    def __init__(self, exc: domain.ValidationFailed) -> None:
        super().__init__(exc.message, extensions={"code": "BAD_USER_INPUT", "field": exc.field})


def parse_id_argument(value: str, field: str) -> int:
    """``parse_id`` for list resolvers, where a typed union member cannot be returned."""
    try:
        return parse_id(value, field)
    except domain.ValidationFailed as exc:
        raise BadUserInput(exc) from None


def require_principal(info: Any):
    principal = info.context.principal
    if principal is None:  # guarded by IsAuthenticated; kept for type narrowing
        raise domain.NotAllowed("Sign in first.")
    return principal
