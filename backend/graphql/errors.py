"""Typed expected failures, returned as members of a mutation's or query's result union."""

from __future__ import annotations

from typing import Annotated, Any, Union

import strawberry

from backend import errors as domain
from backend.graphql.access import public_type


@strawberry.interface(description="An expected failure with a message safe to show the user.")
class Error:
    message: str


@public_type
@strawberry.type
class InvalidCredentials(Error):
    pass


@public_type
@strawberry.type
class NotAllowed(Error):
    pass


@public_type
@strawberry.type
class ValidationFailed(Error):
    field: str


@public_type
@strawberry.type
class AlreadyExists(Error):
    field: str


@public_type
@strawberry.type
class RateLimited(Error):
    retry_after_seconds: int


@public_type
@strawberry.type
class ConsentRequired(Error):
    pass


@public_type
@strawberry.type
class InvalidToken(Error):
    pass


@public_type
@strawberry.type
class IdempotencyConflict(Error):
    pass


@public_type
@strawberry.type
class LimitReached(Error):
    limit: str = strawberry.field(description="daily_cap, monthly_cap, below_threshold, budget or below_minimum")


@public_type
@strawberry.type
class InsufficientBalance(Error):
    asset: str
    available: int
    requested: int


@public_type
@strawberry.type
class InvalidRedemptionCode(Error):
    reason: str = strawberry.field(description="malformed, forged, expired or already_used")


@public_type
@strawberry.type
class ServiceUnavailable(Error):
    retry_after_seconds: int


#: Members of every result union: any argument can be refused by the input check
#: (backend/graphql/sanitise.py) and any operation can meet a database or Redis outage.
GENERIC_ERRORS = (ValidationFailed, ServiceUnavailable)


def result_union(name: str, *members: type) -> Any:
    """The result union ``name``: ``members`` (the success type first, then the errors the
    operation's service raises) and :data:`GENERIC_ERRORS`."""
    unique = list(dict.fromkeys((*members, *GENERIC_ERRORS)))
    return Annotated[Union[tuple(unique)], strawberry.union(name)]  # noqa: UP007 (built from a tuple)


def to_graphql_error(exc: domain.DomainError) -> Error:
    """The typed union member for a domain failure."""
    match exc:
        case domain.ValidationFailed():
            return ValidationFailed(message=exc.message, field=exc.field)
        case domain.AlreadyExists():
            return AlreadyExists(message=exc.message, field=exc.field)
        case domain.RateLimited():
            return RateLimited(message=exc.message, retry_after_seconds=exc.retry_after_seconds)
        case domain.InvalidCredentials():
            return InvalidCredentials(message=exc.message)
        case domain.ConsentRequired():
            return ConsentRequired(message=exc.message)
        case domain.InvalidToken():
            return InvalidToken(message=exc.message)
        case domain.IdempotencyConflict():
            return IdempotencyConflict(message=exc.message)
        case domain.LimitReached():
            return LimitReached(message=exc.message, limit=exc.limit)
        case domain.InsufficientBalance():
            return InsufficientBalance(message=exc.message, asset=exc.asset, available=exc.available,
                                       requested=exc.requested)
        case domain.InvalidRedemptionCode():
            return InvalidRedemptionCode(message=exc.message, reason=exc.reason)
        case domain.ServiceUnavailable():
            return ServiceUnavailable(message=exc.message, retry_after_seconds=exc.retry_after_seconds)
        case _:
            return NotAllowed(message=exc.message)
