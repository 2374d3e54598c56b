"""Converting a holder's points into volunteer minutes or mileage, and mileage into local coins.

Each conversion is one ledger transaction of two legs (a debit and a credit) made under the
ledger lock, so balance and cap checks see every earlier write. The client's idempotency key is
part of the legs' refs: a retried request returns the first result instead of converting twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from backend.accounts.models import User
from backend.accounts.principal import HOUSEHOLD_ROLES, Principal
from backend.errors import (
    IdempotencyConflict,
    InsufficientBalance,
    LimitReached,
    NotAllowed,
    ValidationFailed,
)
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import LedgerEntry
from backend.ledger.service import LedgerWriter, ledger_transaction
from backend.municipalities.models import Municipality
from backend.rewards import formula
from backend.rewards.models import Programme
from backend.rewards.programmes import (
    household_programme,
    local_date,
    local_day_bounds,
    local_month_bounds,
    school_programme,
)
from backend.settings import Settings

KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class ConversionTarget(StrEnum):
    VOLUNTEER_MINUTES = "volunteer_minutes"
    MILEAGE = "mileage"
    COINS = "coins"


@dataclass(frozen=True)
class ConversionOutcome:
    target: ConversionTarget
    debited_asset: Asset
    debited: int
    credited_asset: Asset
    credited: int
    scope: str
    seq: int  # sequence number of the credit leg
    reason: str
    replayed: bool


def check_idempotency_key(key: str) -> str:
    if not 8 <= len(key) <= 64 or not set(key) <= KEY_CHARS:
        raise ValidationFailed("idempotencyKey", "Use 8 to 64 letters, digits, '-' or '_' (a UUID works).")
    return key


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


async def _holder(principal: Principal) -> User:
    if principal.role not in HOUSEHOLD_ROLES:
        raise NotAllowed("Only students and parents hold points.")
    return principal.user or await User.get(id=principal.user_id)


async def _replay(ref_base: str, request: str, target: ConversionTarget,
                  conn: BaseDBAsyncClient | None = None) -> ConversionOutcome | None:
    """The first result of this idempotency key, if any. Called once without the ledger lock
    (the cheap path for a retry) and again under it, where it is authoritative: a request
    sent twice at once waits for the first and then replays it."""
    query = LedgerEntry.filter(ref__startswith=f"{ref_base}:")
    legs = await (query.using_db(conn) if conn is not None else query).order_by("seq")
    if not legs:
        return None
    debit, credit = legs[0], legs[-1]
    if debit.memo.split(" | ")[0] != request:
        raise IdempotencyConflict()
    return ConversionOutcome(target, Asset(debit.asset), -debit.amount, Asset(credit.asset), credit.amount,
                             credit.scope, credit.seq, debit.memo.split(" | ", 1)[-1], True)


def _write(w: LedgerWriter, account: UUID, ref_base: str, request: str, target: ConversionTarget,
           debit: tuple[Asset, int, str], credit: tuple[Asset, int, str], reason: str) -> ConversionOutcome:
    memo = f"{request} | {reason}"
    w.add(EntryKind.CONVERSION, account, debit[0], -debit[1], f"{ref_base}:debit", scope=debit[2], memo=memo)
    leg = w.add(EntryKind.CONVERSION, account, credit[0], credit[1], f"{ref_base}:credit", scope=credit[2], memo=memo)
    return ConversionOutcome(target, debit[0], debit[1], credit[0], credit[1], credit[2], leg.seq, reason, False)


async def _require_balance(w: LedgerWriter, account: UUID, asset: Asset, wanted: int, scope: str = "") -> None:
    available = await w.balance(account, asset, scope)
    if wanted > available:
        raise InsufficientBalance(str(asset), max(available, 0), wanted)


def _positive_points(points: int) -> int:
    if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= formula.MAX_POINTS:
        raise ValidationFailed("points", f"points must be a whole number from 1 to {formula.MAX_POINTS}.")
    return points


async def convert_points(principal: Principal, settings: Settings, idempotency_key: str,
                         target: ConversionTarget, points: int, now: datetime | None = None) -> ConversionOutcome:
    """Points -> volunteer minutes (students of an enrolled school) or -> mileage (students, parents)."""
    key = check_idempotency_key(idempotency_key)
    points = _positive_points(points)
    if target is ConversionTarget.COINS:
        raise ValidationFailed("target", "Points become coins through mileage: use convertMileageToCoins.")
    user = await _holder(principal)
    now = _now(now)
    today = local_date(now, settings.display_timezone)
    ref_base = f"convert:{user.pseudonym}:{key}"
    request = f"{target}:{points}"
    if (done := await _replay(ref_base, request, target)) is not None:
        return done
    if target is ConversionTarget.VOLUNTEER_MINUTES:
        programme = await school_programme(user, today, field="target")
    else:
        programme = await household_programme(user, today, field="target")
    rules = formula.load_rules(programme.rules_year)
    async with ledger_transaction(now) as w:
        if (done := await _replay(ref_base, request, target, w.conn)) is not None:
            return done
        await _require_balance(w, user.pseudonym, Asset.POINTS, points)
        if target is ConversionTarget.VOLUNTEER_MINUTES:
            day = local_day_bounds(today, settings.display_timezone)
            month = local_month_bounds(today.year, today.month, settings.display_timezone)
            done_today = await w.period_sum(user.pseudonym, Asset.VOLUNTEER_MINUTES, *day)
            done_month = await w.period_sum(user.pseudonym, Asset.VOLUNTEER_MINUTES, *month)
            r = formula.convert_to_volunteer_minutes(points, done_today, done_month, rules)
            if r.minutes == 0:
                raise LimitReached(r.capped_by or "below_minimum",
                                   r.reason if r.capped_by else f"{rules.points_per_minute} points make one minute.")
            return _write(w, user.pseudonym, ref_base, request, target, (Asset.POINTS, r.points_used, ""),
                          (Asset.VOLUNTEER_MINUTES, r.minutes, ""), f"{r.reason} (programme {programme.name})")
        m = formula.convert_to_mileage(points, rules)
        if m.won == 0:
            raise LimitReached("below_minimum", f"{rules.points_per_block} points make {rules.won_per_block} won.")
        return _write(w, user.pseudonym, ref_base, request, target, (Asset.POINTS, m.points_used, ""),
                      (Asset.MILEAGE_WON, m.won, ""), m.reason)


async def issue_coins(w: LedgerWriter, account: UUID, programme: Programme, mileage: int, ref_base: str,
                      request: str, now: datetime, settings: Settings) -> ConversionOutcome:
    """Mileage -> coins inside an open ledger transaction, charging the programme's budget."""
    rules = formula.load_rules(programme.rules_year)
    code = programme.municipality.code
    local = local_date(now, settings.display_timezone)
    month = local_month_bounds(local.year, local.month, settings.display_timezone)
    done_month = await w.period_sum(account, Asset.COINS_WON, *month, scope=code, kind=EntryKind.CONVERSION)
    fresh = await Programme.filter(id=programme.id).using_db(w.conn).get()
    r = formula.convert_to_coins(mileage, done_month, fresh.coin_budget_won - fresh.coins_issued_won, rules)
    if r.coins_won == 0:
        raise LimitReached(r.capped_by or "below_threshold", r.reason)
    updated = await Programme.filter(
        id=programme.id, coins_issued_won__lte=fresh.coin_budget_won - r.coins_won
    ).using_db(w.conn).update(coins_issued_won=fresh.coins_issued_won + r.coins_won)
    if updated != 1:
        raise LimitReached("budget", "The municipality's coin budget is used up.")
    return _write(w, account, ref_base, request, ConversionTarget.COINS, (Asset.MILEAGE_WON, r.mileage_used, ""),
                  (Asset.COINS_WON, r.coins_won, code), f"{r.reason} ({programme.name})")


