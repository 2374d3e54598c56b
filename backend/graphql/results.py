"""Turn domain failures into typed union members, and parse ids from the client."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from graphql import GraphQLError

from backend import errors as domain
from backend.graphql.errors import to_graphql_error

P = ParamSpec("P")
T = TypeVar("T")


def returns_errors(resolver: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[Any]]:
    """Wrap a resolver so an expected ``DomainError`` becomes its typed union member."""

    @functools.wraps(resolver)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        try:
            return await resolver(*args, **kwargs)
        except domain.DomainError as exc:
            return to_graphql_error(exc)

    return wrapper


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
