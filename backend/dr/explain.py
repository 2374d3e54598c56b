""""Why did I get this?": a household's settlement of an event, with who may see it.

Visible to the household's members, operators, and those who manage the event (its creator and
the staff of its scope). The dispute texts are a family's words to the operator: they are shown
to the household and operators only. Before settlement the figures are computed on the spot
and marked provisional (status ``pending_data``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from backend.accounts.principal import HOUSEHOLD_ROLES, Principal
from backend.dr import service
from backend.dr.models import (
    DisputeStatus,
    DrDispute,
    DrEvent,
    DrParticipation,
    DrSettlement,
    DrSettlementAdjustment,
    DrState,
)
from backend.dr.settlement import contracted_kwh, measure_households
from backend.errors import NotAllowed, ValidationFailed
from backend.settings import Settings

NOT_ALLOWED = "You cannot see this settlement."


class DisplayStatus(StrEnum):
    PENDING_DATA = "pending_data"
    SETTLED = "settled"
    INSUFFICIENT_DATA = "insufficient_data"
    FORGIVEN = "forgiven"
    DISPUTED = "disputed"  # a dispute is open
    ADJUSTED = "adjusted"  # changed after settlement (restated readings or an accepted dispute)


@dataclass
class SettlementView:
    event_id: int
    household_id: int
    status: DisplayStatus
    forgiven_reason: str | None
    method: str | None
    contracted_kwh: float
    reduction_kwh: float
    points: int
    version: int
    recipients: int
    explanation: dict
    provisional: bool
    settled_at: datetime | None = None
    computed_at: datetime | None = None
    adjustments: list[DrSettlementAdjustment] = field(default_factory=list)
    disputes: list[DrDispute] = field(default_factory=list)


def _may_see(principal: Principal, event: DrEvent, household_id: int) -> bool:
    return (principal.is_operator or service.can_manage(principal, event)
            or (principal.role in HOUSEHOLD_ROLES and principal.household_id == household_id))


def display_status(row: DrSettlement, disputes: list[DrDispute]) -> DisplayStatus:
    if any(d.status is DisputeStatus.OPEN for d in disputes):
        return DisplayStatus.DISPUTED
    if row.version > 1:
        return DisplayStatus.ADJUSTED
    return DisplayStatus(row.status.value)


async def explain(settings: Settings, principal: Principal, event_id: int, household_id: int) -> SettlementView:
    event = await DrEvent.get_or_none(id=event_id)
    if event is None or not _may_see(principal, event, household_id):
        raise NotAllowed(NOT_ALLOWED)
    participation = await DrParticipation.get_or_none(event_id=event_id, household_id=household_id)
    if participation is None:
        raise ValidationFailed("householdId", "This household did not take part in this event.")
    if participation.opted_out:
        raise ValidationFailed("householdId", "This household opted out of this event: there is nothing to settle.")
    row = await DrSettlement.get_or_none(participation_id=participation.id)
    if row is None:
        return await _provisional(settings, event, participation)
    disputes = await DrDispute.filter(settlement_id=row.id).order_by("id")
    shown = disputes if principal.is_operator or principal.household_id == household_id else []
    return SettlementView(
        event_id, household_id, display_status(row, disputes), participation.forgiven_reason, row.method,
        row.contracted_kwh, row.reduction_kwh, row.points, row.version, len(row.recipients), row.explanation,
        False, row.settled_at, row.computed_at,
        await DrSettlementAdjustment.filter(settlement_id=row.id).order_by("version"), shown)


async def _provisional(settings: Settings, event: DrEvent, participation: DrParticipation) -> SettlementView:
    opted_in = await DrParticipation.filter(event_id=event.id, opted_out=False).count()
    view = SettlementView(event.id, participation.household_id, DisplayStatus.PENDING_DATA,
                          participation.forgiven_reason, None, contracted_kwh(event, opted_in), 0.0, 0, 0, 0, {}, True)
    if event.state is DrState.ENDED:
        outcome = (await measure_households(settings, event, [participation]))[participation.household_id]
        view.method, view.reduction_kwh, view.points = outcome.method.value, outcome.reduction_kwh, outcome.points
        view.explanation = outcome.explanation
    return view
