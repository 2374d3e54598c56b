"""Disputes of DR settlements: a parent objects with a reason, an operator decides.

An accepted dispute sets the household's reduction to the operator's figure: a new settlement
version with ADJUSTMENT legs for the change in points, never an edit. Restatement leaves a
settlement alone once a dispute of it was accepted (the operator's figure stands).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from backend.accounts.models import Role
from backend.accounts.principal import Principal
from backend.dr.measure import event_hours, points_for
from backend.dr.models import (
    AdjustmentCause,
    DisputeStatus,
    DrDispute,
    DrEvent,
    DrParticipation,
    DrSettlement,
    SettlementStatus,
)
from backend.dr.settlement import add_version, rules_for
from backend.errors import AlreadyExists, NotAllowed, ValidationFailed
from backend.ledger.service import ledger_transaction
from backend.settings import Settings

REASON_MIN = 10
REASON_MAX = 1000
MAX_ADJUSTED_KWH = 1000.0


def _clean(text: str, field: str, minimum: int) -> str:
    cleaned = str(text).strip()
    if not minimum <= len(cleaned) <= REASON_MAX:
        raise ValidationFailed(field, f"Give a reason of {minimum} to {REASON_MAX} characters.")
    return cleaned


async def raise_dispute(principal: Principal, event_id: int, household_id: int, reason: str,
                        now: datetime | None = None) -> DrDispute:
    """A parent of the household disputes its settlement of an event."""
    if principal.role is not Role.PARENT or principal.household_id != household_id:
        raise NotAllowed("Only a parent of this household can dispute its settlement.")
    cleaned = _clean(reason, "reason", REASON_MIN)
    if not await DrParticipation.filter(event_id=event_id, household_id=household_id, opted_out=False).exists():
        raise ValidationFailed("eventId", "Your household did not take part in this event.")
    settlement = await DrSettlement.get_or_none(event_id=event_id, household_id=household_id)
    if settlement is None:
        raise ValidationFailed("eventId", "This event is not settled yet for your household: there is nothing to "
                                          "dispute until its data is complete.")
    if await DrDispute.filter(open_key=settlement.id).exists():
        raise AlreadyExists("eventId", "Your household already has an open dispute of this settlement.")
    try:
        return await DrDispute.create(settlement_id=settlement.id, open_key=settlement.id, raised_by_id=principal.user_id,
                                      reason=cleaned, created_at=now or datetime.now(UTC))
    except IntegrityError:
        raise AlreadyExists("eventId", "Your household already has an open dispute of this settlement.") from None


async def resolve_dispute(settings: Settings, principal: Principal, dispute_id: int, *, accept: bool,
                          reason: str, adjusted_kwh: float | None = None, now: datetime | None = None) -> DrDispute:
    """An operator accepts (with the household's reduction in kWh) or rejects a dispute."""
    if not principal.is_operator:
        raise NotAllowed("Only operators resolve disputes.")
    cleaned = _clean(reason, "reason", 1)
    if accept and (adjusted_kwh is None or not math.isfinite(adjusted_kwh)
                   or not 0 <= adjusted_kwh <= MAX_ADJUSTED_KWH):
        raise ValidationFailed("adjustedKwh", f"Accepting needs the reduction in kWh (0 to {MAX_ADJUSTED_KWH:g}).")
    now = now or datetime.now(UTC)
    if not await DrDispute.filter(id=dispute_id).exists():
        raise ValidationFailed("disputeId", "No such dispute.")
    async with ledger_transaction(now) as w:
        dispute = await DrDispute.filter(id=dispute_id).using_db(w.conn).select_for_update().get()
        if dispute.status is not DisputeStatus.OPEN:
            raise AlreadyExists("disputeId", "This dispute was already resolved.")
        row = await DrSettlement.filter(id=dispute.settlement_id).using_db(w.conn).select_for_update().get()
        if accept:
            assert adjusted_kwh is not None
            event = await DrEvent.get(id=row.event_id).using_db(w.conn)
            hours = event_hours(event.starts_at, event.ends_at, settings.display_timezone)
            rules = await rules_for(row.household_id, hours) if hours else None
            points, why = points_for(adjusted_kwh, rules) if rules else (0, "")
            explanation = {**row.explanation, "dispute_override": {
                "dispute_id": dispute.id, "adjusted_kwh": adjusted_kwh, "resolution": cleaned}, "points_reason": why}
            status = SettlementStatus.SETTLED if row.status is SettlementStatus.INSUFFICIENT_DATA else row.status
            await add_version(w, row, cause=AdjustmentCause.DISPUTE, status=status, reduction_kwh=adjusted_kwh,
                              points=points, explanation=explanation, computed_at=row.computed_at,
                              note=f"dispute {dispute.id} accepted: {cleaned}")
        dispute.status = DisputeStatus.ACCEPTED if accept else DisputeStatus.REJECTED
        dispute.open_key = None
        dispute.resolved_by_id = principal.user_id
        dispute.resolved_at = now
        dispute.resolution = cleaned
        dispute.adjusted_kwh = adjusted_kwh if accept else None
        await dispute.save(using_db=w.conn, update_fields=["status", "open_key", "resolved_by_id", "resolved_at",
                                                           "resolution", "adjusted_kwh"])
    return dispute


async def open_disputes(principal: Principal, limit: int = 200) -> list[DrDispute]:
    if not principal.is_operator:
        raise NotAllowed("Only operators see the disputes waiting for a decision.")
    return await DrDispute.filter(status=DisputeStatus.OPEN).order_by("created_at", "id").limit(limit)
