"""Queries and mutations of DR settlements: the explanation, team pooling and disputes."""

from __future__ import annotations


import strawberry

from backend.dr import disputes, explain, pooling_service
from backend.dr.models import DrDispute as DrDisputeModel
from backend.dr.models import DrSettlement as DrSettlementModel
from backend.dr.settlement_types import (
    DrDispute,
    DrDisputeList,
    DrSettlement,
    DrTeamDelivery,
)
from backend.graphql.context import Info
from backend.graphql.errors import AlreadyExists, NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors

DrSettlementResult = result_union("DrSettlementResult", DrSettlement, NotAllowed, ValidationFailed)
DrTeamDeliveryResult = result_union("DrTeamDeliveryResult", DrTeamDelivery, NotAllowed, ValidationFailed)
DrDisputeListResult = result_union("DrDisputeListResult", DrDisputeList, NotAllowed)
DrDisputeResult = result_union("DrDisputeResult", DrDispute, NotAllowed, ValidationFailed, AlreadyExists)


async def _dispute(d: DrDisputeModel, tz: str) -> DrDispute:
    settlement = await DrSettlementModel.get(id=d.settlement_id)
    return DrDispute.from_model(d, settlement.event_id, settlement.household_id, tz)


@strawberry.type
class DrSettlementQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Why a household got what it got for a DR event: for the household's members, "
                                  "operators and those who manage the event.")
    @returns_errors
    async def dr_settlement(self, info: Info, event_id: strawberry.ID,
                            household_id: strawberry.ID) -> DrSettlementResult:
        view = await explain.explain(info.context.settings, require_principal(info), parse_id(event_id, "eventId"),
                                     parse_id(household_id, "householdId"))
        return DrSettlement.from_view(view, info.context.settings.display_timezone)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="A class's delivery rate in a DR event before and after pooling: teachers of the "
                                  "class, its school's admins, operators; its households when at least "
                                  "PVPP_DR_MIN_AGGREGATE_HOUSEHOLDS are counted.")
    @returns_errors
    async def dr_team_delivery(self, info: Info, event_id: strawberry.ID,
                               class_id: strawberry.ID) -> DrTeamDeliveryResult:
        delivery = await pooling_service.visible_team_delivery(
            require_principal(info), parse_id(event_id, "eventId"), parse_id(class_id, "classId"),
            info.context.settings.dr_min_aggregate_households)
        return DrTeamDelivery.from_result(delivery)

    @strawberry.field(permission_classes=[IsAuthenticated], description="Open disputes of DR settlements (operators).")
    @returns_errors
    async def dr_disputes(self, info: Info) -> DrDisputeListResult:
        rows = await disputes.open_disputes(require_principal(info))
        tz = info.context.settings.display_timezone
        return DrDisputeList(items=[await _dispute(d, tz) for d in rows])


@strawberry.type
class DrSettlementMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="A parent disputes the household's settlement of an event, with a reason "
                                     "(10 to 1,000 characters).")
    @returns_errors
    async def dispute_dr_settlement(self, info: Info, event_id: strawberry.ID, household_id: strawberry.ID,
                                    reason: str) -> DrDisputeResult:
        row = await disputes.raise_dispute(require_principal(info), parse_id(event_id, "eventId"),
                                           parse_id(household_id, "householdId"), reason[:5_000])
        return await _dispute(row, info.context.settings.display_timezone)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="An operator accepts a dispute (with the household's reduction in kWh: the "
                                     "difference in points is an ADJUSTMENT in the ledger) or rejects it.")
    @returns_errors
    async def resolve_dr_dispute(self, info: Info, dispute_id: strawberry.ID, accept: bool, reason: str,
                                 adjusted_kwh: float | None = None) -> DrDisputeResult:
        row = await disputes.resolve_dispute(info.context.settings, require_principal(info),
                                             parse_id(dispute_id, "disputeId"), accept=accept, reason=reason[:5_000],
                                             adjusted_kwh=adjusted_kwh)
        return await _dispute(row, info.context.settings.display_timezone)
