"""Household logic: creation, invite codes, joining, and the guardian links joining creates."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from backend.accounts.models import GuardianLink, Role, User
from backend.accounts.principal import Principal
from backend.codes import new_code, normalise_code
from backend.errors import NotAllowed, ValidationFailed
from backend.households.models import Household
from backend.municipalities.models import Municipality


async def create_household(name: str, municipality_id: int | None = None) -> Household:
    if municipality_id is not None and not await Municipality.exists(id=municipality_id):
        raise ValidationFailed("municipalityId", "No such municipality.")
    for _ in range(5):
        try:
            return await Household.create(
                name=name, invite_code=new_code(), municipality_id=municipality_id
            )
        except IntegrityError:  # invite code collision: draw again
            continue
    raise RuntimeError("could not draw a unique invite code")


async def household_by_invite_code(code: str) -> Household:
    household = await Household.get_or_none(invite_code=normalise_code(code))
    if household is None:
        raise ValidationFailed("inviteCode", "This invite code is not valid.")
    return household


async def link_guardians(user: User) -> None:
    """Link a newly joined member with the household's parents or students."""
    if user.household_id is None or user.role not in (Role.STUDENT, Role.PARENT):
        return
    other_role = Role.PARENT if user.role is Role.STUDENT else Role.STUDENT
    others = await User.filter(household_id=user.household_id, role=other_role).values_list("id", flat=True)
    for other_id in others:
        guardian_id, student_id = (other_id, user.id) if user.role is Role.STUDENT else (user.id, other_id)
        await GuardianLink.get_or_create(guardian_id=guardian_id, student_id=student_id)


async def _managed_household(principal: Principal, household_id: int, doing: str) -> Household:
    household = await Household.get_or_none(id=household_id) if principal.can_manage_household(household_id) else None
    if household is None:
        raise NotAllowed(f"Only a parent of this household can {doing}.")
    return household


async def regenerate_invite_code(principal: Principal, household_id: int) -> Household:
    household = await _managed_household(principal, household_id, "change its invite code")
    household.invite_code = new_code()
    await household.save(update_fields=["invite_code"])
    return household


async def rename_household(principal: Principal, household_id: int, name: str) -> Household:
    household = await _managed_household(principal, household_id, "rename it")
    household.name = name
    await household.save(update_fields=["name"])
    return household
