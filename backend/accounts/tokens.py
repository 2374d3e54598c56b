"""Access tokens (short-lived JWT naming a session) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt

from backend.errors import InvalidToken

ALGORITHM = "HS256"
AUDIENCE = "pvpp-api"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: UUID


def issue_access_token(user_id: int, session_id: UUID, *, key: str, ttl_seconds: int) -> str:
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "sid": str(session_id),
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
        "typ": "access",
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def decode_access_token(token: str, *, key: str) -> AccessClaims:
    """Verify signature, audience and expiry; raise ``InvalidToken`` otherwise."""
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["exp", "iat", "sub", "sid", "aud"]},
        )
        if payload.get("typ") != "access":
            raise InvalidToken()
        return AccessClaims(user_id=int(payload["sub"]), session_id=UUID(payload["sid"]))
    except jwt.ExpiredSignatureError:
        raise InvalidToken("The access token has expired; refresh it.") from None
    except (jwt.PyJWTError, ValueError, KeyError):
        raise InvalidToken() from None


def new_refresh_token() -> tuple[str, str]:
    """A random refresh token and the hash that is stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
