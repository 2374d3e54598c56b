"""GraphQL types of prizes: budgets, nominations and awards (reached only through scoped queries)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from backend.graphql.access import public_type
from backend.graphql.context import Info
from backend.graphql.scalars import to_display
from backend.schools import awards
from backend.schools.models import Award as AwardModel
from backend.schools.models import Nomination as NominationModel
from backend.schools.models import PrizeBudget as PrizeBudgetModel
from backend.schools.score_types import PeriodRange
from backend.schools.won_awards import WonAward


@strawberry.enum
class NomineeKind(Enum):
    STUDENT = "student"
    FAMILY = "family"
    CLASS = "class"


@strawberry.enum
class PrizeAsset(Enum):
    POINTS = "points"
    COINS_WON = "coins_won"


@strawberry.input
class EvidenceInput:
    activity_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    photo_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    dr_event_id: strawberry.ID | None = None


@public_type
@strawberry.type(description="A prize pot of a school or municipality, a ledger account of its own.")
class PrizeBudget:
    id: strawberry.ID
    name: str
    asset: str
    funded: int
    remaining: int = strawberry.field(description="The budget account's ledger balance")
    school_id: strawberry.ID | None
    municipality_id: strawberry.ID
    ledger_account: str = strawberry.field(description="The budget's pseudonymous ledger account")

    @classmethod
    async def of(cls, b: PrizeBudgetModel) -> PrizeBudget:
        return cls(id=strawberry.ID(str(b.id)), name=b.name, asset=b.asset, funded=b.funded,
                   remaining=await awards.budget_balance(b),
                   school_id=None if b.school_id is None else strawberry.ID(str(b.school_id)),
                   municipality_id=strawberry.ID(str(b.municipality_id)), ledger_account=str(b.account))


@public_type
@strawberry.type(description="An award and where its ledger legs start (verify with ledgerInclusionProof).")
class Award:
    id: strawberry.ID
    nomination_id: strawberry.ID
    asset: str
    amount: int
    honour: bool
    budget_id: strawberry.ID | None
    recipients: int
    first_seq: int
    awarded_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str | None

    @classmethod
    def of(cls, a: AwardModel, info: Info) -> Award:
        tz = info.context.settings.display_timezone
        return cls(id=strawberry.ID(str(a.id)), nomination_id=strawberry.ID(str(a.nomination_id)), asset=a.asset,
                   amount=a.amount, honour=a.budget_id is None,
                   budget_id=None if a.budget_id is None else strawberry.ID(str(a.budget_id)),
                   recipients=len(a.recipients), first_seq=a.first_seq, awarded_at=to_display(a.awarded_at, tz),
                   withdrawn_at=to_display(a.withdrawn_at, tz), withdrawn_reason=a.withdrawn_reason)


@public_type
@strawberry.type
class Nomination:
    id: strawberry.ID
    nominee_kind: NomineeKind
    nominee_id: strawberry.ID
    nominee_name: str
    category: str
    period_kind: str
    period_start: date
    reason: str
    activity_ids: list[strawberry.ID]
    photo_ids: list[strawberry.ID]
    dr_event_id: strawberry.ID | None
    status: str
    created_at: datetime
    award: Award | None

    @classmethod
    async def of(cls, n: NominationModel, info: Info) -> Nomination:
        row = await AwardModel.get_or_none(nomination_id=n.id)
        ev = n.evidence or {}
        return cls(id=strawberry.ID(str(n.id)), nominee_kind=NomineeKind(n.nominee_kind),
                   nominee_id=strawberry.ID(str(n.nominee_id)),
                   nominee_name=await awards.nominee_name(n.nominee_kind, n.nominee_id), category=n.category,
                   period_kind=n.period_kind, period_start=n.period_start, reason=n.reason,
                   activity_ids=[strawberry.ID(str(i)) for i in ev.get("activityIds", [])],
                   photo_ids=[strawberry.ID(str(i)) for i in ev.get("photoIds", [])],
                   dr_event_id=None if ev.get("drEventId") is None else strawberry.ID(str(ev["drEventId"])),
                   status=n.status, created_at=to_display(n.created_at, info.context.settings.display_timezone),
                   award=Award.of(row, info) if row else None)


@public_type
@strawberry.type
class NominationList:
    items: list[Nomination]


@public_type
@strawberry.type
class PrizeBudgetList:
    items: list[PrizeBudget]


@public_type
@strawberry.type(description="An award the caller or their child won, as the winners see it (reached only through "
                             "myAwards): no budget, staff or evidence.")
class MyAward:
    id: strawberry.ID
    category: str
    nominee_kind: NomineeKind
    nominee_name: str = strawberry.field(description="The student, the family (household) or the class awarded")
    winners: list[str] = strawberry.field(description="The caller and their children among the recipients")
    winner_ids: list[strawberry.ID] = strawberry.field(description="Their user ids, in the same order")
    school_name: str
    period: PeriodRange
    reason: str = strawberry.field(description="The nomination's reason, shown to the winners")
    asset: str = strawberry.field(description="points, coins_won or honours")
    amount: int = strawberry.field(description="The whole prize (0 for an honour), shared by all recipients")
    honour: bool
    my_share: int = strawberry.field(description="What the caller and their children received (0 for an honour)")
    ledger_seqs: list[int] = strawberry.field(description="The ledger legs that credited them (ledgerInclusionProof)")
    awarded_at: datetime
    withdrawn: bool
    withdrawn_at: datetime | None
    withdrawn_reason: str | None = strawberry.field(description="As in the withdrawal's ledger memo")

    @classmethod
    def of(cls, won: WonAward, info: Info) -> MyAward:
        tz, a, n = info.context.settings.display_timezone, won.award, won.nomination
        return cls(id=strawberry.ID(str(a.id)), category=n.category, nominee_kind=NomineeKind(n.nominee_kind),
                   nominee_name=won.nominee_name, winners=[u.display_name for u in won.winners],
                   winner_ids=[strawberry.ID(str(u.id)) for u in won.winners], school_name=won.school,
                   period=PeriodRange.of(won.period), reason=n.reason, asset=a.asset,
                   amount=0 if a.budget_id is None else a.amount, honour=a.budget_id is None, my_share=won.share,
                   ledger_seqs=list(won.seqs), awarded_at=to_display(a.awarded_at, tz),
                   withdrawn=a.withdrawn_at is not None, withdrawn_at=to_display(a.withdrawn_at, tz),
                   withdrawn_reason=a.withdrawn_reason)


@public_type
@strawberry.type
class MyAwardList:
    items: list[MyAward]
