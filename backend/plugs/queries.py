"""Queries of the smart-plug domain."""

from __future__ import annotations

from datetime import date

import strawberry

from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors
from backend.plugs import service
from backend.plugs.types import Plug, PlugIngestStats, PlugList, PlugRejectCount

PlugListResult = result_union("PlugListResult", PlugList, NotAllowed, ValidationFailed)
PlugResult = result_union("PlugResult", Plug, NotAllowed, ValidationFailed)
PlugIngestStatsResult = result_union("PlugIngestStatsResult", PlugIngestStats, NotAllowed, ValidationFailed)


@strawberry.type
class PlugQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="A household's plugs: its members (parents and students) and operators.")
    @returns_errors
    async def plugs(self, info: Info, household_id: strawberry.ID, include_unpaired: bool = False) -> PlugListResult:
        rows = await service.household_plugs(require_principal(info), parse_id(household_id, "householdId"),
                                             include_unpaired)
        return PlugList(items=[Plug.from_model(p) for p in rows])

    @strawberry.field(permission_classes=[IsAuthenticated], description="One plug of one's household.")
    @returns_errors
    async def plug(self, info: Info, id: strawberry.ID) -> PlugResult:
        return Plug.from_model(await service.visible_plug(require_principal(info), parse_id(id, "id")))

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Operators: rejected plug messages per UTC day, vendor and reason.")
    @returns_errors
    async def plug_ingest_stats(self, info: Info, days: int = 7) -> PlugIngestStatsResult:
        rows = await service.reject_totals(require_principal(info), days)
        return PlugIngestStats(items=[
            PlugRejectCount(day=date.fromisoformat(r.day), vendor=r.vendor, reason=r.reason, count=r.count)
            for r in rows
        ])
