"""Mutations of the households domain."""

from __future__ import annotations


import strawberry

from backend.accounts.validation import clean_name
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors
from backend.households import service
from backend.households.types import Household

HouseholdChangeResult = result_union("HouseholdChangeResult", Household, NotAllowed, ValidationFailed)


@strawberry.type
class HouseholdMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Issue a new invite code; the old one stops working.")
    @returns_errors
    async def regenerate_invite_code(self, info: Info, household_id: strawberry.ID) -> HouseholdChangeResult:
        household = await service.regenerate_invite_code(
            require_principal(info), parse_id(household_id, "householdId")
        )
        return Household.from_model(household)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    @returns_errors
    async def rename_household(self, info: Info, household_id: strawberry.ID, name: str) -> HouseholdChangeResult:
        household = await service.rename_household(
            require_principal(info), parse_id(household_id, "householdId"), clean_name(name, "name", 120)
        )
        return Household.from_model(household)
