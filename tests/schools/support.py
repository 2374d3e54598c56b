"""Builders for school tests: many students cheaply, activities, points and DR settlements."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from backend.accounts.models import Role, User
from backend.activities.models import Activity, ActivityStatus
from backend.codes import new_code
from backend.dr.models import DrEvent, DrParticipation, DrScope, DrSettlement, DrState, SettlementStatus
from backend.households.models import Household
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.service import ledger_transaction
from backend.rewards.models import Programme
from backend.schools.models import SchoolClass


async def add_students(school_class: SchoolClass, n: int, municipality_id: int, tag: str) -> list[User]:
    """``n`` students in a class, each in a household of their own (no password: never signs in)."""
    out = []
    for i in range(n):
        household = await Household.create(name=f"H {tag}{i}", invite_code=new_code(), municipality_id=municipality_id)
        out.append(await User.create(
            pseudonym=uuid.uuid4(), email=f"{tag}{i}@example.org", display_name=f"{tag}{i}", role=Role.STUDENT,
            password_hash="-", household=household, school_id=school_class.school_id, school_class=school_class))
    return out


async def add_activity(user: User, programme: Programme, on: date, kwh: str, points: int,
                       status: ActivityStatus = ActivityStatus.ACCEPTED) -> Activity:
    return await Activity.create(
        user=user, household_id=user.household_id, programme=programme, idempotency_key=str(uuid.uuid4()),
        payload_hash="0" * 64, activity_type="gaming_reduced", catalogue_version=1, params={}, occurred_on=on,
        status=status, kwh=Decimal(kwh), shifted_kwh=Decimal("0"), points=points)


async def award_points(pairs: list[tuple[User, int]], at: datetime | None = None) -> None:
    async with ledger_transaction(at) as w:
        for user, amount in pairs:
            w.add(EntryKind.AWARD, user.pseudonym, Asset.POINTS, amount, f"test-award:{uuid.uuid4()}")


async def settled_dr(municipality_id: int, household_id: int, reduction: float, contracted: float,
                     starts_at: datetime | None = None, title: str = "Past peak") -> DrSettlement:
    start = starts_at or datetime.now(UTC) - timedelta(hours=3)
    event = await DrEvent.create(title=title, scope=DrScope.MUNICIPALITY, municipality_id=municipality_id,
                                 starts_at=start, ends_at=start + timedelta(hours=1), target_kw=1.0,
                                 state=DrState.ENDED, changed_at=start)
    part = await DrParticipation.create(event=event, household_id=household_id, notified_at=start)
    return await DrSettlement.create(participation=part, event=event, household_id=household_id,
                                     status=SettlementStatus.SETTLED, contracted_kwh=contracted,
                                     reduction_kwh=reduction, points=0, computed_at=start, settled_at=start)
