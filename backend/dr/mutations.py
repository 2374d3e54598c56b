"""Mutations of DR events: create and cancel (staff), opt out or back in (parents)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from backend.dr import service
from backend.dr.models import DrScope
from backend.dr.types import DrEvent, DrEventScope, DrParticipation
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors

DrEventMutationResult = result_union("DrEventMutationResult", DrEvent, ValidationFailed, NotAllowed)
DrParticipationResult = result_union("DrParticipationResult", DrParticipation, ValidationFailed, NotAllowed)


@strawberry.input(description="A new DR event. scopeId names the municipality or school; none for national.")
class CreateDrEventInput:
    title: str
    scope: DrEventScope  # type: ignore[valid-type]
    scope_id: strawberry.ID | None = None
    starts_at: datetime = strawberry.field(description="ISO 8601 with a UTC offset")
    ends_at: datetime = strawberry.field(description="ISO 8601 with a UTC offset")
    target_kw: float = strawberry.field(description="The reduction asked for, in kW (> 0)")
    short_notice: bool = strawberry.field(
        default=False, description="Allow less than PVPP_DR_MIN_NOTICE_MINUTES of notice; every household is "
                                   "then forgiven automatically")


@strawberry.type
class DrMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Create a DR event: operators (any scope), officers (their municipality), "
                                     "school admins (their school). Households in scope are notified at once.")
    @returns_errors
    async def create_dr_event(self, info: Info, input: CreateDrEventInput) -> DrEventMutationResult:
        scope_id = parse_id(input.scope_id, "scopeId") if input.scope_id is not None else None
        event = await service.create_event(
            info.context.settings, require_principal(info), title=input.title[:200], scope=DrScope(input.scope.value),
            scope_id=scope_id, starts_at=input.starts_at, ends_at=input.ends_at, target_kw=input.target_kw,
            short_notice=input.short_notice)
        return DrEvent.from_model(event, info)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Cancel an event before its end (its creator or an operator); plugs it "
                                     "switched off are switched back on.")
    @returns_errors
    async def cancel_dr_event(self, info: Info, event_id: strawberry.ID) -> DrEventMutationResult:
        event = await service.cancel_event(info.context.settings, require_principal(info),
                                           parse_id(event_id, "eventId"))
        return DrEvent.from_model(event, info)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="A parent opts the household out of an event (until 15 minutes after its "
                                     "start) or back in (before the start).")
    @returns_errors
    async def set_dr_participation(self, info: Info, event_id: strawberry.ID, household_id: strawberry.ID,
                                   opted_in: bool) -> DrParticipationResult:
        row = await service.set_decision(info.context.settings, require_principal(info),
                                         parse_id(event_id, "eventId"), parse_id(household_id, "householdId"),
                                         opted_in)
        return DrParticipation.from_model(row, info.context.settings.display_timezone)
