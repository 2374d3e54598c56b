"""GraphQL types of the schools domain.

A school's name and place are public facts; its people, classes and join codes are visible
to its own staff and to operators only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from backend.graphql.access import visible
from backend.graphql.context import Info
from backend.graphql.permissions import CanViewSchoolPeople
from backend.schools.models import School as SchoolModel
from backend.schools.models import SchoolClass as SchoolClassModel

if TYPE_CHECKING:
    from backend.accounts.types import User
    from backend.municipalities.types import Municipality

UserRef = Annotated["User", strawberry.lazy("backend.accounts.types")]


@strawberry.type
class School:
    id: strawberry.ID = visible()
    name: str = visible()
    school_id: strawberry.Private[int]
    municipality_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, school: SchoolModel) -> School:
        return cls(
            id=strawberry.ID(str(school.id)), name=school.name, school_id=school.id,
            municipality_id=school.municipality_id,
        )

    @visible()
    async def municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("backend.municipalities.types")] | None:
        from backend.municipalities.types import Municipality

        row = await info.context.loaders.municipality.load(self.municipality_id)
        return Municipality.from_model(row) if row else None

    @strawberry.field(permission_classes=[CanViewSchoolPeople])
    async def classes(self, info: Info) -> list[SchoolClass] | None:
        return [SchoolClass.from_model(c) for c in await info.context.loaders.school_classes.load(self.school_id)]

    @strawberry.field(permission_classes=[CanViewSchoolPeople], description="Teachers and school admins.")
    async def staff(self, info: Info) -> list[UserRef] | None:
        from backend.accounts.types import User

        return [User.from_model(u) for u in await info.context.loaders.school_staff.load(self.school_id)]


@strawberry.type
class SchoolClass:
    id: strawberry.ID = visible()
    name: str = visible()
    grade: int = visible()
    year: int = visible()
    school_id: strawberry.Private[int]
    class_id: strawberry.Private[int]
    model: strawberry.Private[SchoolClassModel]

    @classmethod
    def from_model(cls, c: SchoolClassModel) -> SchoolClass:
        return cls(
            id=strawberry.ID(str(c.id)), name=c.name, grade=c.grade, year=c.year,
            school_id=c.school_id, class_id=c.id, model=c,
        )

    @strawberry.field(permission_classes=[CanViewSchoolPeople], description="Students join the class with it.")
    def join_code(self) -> str | None:
        return self.model.join_code

    @visible()
    async def school(self, info: Info) -> School | None:
        row = await info.context.loaders.school.load(self.school_id)
        return School.from_model(row) if row else None

    @strawberry.field(permission_classes=[CanViewSchoolPeople])
    async def students(self, info: Info) -> list[UserRef] | None:
        from backend.accounts.types import User

        return [User.from_model(u) for u in await info.context.loaders.class_students.load(self.class_id)]
