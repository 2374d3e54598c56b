"""Team pooling of a settled event within a school class (a team).

The team is the households with a student in the class that took part and were settled with a
measured reduction (status settled; forgiven households owe nothing and households with
insufficient data have no figure, so both are left out and counted). Each member's contracted
reduction is its settlement's share of the event target (target kW x hours / opted-in
households); :func:`backend.savings.pooling.pool` lets over-performers cover shortfalls. Points
are not moved: they already pay each household's own measured kWh, and there are no penalties,
so pooling decides the team's delivery rate (and who counts as having delivered).
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.accounts.models import Role, User
from backend.accounts.principal import HOUSEHOLD_ROLES, Principal
from backend.dr.models import DrEvent, DrSettlement, SettlementStatus
from backend.errors import NotAllowed, ValidationFailed
from backend.savings.pooling import Member, PoolingResult, pool
from backend.schools.models import SchoolClass

NOT_ALLOWED = "You cannot see this class's delivery."


@dataclass(frozen=True)
class TeamDelivery:
    event_id: int
    class_id: int
    households_pooled: int
    households_forgiven: int
    households_insufficient: int
    result: PoolingResult | None  # None when no household of the class was settled with a figure


async def class_households(class_id: int) -> set[int]:
    rows = await User.filter(school_class_id=class_id, role=Role.STUDENT, household_id__isnull=False).values_list(
        "household_id", flat=True)
    return set(rows)


async def team_delivery(event_id: int, class_id: int) -> TeamDelivery:
    households = await class_households(class_id)
    rows = await DrSettlement.filter(event_id=event_id, household_id__in=list(households)).order_by("household_id")
    pooled = [r for r in rows if r.status is SettlementStatus.SETTLED and r.contracted_kwh > 0]
    result = pool([Member(str(r.household_id), r.contracted_kwh, r.reduction_kwh) for r in pooled]) if pooled else None
    return TeamDelivery(event_id, class_id, len(pooled),
                        sum(1 for r in rows if r.status is SettlementStatus.FORGIVEN),
                        sum(1 for r in rows if r.status is SettlementStatus.INSUFFICIENT_DATA), result)


async def visible_team_delivery(principal: Principal, event_id: int, class_id: int,
                                min_households: int) -> TeamDelivery:
    """Teachers of the class (a teacher without a class: the school's), its school's admins and
    operators; a household of the class only when at least ``min_households`` are pooled."""
    school_class = await SchoolClass.get_or_none(id=class_id)
    event = await DrEvent.get_or_none(id=event_id)
    if school_class is None or event is None:
        raise NotAllowed(NOT_ALLOWED)
    staff = principal.is_operator or (
        principal.school_id == school_class.school_id
        and (principal.role is Role.SCHOOL_ADMIN
             or (principal.role is Role.TEACHER and principal.school_class_id in (None, class_id))))
    member = (principal.role in HOUSEHOLD_ROLES and principal.household_id is not None
              and principal.household_id in await class_households(class_id))
    if not (staff or member):
        raise NotAllowed(NOT_ALLOWED)
    delivery = await team_delivery(event_id, class_id)
    if not staff and delivery.households_pooled < min_households:
        raise NotAllowed(f"A class's figure is shown to households only when at least {min_households} "
                         "households are counted, so no family can be singled out.")
    if delivery.result is None and delivery.households_forgiven + delivery.households_insufficient == 0:
        raise ValidationFailed("classId", "No household of this class has been settled for this event.")
    return delivery
