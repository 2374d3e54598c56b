"""GraphQL types of the municipalities domain (public facts about local governments)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from backend.graphql.access import visible
from backend.graphql.context import Info
from backend.municipalities.models import Municipality as MunicipalityModel

if TYPE_CHECKING:
    from backend.schools.types import School


@strawberry.type
class Municipality:
    id: strawberry.ID = visible()
    name: str = visible()
    code: str = visible()
    municipality_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: MunicipalityModel) -> Municipality:
        return cls(id=strawberry.ID(str(m.id)), name=m.name, code=m.code, municipality_id=m.id)

    @visible()
    async def schools(self, info: Info) -> list[Annotated[School, strawberry.lazy("backend.schools.types")]]:
        from backend.schools.types import School

        return [School.from_model(s) for s in await info.context.loaders.municipality_schools.load(self.municipality_id)]
