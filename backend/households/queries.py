"""Queries of the households domain."""

from __future__ import annotations


import strawberry

from backend.errors import NotAllowed as NotAllowedError
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors
from backend.households.types import Household

HouseholdResult = result_union("HouseholdResult", Household, NotAllowed, ValidationFailed)


@strawberry.type
class HouseholdQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="The signed-in user's household, if any.")
    async def my_household(self, info: Info) -> Household | None:
        principal = require_principal(info)
        if principal.household_id is None:
            return None
        row = await info.context.loaders.household.load(principal.household_id)
        return Household.from_model(row) if row else None

    @strawberry.field(permission_classes=[IsAuthenticated])
    @returns_errors
    async def household(self, info: Info, id: strawberry.ID) -> HouseholdResult:
        principal = require_principal(info)
        household_id = parse_id(id, "id")
        row = await info.context.loaders.household.load(household_id) if principal.can_view_household(household_id) else None
        if row is None:
            raise NotAllowedError("You cannot see this household.")
        return Household.from_model(row)
