"""Queries of the schools domain."""

from __future__ import annotations


import strawberry

from backend.errors import NotAllowed as NotAllowedError
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, parse_id_argument, require_principal, returns_errors
from backend.schools.models import School as SchoolModel
from backend.schools.types import School, SchoolClass

SchoolResult = result_union("SchoolResult", School, NotAllowed, ValidationFailed)
SchoolClassResult = result_union("SchoolClassResult", SchoolClass, NotAllowed, ValidationFailed)
MAX_PAGE = 200


@strawberry.type
class SchoolQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Schools by name (public facts), paged.")
    async def schools(
        self, info: Info, municipality_id: strawberry.ID | None = None, first: int = 50, offset: int = 0
    ) -> list[School]:
        query = SchoolModel.all().order_by("name", "id")
        if municipality_id is not None:
            query = query.filter(municipality_id=parse_id_argument(municipality_id, "municipalityId"))
        rows = await query.offset(max(offset, 0)).limit(min(max(first, 0), MAX_PAGE))
        return [School.from_model(s) for s in rows]

    @strawberry.field(permission_classes=[IsAuthenticated])
    @returns_errors
    async def school(self, info: Info, id: strawberry.ID) -> SchoolResult:
        row = await info.context.loaders.school.load(parse_id(id, "id"))
        if row is None:
            raise NotAllowedError("You cannot see this school.")
        return School.from_model(row)

    @strawberry.field(permission_classes=[IsAuthenticated])
    @returns_errors
    async def school_class(self, info: Info, id: strawberry.ID) -> SchoolClassResult:
        principal = require_principal(info)
        row = await info.context.loaders.school_class.load(parse_id(id, "id"))
        if row is None or not (
            principal.can_view_school_people(row.school_id) or principal.school_class_id == row.id
        ):
            raise NotAllowedError("You cannot see this class.")
        return SchoolClass.from_model(row)
