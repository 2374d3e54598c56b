"""Municipality logic."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from backend.accounts.principal import Principal
from backend.errors import AlreadyExists, NotAllowed, ValidationFailed
from backend.municipalities.models import Municipality


async def create_municipality(principal: Principal, name: str, code: str) -> Municipality:
    if not principal.is_operator:
        raise NotAllowed("Only the programme operator adds municipalities.")
    code = code.strip()
    if not code.isdigit() or not 2 <= len(code) <= 10:
        raise ValidationFailed("code", "Use the administrative code (2 to 10 digits).")
    try:
        return await Municipality.create(name=name, code=code)
    except IntegrityError:
        raise AlreadyExists("code", "A municipality with this code already exists.") from None
