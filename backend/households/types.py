"""GraphQL types of the households domain."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from backend.graphql.access import visible
from backend.graphql.context import Info
from backend.graphql.permissions import CanManageHousehold, CanViewHousehold
from backend.graphql.scalars import to_display
from backend.households.models import Household as HouseholdModel

if TYPE_CHECKING:
    from backend.accounts.types import GuardianLink, User
    from backend.municipalities.types import Municipality


@strawberry.type
class Household:
    id: strawberry.ID = visible()
    name: str = visible()
    household_id: strawberry.Private[int]
    municipality_id: strawberry.Private[int | None]
    model: strawberry.Private[HouseholdModel]

    @classmethod
    def from_model(cls, household: HouseholdModel) -> Household:
        return cls(
            id=strawberry.ID(str(household.id)), name=household.name, household_id=household.id,
            municipality_id=household.municipality_id, model=household,
        )

    @strawberry.field(permission_classes=[CanManageHousehold], description="Share with family members so they can join.")
    def invite_code(self) -> str | None:
        return self.model.invite_code

    @visible()
    def created_at(self, info: Info) -> datetime | None:
        return to_display(self.model.created_at, info.context.settings.display_timezone)

    @strawberry.field(permission_classes=[CanViewHousehold])
    async def members(self, info: Info) -> list[Annotated[User, strawberry.lazy("backend.accounts.types")]] | None:
        from backend.accounts.types import User

        return [User.from_model(u) for u in await info.context.loaders.household_members.load(self.household_id)]

    @strawberry.field(permission_classes=[CanViewHousehold])
    async def guardian_links(
        self, info: Info
    ) -> list[Annotated[GuardianLink, strawberry.lazy("backend.accounts.types")]] | None:
        from backend.accounts.models import Role
        from backend.accounts.types import GuardianLink

        members = await info.context.loaders.household_members.load(self.household_id)
        students = [m.id for m in members if m.role is Role.STUDENT]
        groups = await info.context.loaders.links_by_student.load_many(students)
        return [GuardianLink.from_model(link) for group in groups for link in group]

    @visible()
    async def municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("backend.municipalities.types")] | None:
        from backend.municipalities.types import Municipality

        if self.municipality_id is None:
            return None
        row = await info.context.loaders.municipality.load(self.municipality_id)
        return Municipality.from_model(row) if row else None
