"""GraphQL types of the rewards domain: wallets, conversions, redemption, programmes."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from backend.graphql.access import public_type, visible
from backend.graphql.context import Info
from backend.graphql.scalars import to_display
from backend.rewards.models import Programme as ProgrammeModel

if TYPE_CHECKING:
    from backend.municipalities.types import Municipality


@strawberry.enum
class ConversionTarget(Enum):
    VOLUNTEER_MINUTES = "volunteer_minutes"
    MILEAGE = "mileage"


@public_type
@strawberry.type
class CoinBalance:
    municipality_id: strawberry.ID = strawberry.field(description="What createRedemptionCode takes")
    municipality_code: str
    municipality_name: str
    won: int


@public_type
@strawberry.type(description="One ledger leg of the holder, with what a verifier needs.")
class LedgerLine:
    seq: int = strawberry.field(description="Position in the ledger (the Merkle leaf index)")
    kind: str
    asset: str
    scope: str
    amount: int
    recorded_at: datetime
    memo: str
    leaf_hash: str = strawberry.field(description="Hex RFC 9162 leaf hash")
    leaf_data: str = strawberry.field(description="The exact leaf bytes (canonical JSON) that were hashed")


@public_type
@strawberry.type(description="Balances derived from the ledger, with full history.")
class Wallet:
    points: int
    volunteer_minutes: int
    volunteer_hours: int = strawberry.field(description="Whole hours for the school records system (NEIS)")
    mileage_won: int
    coins: list[CoinBalance]
    balances_match_ledger: bool = strawberry.field(
        description="The materialised balances equal the sum of the holder's entries")
    history: list[LedgerLine]


@public_type
@strawberry.type
class Conversion:
    target: str
    debited_asset: str
    debited: int
    credited_asset: str
    credited: int
    scope: str
    seq: int
    reason: str
    replayed: bool


@public_type
@strawberry.type(description="Show this to an officer (as text or QR code) before it expires.")
class RedemptionCodeIssued:
    code: str
    amount_won: int
    municipality_id: strawberry.ID
    municipality_code: str
    expires_at: datetime


@public_type
@strawberry.type
class CoinsRedeemed:
    amount_won: int
    municipality_id: strawberry.ID
    municipality_code: str
    redeemed_at: datetime
    seq: int
    holder_reference: str = strawberry.field(description="First characters of the holder's pseudonym, for the receipt")


@public_type
@strawberry.type
class BalanceAdjusted:
    seq: int
    amount: int
    asset: str


@strawberry.type(description="A municipality's programme year: rules, dates, coin budget and enrolled schools.")
class Programme:
    id: strawberry.ID = visible()
    name: str = visible()
    year: int = visible()
    rules_year: int = visible()
    starts_on: date = visible()
    ends_on: date = visible()
    coin_budget_won: int = visible()
    coins_issued_won: int = visible()
    model: strawberry.Private[ProgrammeModel]

    @classmethod
    def from_model(cls, p: ProgrammeModel) -> Programme:
        return cls(id=strawberry.ID(str(p.id)), name=p.name, year=p.year, rules_year=p.rules_year,
                   starts_on=p.starts_on, ends_on=p.ends_on, coin_budget_won=p.coin_budget_won,
                   coins_issued_won=p.coins_issued_won, model=p)

    @visible()
    async def municipality(self, info: Info) -> Annotated[Municipality, strawberry.lazy("backend.municipalities.types")]:
        from backend.municipalities.types import Municipality

        return Municipality.from_model(await self.model.municipality)

    @visible()
    async def enrolled_school_ids(self) -> list[strawberry.ID]:
        ids = await self.model.enrolments.all().order_by("school_id").values_list("school_id", flat=True)
        return [strawberry.ID(str(i)) for i in ids]

    @visible()
    def created_at(self, info: Info) -> datetime | None:
        return to_display(self.model.created_at, info.context.settings.display_timezone)
