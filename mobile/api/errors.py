"""What can go wrong talking to the server, sorted by what the app should do about it."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Base of every API failure."""


class NetworkError(ApiError):
    """No answer (offline, timeout, connection refused): retry later with backoff."""


class ServerError(ApiError):
    """5xx or an unexpected server error: retry later with backoff."""


class SignInRequired(ApiError):
    """401 even after one refresh, or the refresh token was refused: go to the sign-in screen."""


class Rejected(ApiError):
    """A typed rejection (a GraphQL union error member or a 4xx): show it, never retry blindly."""

    def __init__(self, typename: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{typename}: {message}")
        self.typename = typename
        self.message = message
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        return {"typename": self.typename, "message": self.message, "details": self.details}