async def convert_mileage_to_coins(principal: Principal, settings: Settings, idempotency_key: str,
                                   now: datetime | None = None) -> ConversionOutcome:
    """All eligible mileage -> local coins of the household's municipality (threshold, caps, budget)."""
    key = check_idempotency_key(idempotency_key)
    user = await _holder(principal)
    now = _now(now)
    today = local_date(now, settings.display_timezone)
    ref_base = f"coins:{user.pseudonym}:{key}"
    if (done := await _replay(ref_base, "coins", ConversionTarget.COINS)) is not None:
        return done
    programme = await household_programme(user, today, field="idempotencyKey")
    async with ledger_transaction(now) as w:
        if (done := await _replay(ref_base, "coins", ConversionTarget.COINS, w.conn)) is not None:
            return done
        mileage = await w.balance(user.pseudonym, Asset.MILEAGE_WON)
        return await issue_coins(w, user.pseudonym, programme, max(mileage, 0), ref_base, "coins", now, settings)



async def _adjustment_replay(ref: str, account: UUID, asset: Asset, amount: int, scope: str,
                             conn: BaseDBAsyncClient | None = None) -> int | None:
    """The sequence number of the adjustment already made under ``ref`` (a replay), if any."""
    query = LedgerEntry.filter(ref=ref)
    existing = await (query.using_db(conn) if conn is not None else query).first()
    if existing is None:
        return None
    if (existing.account, existing.asset, existing.amount, existing.scope) != (account, asset, amount, scope):
        raise IdempotencyConflict()
    return existing.seq


async def adjust_balance(principal: Principal, idempotency_key: str, user_id: int, asset: Asset, amount: int,
                         reason: str, scope: str = "", now: datetime | None = None) -> int:
    """Operator correction: an ``adjustment`` entry (never an edit). Returns its sequence number."""
    if not principal.is_operator:
        raise NotAllowed("Only an operator adjusts balances.")
    key = check_idempotency_key(idempotency_key)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0 or abs(amount) > formula.MAX_POINTS:
        raise ValidationFailed("amount", "amount must be a non-zero whole number.")
    if not reason.strip():
        raise ValidationFailed("reason", "Say why the balance is adjusted.")
    if (asset is Asset.COINS_WON) != bool(scope):
        raise ValidationFailed("scope", "Coins need the municipality code as scope; other assets none.")
    holder = await User.get_or_none(id=user_id)
    if holder is None:
        raise ValidationFailed("userId", "No such user.")
    if scope and not await Municipality.exists(code=scope):
        raise ValidationFailed("scope", "No municipality has this code.")
    ref = f"adjust:{key}"
    if (seq := await _adjustment_replay(ref, holder.pseudonym, asset, amount, scope)) is not None:
        return seq
    async with ledger_transaction(_now(now)) as w:
        if (seq := await _adjustment_replay(ref, holder.pseudonym, asset, amount, scope, w.conn)) is not None:
            return seq  # the same key sent at once: the first one wrote it while this one waited
        if amount < 0:
            await _require_balance(w, holder.pseudonym, asset, -amount, scope)
        leg = w.add(EntryKind.ADJUSTMENT, holder.pseudonym, asset, amount, ref, scope=scope,
                    memo=f"operator adjustment: {reason.strip()}"[:200])
    return leg.seq
