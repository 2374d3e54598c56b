"""Mutations of the schools domain."""

from __future__ import annotations


import strawberry

from backend.accounts.types import User
from backend.accounts.validation import clean_name
from backend.graphql.context import Info
from backend.graphql.errors import AlreadyExists, NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors
from backend.schools import service
from backend.schools.types import School, SchoolClass

SchoolChangeResult = result_union("SchoolChangeResult", School, NotAllowed, ValidationFailed)
SchoolClassChangeResult = result_union("SchoolClassChangeResult", SchoolClass, NotAllowed, ValidationFailed,
                                       AlreadyExists)
JoinClassResult = result_union("JoinClassResult", User, NotAllowed, ValidationFailed)


@strawberry.type
class SchoolMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated])
    @returns_errors
    async def create_school(self, info: Info, name: str, municipality_id: strawberry.ID) -> SchoolChangeResult:
        school = await service.create_school(
            require_principal(info), clean_name(name, "name", 120), parse_id(municipality_id, "municipalityId")
        )
        return School.from_model(school)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    @returns_errors
    async def create_school_class(
        self, info: Info, school_id: strawberry.ID, name: str, grade: int, year: int | None = None
    ) -> SchoolClassChangeResult:
        school_class = await service.create_class(
            require_principal(info), parse_id(school_id, "schoolId"), clean_name(name, "name", 60),
            grade, year, info.context.settings.display_timezone,
        )
        return SchoolClass.from_model(school_class)

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="A student joins a class with its code.")
    @returns_errors
    async def join_class(self, info: Info, class_code: str) -> JoinClassResult:
        return User.from_model(await service.join_class(require_principal(info), class_code[:32]))
