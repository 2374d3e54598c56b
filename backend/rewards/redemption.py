"""One-time, short-lived, signed codes with which an officer redeems a holder's local coins.

A code is 15 bytes in Crockford base32, shown as ``XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`` (and as a QR
code by the app): an 8-byte random nonce and a 7-byte HMAC-SHA256 tag of it under the server's
secret. The tag lets the server reject forged or mistyped codes before touching the database;
the stored row holds what the code is worth, whose coins, where and until when, and is burned
by the redemption in the same transaction as the ledger entry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from backend.accounts.models import Role, User
from backend.accounts.principal import HOUSEHOLD_ROLES, Principal
from backend.errors import (
    InsufficientBalance,
    InvalidRedemptionCode,
    NotAllowed,
    ValidationFailed,
)
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import Balance
from backend.ledger.service import ledger_transaction
from backend.municipalities.models import Municipality
from backend.rewards.formula import MAX_WON
from backend.rewards.models import RedemptionCode
from backend.settings import Settings

NONCE_BYTES = 8
TAG_BYTES = 7
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_CROCKFORD = str.maketrans(_RFC4648, _CROCKFORD)
_FROM_CROCKFORD = str.maketrans(_CROCKFORD + "OIL", _RFC4648 + "ABB")


@dataclass(frozen=True)
class IssuedCode:
    code: str
    amount_won: int
    municipality: Municipality
    expires_at: datetime


@dataclass(frozen=True)
class Redemption:
    amount_won: int
    municipality: Municipality
    redeemed_at: datetime
    seq: int
    holder_reference: str  # first 8 characters of the holder's pseudonym, for the receipt


def _tag(secret: str, nonce: bytes) -> bytes:
    return hmac.new(secret.encode(), b"pvpp-redeem:" + nonce, hashlib.sha256).digest()[:TAG_BYTES]


def encode_code(nonce: bytes, secret: str) -> str:
    raw = base64.b32encode(nonce + _tag(secret, nonce)).decode().translate(_TO_CROCKFORD)
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def decode_code(code: str, secret: str) -> bytes:
    """The nonce of a well-formed, authentic code; raises InvalidRedemptionCode otherwise."""
    text = "".join(ch for ch in str(code).upper() if ch not in "- ")
    if len(text) != 24 or not set(text) <= set(_CROCKFORD + "OIL"):
        raise InvalidRedemptionCode("malformed", "This is not a redemption code (24 letters and digits).")
    data = base64.b32decode(text.translate(_FROM_CROCKFORD))
    nonce, tag = data[:NONCE_BYTES], data[NONCE_BYTES:]
    if not hmac.compare_digest(tag, _tag(secret, nonce)):
        raise InvalidRedemptionCode("forged", "This redemption code was not issued by People's VPP.")
    return nonce


async def create_code(principal: Principal, settings: Settings, municipality_id: int, amount_won: int,
                      now: datetime | None = None) -> IssuedCode:
    """A code for the holder's own coins of one municipality, valid for a few minutes."""
    if principal.role not in HOUSEHOLD_ROLES:
        raise NotAllowed("Only students and parents hold coins.")
    if isinstance(amount_won, bool) or not isinstance(amount_won, int) or not 0 < amount_won <= MAX_WON:
        raise ValidationFailed("amountWon", "amountWon must be a whole number of won above 0.")
    municipality = await Municipality.get_or_none(id=municipality_id)
    if municipality is None:
        raise ValidationFailed("municipalityId", "No such municipality.")
    now = now or datetime.now(UTC)
    user = principal.user or await User.get(id=principal.user_id)
    balance = await Balance.filter(account=user.pseudonym, asset=Asset.COINS_WON, scope=municipality.code).first()
    available = balance.amount if balance else 0
    if amount_won > available:
        raise InsufficientBalance(f"{Asset.COINS_WON} of {municipality.name}", max(available, 0), amount_won)
    nonce = secrets.token_bytes(NONCE_BYTES)
    expires_at = now + timedelta(seconds=settings.redemption_code_ttl_seconds)
    await RedemptionCode.create(nonce=nonce.hex(), holder=user.pseudonym, municipality=municipality,
                                amount_won=amount_won, created_at=now, expires_at=expires_at)
    return IssuedCode(encode_code(nonce, settings.signing_key), amount_won, municipality, expires_at)


async def redeem(principal: Principal, settings: Settings, code: str, now: datetime | None = None) -> Redemption:
    """An officer redeems a code: burns it and debits the holder's coins, or changes nothing."""
    if principal.role is not Role.OFFICER or principal.municipality_id is None:
        raise NotAllowed("Only a municipality's officers redeem coins.")
    nonce = decode_code(code, settings.signing_key)
    now = now or datetime.now(UTC)
    row = await RedemptionCode.get_or_none(nonce=nonce.hex()).prefetch_related("municipality")
    if row is None:
        raise InvalidRedemptionCode("forged", "This redemption code was not issued by People's VPP.")
    if row.municipality_id != principal.municipality_id:
        raise NotAllowed(f"These are coins of {row.municipality.name}; only its officers redeem them.")
    if row.redeemed_at is not None:
        raise InvalidRedemptionCode("already_used", "This code has already been redeemed.")
    if row.expires_at <= now:
        raise InvalidRedemptionCode("expired", "This code has expired; ask the holder for a new one.")
    scope = row.municipality.code
    async with ledger_transaction(now) as w:
        burned = await RedemptionCode.filter(id=row.id, redeemed_at__isnull=True).using_db(w.conn).update(
            redeemed_at=now, redeemed_by_id=principal.user_id)
        if burned != 1:
            raise InvalidRedemptionCode("already_used", "This code has already been redeemed.")
        available = await w.balance(row.holder, Asset.COINS_WON, scope)
        if row.amount_won > available:
            raise InsufficientBalance(str(Asset.COINS_WON), max(available, 0), row.amount_won)
        leg = w.add(EntryKind.REDEMPTION, row.holder, Asset.COINS_WON, -row.amount_won, f"redeem:{row.nonce}",
                    scope=scope, memo=f"redeemed by an officer of {row.municipality.name}")
    return Redemption(row.amount_won, row.municipality, now, leg.seq, str(row.holder)[:8])
