"""Queries of the municipalities domain."""

from __future__ import annotations

import strawberry

from backend.graphql.context import Info
from backend.graphql.permissions import IsAuthenticated
from backend.municipalities.models import Municipality as MunicipalityModel
from backend.municipalities.types import Municipality


@strawberry.type
class MunicipalityQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Municipalities that run programmes.")
    async def municipalities(self, info: Info) -> list[Municipality]:
        return [Municipality.from_model(m) for m in await MunicipalityModel.all().order_by("name")]
