"""Queries and mutations of best cases and prizes."""

from __future__ import annotations

from datetime import date

import strawberry


from backend.codes import local_today
from backend.errors import NotAllowed as NotAllowedError
from backend.errors import ValidationFailed as ValidationFailedError
from backend.graphql.context import Info
from backend.graphql.errors import AlreadyExists, LimitReached, NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors
from backend.ledger.entries import Asset
from backend.schools import awards
from backend.schools.award_types import (
    Award,
    EvidenceInput,
    MyAward,
    MyAwardList,
    Nomination,
    NominationList,
    NomineeKind,
    PrizeAsset,
    PrizeBudget,
    PrizeBudgetList,
)
from backend.schools.models import Nomination as NominationModel
from backend.schools.models import PrizeBudget as PrizeBudgetModel
from backend.schools.models import School as SchoolModel
from backend.schools.periods import PeriodKind
from backend.schools.score_types import ScorePeriod
from backend.schools.scoreboard import period_day
from backend.schools.won_awards import won_awards

NominationResult = result_union("NominationResult", Nomination, NotAllowed, ValidationFailed)
NominationListResult = result_union("NominationListResult", NominationList, NotAllowed, ValidationFailed)
AwardResult = result_union("AwardResult", Award, NotAllowed, ValidationFailed, AlreadyExists, LimitReached)
PrizeBudgetResult = result_union("PrizeBudgetResult", PrizeBudget, NotAllowed, ValidationFailed, LimitReached)
PrizeBudgetListResult = result_union("PrizeBudgetListResult", PrizeBudgetList, NotAllowed, ValidationFailed)
MyAwardListResult = result_union("MyAwardListResult", MyAwardList, NotAllowed)


async def _school_for_staff(info: Info, school_id: strawberry.ID) -> SchoolModel:
    principal = require_principal(info)
    school = await SchoolModel.get_or_none(id=parse_id(school_id, "schoolId"))
    if school is None or not (principal.can_view_school_people(school.id)
                              or principal.can_view_municipality_data(school.municipality_id)):
        raise NotAllowedError("Only the school's staff, its city's officers or operators see its prizes.")
    return school


def _ids(values: list[strawberry.ID], field: str) -> list[int]:
    return [parse_id(v, field) for v in values]


@strawberry.type
class AwardQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Awards the caller won, and a guardian's children won, withdrawn ones marked.")
    @returns_errors
    async def my_awards(self, info: Info) -> MyAwardListResult:
        return MyAwardList(items=[MyAward.of(won, info) for won in await won_awards(require_principal(info))])

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="A school's nominations with their awards (its staff, its city's officers, operators).")
    @returns_errors
    async def nominations(self, info: Info, school_id: strawberry.ID, status: str | None = None) -> NominationListResult:
        school = await _school_for_staff(info, school_id)
        query = NominationModel.filter(school_id=school.id)
        if status is not None:
            query = query.filter(status=status[:10])
        rows = await query.order_by("-created_at", "-id").limit(200)
        return NominationList(items=[await Nomination.of(n, info) for n in rows])

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Prize budgets a school may award from: its own and its municipality's.")
    @returns_errors
    async def prize_budgets(self, info: Info, school_id: strawberry.ID) -> PrizeBudgetListResult:
        school = await _school_for_staff(info, school_id)
        rows = await PrizeBudgetModel.filter(municipality_id=school.municipality_id).order_by("id")
        return PrizeBudgetList(items=[await PrizeBudget.of(b) for b in rows
                                      if b.school_id in (None, school.id)])


@strawberry.type
class AwardMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Fund a prize budget: a school admin for the school (points), an officer for "
                                     "the municipality (points, or coins charged to the programme).")
    @returns_errors
    async def create_prize_budget(self, info: Info, name: str, asset: PrizeAsset, amount: int,
                                  school_id: strawberry.ID | None = None,
                                  municipality_id: strawberry.ID | None = None) -> PrizeBudgetResult:
        clean = " ".join(name.split())[:120]
        if not clean:
            raise ValidationFailedError("name", "Name the budget.")
        budget = await awards.create_budget(
            require_principal(info), info.context.settings.display_timezone, clean, Asset(asset.value), amount,
            school_id=None if school_id is None else parse_id(school_id, "schoolId"),
            municipality_id=None if municipality_id is None else parse_id(municipality_id, "municipalityId"))
        return await PrizeBudget.of(budget)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="A teacher nominates a student, family or class of their school.")
    @returns_errors
    async def nominate(self, info: Info, nominee_kind: NomineeKind, nominee_id: strawberry.ID, category: str,
                       reason: str, period: ScorePeriod = ScorePeriod.MONTH, on: date | None = None,
                       evidence: EvidenceInput | None = None) -> NominationResult:
        ev = evidence or EvidenceInput()
        day = period_day(on, local_today(info.context.settings.display_timezone))
        row = await awards.nominate(
            require_principal(info), nominee_kind.value, parse_id(nominee_id, "nomineeId"), category[:40],
            PeriodKind(period.value), day, reason[:2_000],
            {"activityIds": _ids(ev.activity_ids, "activityIds"), "photoIds": _ids(ev.photo_ids, "photoIds"),
             "drEventId": None if ev.dr_event_id is None else parse_id(ev.dr_event_id, "drEventId")})
        return await Nomination.of(row, info)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="The school admin awards a nomination: amount from a budget, or an honour.")
    @returns_errors
    async def award_nomination(self, info: Info, nomination_id: strawberry.ID, budget_id: strawberry.ID | None = None,
                               amount: int = 0) -> AwardResult:
        row = await awards.award(require_principal(info), parse_id(nomination_id, "nominationId"),
                                 None if budget_id is None else parse_id(budget_id, "budgetId"), amount)
        return Award.of(row, info)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Withdraw an award: adjustment entries return the prize to its budget.")
    @returns_errors
    async def withdraw_award(self, info: Info, award_id: strawberry.ID, reason: str) -> AwardResult:
        row = await awards.withdraw(require_principal(info), parse_id(award_id, "awardId"), reason[:400])
        return Award.of(row, info)



