"""Accounts that are created for people, not by them: teachers, school admins, officers, operators."""

from __future__ import annotations

import uuid

from tortoise.exceptions import IntegrityError

from backend.accounts.models import Role, User
from backend.accounts.passwords import check_password_strength, hash_password
from backend.accounts.principal import Principal
from backend.accounts.validation import clean_email, clean_name
from backend.errors import AlreadyExists, NotAllowed, ValidationFailed
from backend.municipalities.models import Municipality
from backend.schools.models import School
from backend.settings import Settings

STAFF_ROLES = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.OFFICER, Role.OPERATOR)


def _check_may_create(principal: Principal, role: Role, school_id: int | None, municipality_id: int | None) -> None:
    if principal.is_operator:
        return
    if principal.role is Role.SCHOOL_ADMIN and role is Role.TEACHER and school_id == principal.school_id:
        return
    raise NotAllowed("You cannot create this kind of account here.")


async def create_staff_account(
    settings: Settings,
    principal: Principal | None,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role,
    school_id: int | None = None,
    municipality_id: int | None = None,
) -> User:
    """Create a staff account; ``principal=None`` is the command line (trusted)."""
    if role not in STAFF_ROLES:
        raise ValidationFailed("role", "Students and parents sign up themselves.")
    if principal is not None:
        _check_may_create(principal, role, school_id, municipality_id)
    email = clean_email(email)
    display_name = clean_name(display_name)
    if role in (Role.TEACHER, Role.SCHOOL_ADMIN):
        if school_id is None or not await School.exists(id=school_id):
            raise ValidationFailed("schoolId", "School staff need an existing school.")
        municipality_id = None
    elif role is Role.OFFICER:
        if municipality_id is None or not await Municipality.exists(id=municipality_id):
            raise ValidationFailed("municipalityId", "Officers need an existing municipality.")
        school_id = None
    else:
        school_id = municipality_id = None
    check_password_strength(
        password, min_length=settings.password_min_length, min_score=settings.password_min_strength,
        user_inputs=[email, display_name],
    )
    try:
        return await User.create(
            pseudonym=uuid.uuid4(), email=email, password_hash=await hash_password(password, memory_kib=settings.password_hash_memory_kib, time_cost=settings.password_hash_time_cost),
            display_name=display_name, role=role, school_id=school_id, municipality_id=municipality_id,
        )
    except IntegrityError:
        raise AlreadyExists("email", "An account with this email already exists.") from None
