"""Queries of DR events: the caller's events, one event, and the live view."""

from __future__ import annotations


import strawberry

from backend.dr import live, service
from backend.dr.models import DrEvent as DrEventModel
from backend.dr.types import DrEvent, DrEventList, DrLiveView
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors

DrEventResult = result_union("DrEventResult", DrEvent, NotAllowed, ValidationFailed)
DrLiveViewResult = result_union("DrLiveViewResult", DrLiveView, NotAllowed, ValidationFailed)


async def live_for(info: Info, event: DrEventModel) -> DrLiveView:
    """The live view as the caller may see it (the caller was checked to see the event)."""
    settings = info.context.settings
    view = await service.live_view(settings, event)
    if service.can_manage(require_principal(info), event):
        return DrLiveView.full(event, view, settings.display_timezone)
    return DrLiveView.for_household(event, live.for_household(view, settings.dr_min_aggregate_households),
                                    settings.display_timezone)


@strawberry.type
class DrQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="DR events the caller may see: those their household takes part in, or those "
                                  "they manage (operators: all). upcoming: only events not over yet.")
    async def dr_events(self, info: Info, upcoming: bool = True) -> DrEventList:
        rows = await service.visible_events(require_principal(info), upcoming=upcoming)
        return DrEventList(items=[DrEvent.from_model(e, info) for e in rows])

    @strawberry.field(permission_classes=[IsAuthenticated], description="One DR event the caller may see.")
    @returns_errors
    async def dr_event(self, info: Info, id: strawberry.ID) -> DrEventResult:
        return DrEvent.from_model(await service.visible_event(require_principal(info), parse_id(id, "id")), info)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The event as one power plant: reduction against the target (aggregates only).")
    @returns_errors
    async def dr_live_view(self, info: Info, event_id: strawberry.ID) -> DrLiveViewResult:
        event = await service.visible_event(require_principal(info), parse_id(event_id, "eventId"))
        return await live_for(info, event)
