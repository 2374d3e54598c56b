"""Password hashing (argon2id) and strength rules, off the event loop."""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from backend.errors import ValidationFailed

_verifier = PasswordHasher()
#: Verified when the account does not exist, so both paths cost the same time.
_DUMMY_HASH = _verifier.hash("pvpp-timing-equaliser")
MAX_PASSWORD_LENGTH = 128


@functools.cache
def _hasher(memory_kib: int, time_cost: int) -> PasswordHasher:
    return PasswordHasher(memory_cost=memory_kib, time_cost=time_cost)


async def hash_password(password: str, *, memory_kib: int = 65_536, time_cost: int = 3) -> str:
    """argon2id hash; verification reads the cost back from the hash itself."""
    return await asyncio.to_thread(_hasher(memory_kib, time_cost).hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one argon2 verification."""

    def _verify() -> bool:
        try:
            return _verifier.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)


def check_password_strength(
    password: str, *, min_length: int, min_score: int, user_inputs: list[str]
) -> None:
    """Raise ``ValidationFailed`` for a short, overlong or guessable password."""
    if len(password) < min_length:
        raise ValidationFailed("password", f"Use at least {min_length} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed("password", f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    result = zxcvbn(password, user_inputs=[u for u in user_inputs if u])
    if result["score"] < min_score:
        hint = result["feedback"].get("warning") or "This password is too easy to guess."
        raise ValidationFailed("password", f"{hint} Try a longer phrase.".strip())
