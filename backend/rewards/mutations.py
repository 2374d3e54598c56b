"""Mutations of the rewards domain."""

from __future__ import annotations

from datetime import date

import strawberry

from backend.accounts.validation import clean_name
from backend.graphql.context import Info
from backend.graphql.errors import (
    result_union,
    AlreadyExists,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidRedemptionCode,
    LimitReached,
    NotAllowed,
    ValidationFailed,
)
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors
from backend.graphql.scalars import to_display
from backend.ledger.entries import Asset
from backend.rewards import programmes, redemption, service
from backend.rewards.types import (
    BalanceAdjusted,
    CoinsRedeemed,
    Conversion,
    ConversionTarget,
    Programme,
    RedemptionCodeIssued,
)

_CONVERSION_ERRORS = (ValidationFailed, LimitReached, InsufficientBalance, IdempotencyConflict, NotAllowed)
ConversionResult = result_union("ConversionResult", Conversion, *_CONVERSION_ERRORS)
RedemptionCodeResult = result_union("RedemptionCodeResult", RedemptionCodeIssued, ValidationFailed,
                                    InsufficientBalance, NotAllowed)
RedeemResult = result_union("RedeemResult", CoinsRedeemed, InvalidRedemptionCode, InsufficientBalance, NotAllowed)
ProgrammeResult = result_union("ProgrammeResult", Programme, ValidationFailed, AlreadyExists, NotAllowed)
AdjustResult = result_union("AdjustResult", BalanceAdjusted, ValidationFailed, InsufficientBalance,
                            IdempotencyConflict, NotAllowed)

AssetEnum = strawberry.enum(Asset, name="Asset")


def _conversion(outcome: service.ConversionOutcome) -> Conversion:
    return Conversion(
        target=str(outcome.target), debited_asset=str(outcome.debited_asset), debited=outcome.debited,
        credited_asset=str(outcome.credited_asset), credited=outcome.credited, scope=outcome.scope,
        seq=outcome.seq, reason=outcome.reason, replayed=outcome.replayed,
    )


@strawberry.input
class CreateProgrammeInput:
    municipality_id: strawberry.ID
    name: str
    year: int
    starts_on: date
    ends_on: date
    coin_budget_won: int
    rules_year: int | None = None


@strawberry.type
class RewardMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Points -> volunteer minutes (students of an enrolled school) or -> mileage.")
    @returns_errors
    async def convert_points(self, info: Info, idempotency_key: str, target: ConversionTarget,
                             points: int) -> ConversionResult:
        outcome = await service.convert_points(require_principal(info), info.context.settings,
                                               idempotency_key[:100], service.ConversionTarget(target.value), points)
        return _conversion(outcome)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Mileage -> local coins of the household's municipality, from the threshold.")
    @returns_errors
    async def convert_mileage_to_coins(self, info: Info, idempotency_key: str) -> ConversionResult:
        outcome = await service.convert_mileage_to_coins(require_principal(info), info.context.settings,
                                                         idempotency_key[:100])
        return _conversion(outcome)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="A one-time code for an officer to redeem the holder's coins.")
    @returns_errors
    async def create_redemption_code(self, info: Info, municipality_id: strawberry.ID,
                                     amount_won: int) -> RedemptionCodeResult:
        issued = await redemption.create_code(require_principal(info), info.context.settings,
                                              parse_id(municipality_id, "municipalityId"), amount_won)
        return RedemptionCodeIssued(code=issued.code, amount_won=issued.amount_won,
                                    municipality_id=strawberry.ID(str(issued.municipality.id)),
                                    municipality_code=issued.municipality.code,
                                    expires_at=to_display(issued.expires_at, info.context.settings.display_timezone))

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Officer: redeem coins with a holder's code.")
    @returns_errors
    async def redeem_coins(self, info: Info, code: str) -> RedeemResult:
        done = await redemption.redeem(require_principal(info), info.context.settings, code[:64])
        return CoinsRedeemed(amount_won=done.amount_won, municipality_id=strawberry.ID(str(done.municipality.id)),
                             municipality_code=done.municipality.code,
                             redeemed_at=to_display(done.redeemed_at, info.context.settings.display_timezone),
                             seq=done.seq, holder_reference=done.holder_reference)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    @returns_errors
    async def create_programme(self, info: Info, input: CreateProgrammeInput) -> ProgrammeResult:
        programme = await programmes.create_programme(
            require_principal(info), parse_id(input.municipality_id, "municipalityId"),
            clean_name(input.name, "name", 120), input.year, input.starts_on, input.ends_on,
            input.coin_budget_won, input.rules_year,
        )
        return Programme.from_model(programme)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Enrol a school so its students can earn volunteer hours through the programme.")
    @returns_errors
    async def enrol_school(self, info: Info, programme_id: strawberry.ID, school_id: strawberry.ID) -> ProgrammeResult:
        enrolment = await programmes.enrol_school(require_principal(info), parse_id(programme_id, "programmeId"),
                                                  parse_id(school_id, "schoolId"))
        return Programme.from_model(await enrolment.programme)

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Operator: an adjustment entry.")
    @returns_errors
    async def adjust_balance(self, info: Info, idempotency_key: str, user_id: strawberry.ID, asset: AssetEnum,
                             amount: int, reason: str, scope: str = "") -> AdjustResult:
        seq = await service.adjust_balance(require_principal(info), idempotency_key[:100],
                                           parse_id(user_id, "userId"), Asset(asset.value), amount, reason[:200],
                                           scope[:20])
        return BalanceAdjusted(seq=seq, amount=amount, asset=str(asset.value))
