"""Queries of the rewards domain."""

from __future__ import annotations


import strawberry

from backend.accounts.models import User as UserModel
from backend.activities.queries import target_user_id
from backend.errors import ValidationFailed as ValidationFailedError
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id_argument, returns_errors
from backend.graphql.scalars import to_display
from backend.ledger.entries import Asset
from backend.municipalities.models import Municipality as MunicipalityModel
from backend.rewards.models import Programme as ProgrammeModel
from backend.rewards.types import CoinBalance, LedgerLine, Programme, Wallet
from backend.rewards.wallet import wallet_of

WalletResult = result_union("WalletResult", Wallet, NotAllowed, ValidationFailed)


@strawberry.type
class RewardQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Points, volunteer time, mileage and coins with history: one's own, a child's "
                                  "(guardians) or anyone's (operators).")
    @returns_errors
    async def wallet(self, info: Info, user_id: strawberry.ID | None = None, history_limit: int = 100) -> WalletResult:
        owner = await target_user_id(info, user_id, "a wallet")
        if not 1 <= history_limit <= 1_000:
            raise ValidationFailedError("historyLimit", "historyLimit must be between 1 and 1000.")
        user = await UserModel.get_or_none(id=owner)
        if user is None:
            raise ValidationFailedError("userId", "No such user.")
        view = await wallet_of(user.pseudonym, history_limit)
        tz = info.context.settings.display_timezone
        municipalities = {m.code: m for m in await MunicipalityModel.filter(code__in=list(view.coins))}
        minutes = view.amount(Asset.VOLUNTEER_MINUTES)
        return Wallet(
            points=view.amount(Asset.POINTS), volunteer_minutes=minutes, volunteer_hours=max(minutes, 0) // 60,
            mileage_won=view.amount(Asset.MILEAGE_WON),
            coins=[CoinBalance(municipality_id=strawberry.ID(str(municipalities[code].id)) if code in municipalities
                               else strawberry.ID("0"), municipality_code=code,
                               municipality_name=municipalities[code].name if code in municipalities else code,
                               won=won) for code, won in view.coins.items()],
            balances_match_ledger=view.balances_match_ledger,
            history=[LedgerLine(seq=r.seq, kind=str(r.kind), asset=str(r.asset), scope=r.scope, amount=r.amount,
                                recorded_at=to_display(r.recorded_at, tz), memo=r.memo, leaf_hash=r.leaf_hash,
                                leaf_data=data) for r, data in view.history],
        )

    @strawberry.field(permission_classes=[IsAuthenticated], description="Programmes, optionally of one municipality.")
    async def programmes(self, info: Info, municipality_id: strawberry.ID | None = None) -> list[Programme]:
        query = ProgrammeModel.all().order_by("-year", "name")
        if municipality_id is not None:
            query = query.filter(municipality_id=parse_id_argument(municipality_id, "municipalityId"))
        return [Programme.from_model(p) for p in await query]
