"""Expected failures of the domain services.

Services raise these; the GraphQL layer turns each into a typed union member of the
operation's result. Anything else that escapes a service is a bug.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of all expected failures; ``message`` is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidCredentials(DomainError):
    def __init__(self, message: str = "Email or password is incorrect.") -> None:
        super().__init__(message)


class NotAllowed(DomainError):
    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)


class ValidationFailed(DomainError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AlreadyExists(DomainError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RateLimited(DomainError):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"Too many attempts. Try again in {retry_after_seconds} seconds.")
        self.retry_after_seconds = retry_after_seconds


class ConsentRequired(DomainError):
    def __init__(
        self,
        message: str = "A guardian must give consent before a student under 14 can use People's VPP.",
    ) -> None:
        super().__init__(message)


class InvalidToken(DomainError):
    def __init__(self, message: str = "The token is invalid, expired or revoked.") -> None:
        super().__init__(message)


class IdempotencyConflict(DomainError):
    """The idempotency key was used before for a different request."""

    def __init__(self, message: str = "This idempotency key was already used for a different request.") -> None:
        super().__init__(message)


class LimitReached(DomainError):
    """A cap (daily, monthly, threshold, budget) leaves nothing to grant; ``limit`` names it."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


class InsufficientBalance(DomainError):
    def __init__(self, asset: str, available: int, requested: int) -> None:
        super().__init__(f"Only {available} {asset} available, {requested} requested.")
        self.asset = asset
        self.available = available
        self.requested = requested


class InvalidRedemptionCode(DomainError):
    """``reason`` is one of malformed, forged, expired, already_used."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ServiceUnavailable(DomainError):
    """PostgreSQL or Redis cannot be reached; the request changed nothing and may be retried."""

    def __init__(self, retry_after_seconds: int = 5,
                 message: str = "The service is briefly unavailable. Try again in a few seconds.") -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
