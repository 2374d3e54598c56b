"""GraphQL of the officer's counter and the coin programme dashboard."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from backend.codes import local_today
from backend.graphql.access import public_type
from backend.graphql.context import Info
from backend.graphql.errors import InvalidRedemptionCode, NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors
from backend.graphql.scalars import to_display
from backend.municipalities import counter


@public_type
@strawberry.type(description="A code looked at before redeeming: confirm with redeemCoins(code).")
class RedemptionPreview:
    code: str
    amount_won: int
    holder_reference: str = strawberry.field(description="First characters of the holder's pseudonym")
    municipality_id: strawberry.ID
    expires_at: datetime
    state: str = strawberry.field(description="valid, expired or already_used")


@public_type
@strawberry.type
class RedemptionLine:
    redeemed_at: datetime
    amount_won: int
    holder_reference: str
    officer: str


@public_type
@strawberry.type(description="One local day's redemptions at the municipality's counters.")
class RedemptionDay:
    day: date
    count: int
    total_won: int
    items: list[RedemptionLine]


@public_type
@strawberry.type
class SchoolCoinFigures:
    school_id: strawberry.ID
    school_name: str
    issued_won: int = strawberry.field(description="Coins credited to the school's students")
    redeemed_won: int


@public_type
@strawberry.type(description="A coin programme's budget and liability: issued minus redeemed is outstanding.")
class CoinProgrammeDashboard:
    programme_id: strawberry.ID
    year: int
    budget_won: int
    issued_won: int
    redeemed_won: int
    outstanding_won: int
    remaining_budget_won: int
    schools: list[SchoolCoinFigures]


PreviewResult = result_union("RedemptionPreviewResult", RedemptionPreview, NotAllowed, ValidationFailed, InvalidRedemptionCode)
DayResult = result_union("RedemptionDayResult", RedemptionDay, NotAllowed, ValidationFailed)
DashboardResult = result_union("CoinProgrammeDashboardResult", CoinProgrammeDashboard, NotAllowed, ValidationFailed)


@strawberry.type
class CounterQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Officer: what a code is worth and whose, typed or read from a photo of its QR "
                                  "code (base64 JPEG/PNG); nothing is redeemed.")
    @returns_errors
    async def redemption_preview(self, info: Info, code: str | None = None,
                                 image_base64: str | None = None) -> PreviewResult:
        p = await counter.preview(require_principal(info), info.context.settings.signing_key, code, image_base64)
        return RedemptionPreview(code=p.code, amount_won=p.amount_won, holder_reference=p.holder_reference,
                                 municipality_id=strawberry.ID(str(p.municipality.id)),
                                 expires_at=to_display(p.expires_at, info.context.settings.display_timezone),
                                 state=p.state)

    @strawberry.field(permission_classes=[IsAuthenticated], description="Officer: a day's redemptions (today by default).")
    @returns_errors
    async def redemptions(self, info: Info, day: date | None = None) -> DayResult:
        tz = info.context.settings.display_timezone
        day = day or local_today(tz)
        lines = await counter.day_list(require_principal(info), day, tz)
        return RedemptionDay(day=day, count=len(lines), total_won=sum(l.amount_won for l in lines), items=[
            RedemptionLine(redeemed_at=to_display(l.redeemed_at, tz), amount_won=l.amount_won,
                           holder_reference=l.holder_reference, officer=l.officer) for l in lines])

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The coin programme of a municipality and year: budget, issued, redeemed, "
                                  "outstanding liability, per school (its officers, operators).")
    @returns_errors
    async def coin_programme(self, info: Info, municipality_id: strawberry.ID,
                             year: int | None = None) -> DashboardResult:
        year = year or local_today(info.context.settings.display_timezone).year
        d = await counter.dashboard(require_principal(info), parse_id(municipality_id, "municipalityId"), year)
        return CoinProgrammeDashboard(
            programme_id=strawberry.ID(str(d.programme.id)), year=d.programme.year, budget_won=d.budget_won,
            issued_won=d.issued_won, redeemed_won=d.redeemed_won, outstanding_won=d.outstanding_won,
            remaining_budget_won=d.budget_won - d.issued_won,
            schools=[SchoolCoinFigures(school_id=strawberry.ID(str(s.school.id)), school_name=s.school.name,
                                       issued_won=s.issued_won, redeemed_won=s.redeemed_won) for s in d.schools])
