"""The officer's counter: look at a code (typed or scanned from a photo) before redeeming it, the
day's redemptions, and the coin programme's figures (budget, issued, redeemed, liability).

Redeeming itself is ``backend.rewards.redemption.redeem``; the preview here changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

from backend.accounts.models import Role, User
from backend.accounts.principal import Principal
from backend.errors import InvalidRedemptionCode, NotAllowed, ValidationFailed
from backend.municipalities.models import Municipality
from backend.rewards.models import Programme, RedemptionCode
from backend.rewards.programmes import local_day_bounds
from backend.rewards.redemption import decode_code
from backend.schools.models import School
from backend.schools.sql import Sql

MAX_IMAGE_BYTES = 700_000


def _officer(principal: Principal) -> int:
    if principal.role is not Role.OFFICER or principal.municipality_id is None:
        raise NotAllowed("Only a municipality's officers work the redemption counter.")
    return principal.municipality_id


def code_from_image(image_base64: str) -> str:
    """The text of the one QR code in a photo (JPEG or PNG), read with zxing-cpp."""
    from PIL import Image, UnidentifiedImageError
    import zxingcpp

    try:
        data = base64.b64decode(image_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("imageBase64", "The image is not valid base64.") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationFailed("imageBase64", f"Send at most {MAX_IMAGE_BYTES // 1000} kB; crop to the code.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > 12_000_000:
                raise ValidationFailed("imageBase64", "The image has too many pixels.")
            found = zxingcpp.read_barcodes(img.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    except (UnidentifiedImageError, OSError):
        raise ValidationFailed("imageBase64", "This is not a JPEG or PNG image.") from None
    if len(found) != 1:
        raise ValidationFailed("imageBase64", "No single QR code found: type the code shown under it instead.")
    return found[0].text


@dataclass(frozen=True)
class Preview:
    code: str
    amount_won: int
    holder_reference: str
    municipality: Municipality
    expires_at: datetime
    state: str  # valid, expired, already_used


async def preview(principal: Principal, secret: str, code: str | None, image_base64: str | None,
                  now: datetime | None = None) -> Preview:
    """What a code is worth and whose (pseudonym prefix), without redeeming it."""
    municipality_id = _officer(principal)
    if not code and not image_base64:
        raise ValidationFailed("code", "Type the code or send a photo of the QR code.")
    text = code if code else code_from_image(image_base64 or "")
    nonce = decode_code(text[:64], secret)
    row = await RedemptionCode.get_or_none(nonce=nonce.hex()).prefetch_related("municipality")
    if row is None:
        raise InvalidRedemptionCode("forged", "This redemption code was not issued by People's VPP.")
    if row.municipality_id != municipality_id:
        raise NotAllowed(f"These are coins of {row.municipality.name}; only its officers redeem them.")
    now = now or datetime.now(UTC)
    state = "already_used" if row.redeemed_at else "expired" if row.expires_at <= now else "valid"
    return Preview(text.strip().upper(), row.amount_won, str(row.holder)[:8], row.municipality, row.expires_at, state)


@dataclass(frozen=True)
class RedemptionLine:
    redeemed_at: datetime
    amount_won: int
    holder_reference: str
    officer: str


async def day_list(principal: Principal, day: date, tz: str) -> list[RedemptionLine]:
    """The municipality's redemptions of one local day, oldest first."""
    municipality_id = _officer(principal)
    since, until = local_day_bounds(day, tz)
    rows = await RedemptionCode.filter(municipality_id=municipality_id, redeemed_at__gte=since,
                                       redeemed_at__lt=until).order_by("redeemed_at", "id")
    names = dict(await User.filter(id__in={r.redeemed_by_id for r in rows if r.redeemed_by_id}).values_list(
        "id", "display_name"))
    return [RedemptionLine(r.redeemed_at, r.amount_won, str(r.holder)[:8], names.get(r.redeemed_by_id, ""))
            for r in rows]


@dataclass(frozen=True)
class SchoolCoins:
    school: School
    issued_won: int
    redeemed_won: int


@dataclass(frozen=True)
class Dashboard:
    programme: Programme
    budget_won: int
    issued_won: int
    redeemed_won: int
    outstanding_won: int  # coins issued and not yet redeemed: the municipality's liability
    schools: list[SchoolCoins]


async def coin_sums(code: str, since: datetime | None = None, until: datetime | None = None) -> tuple[int, int]:
    """Coins credited and redeemed under a municipality's code (ledger sums), optionally in a window."""
    sql = Sql()
    statement = (f"SELECT kind, SUM(amount) AS s FROM ledger_entry WHERE asset = {sql.p('coins_won')} "
                 f"AND scope = {sql.p(code)}")  # placeholders in textual order (SQLite's are positional)
    if since is not None and until is not None:
        statement += f" AND {sql.ts('recorded_at')} >= {sql.p(since)} AND {sql.ts('recorded_at')} < {sql.p(until)}"
    rows = await sql.rows(statement + " GROUP BY kind")
    by = {r["kind"]: int(r["s"] or 0) for r in rows}
    return by.get("conversion", 0) + by.get("award", 0), -by.get("redemption", 0)


async def dashboard(principal: Principal, municipality_id: int, year: int) -> Dashboard:
    if not principal.can_view_municipality_data(municipality_id):
        raise NotAllowed("Only the municipality's officers or an operator see its coin programme.")
    programme = await Programme.get_or_none(municipality_id=municipality_id, year=year).prefetch_related(
        "municipality")
    if programme is None:
        raise ValidationFailed("year", f"No programme in {year}.")
    code = programme.municipality.code
    _, redeemed = await coin_sums(code)
    sql = Sql()
    rows = await sql.rows(
        f"SELECT u.school_id AS s, SUM(CASE WHEN l.amount > 0 AND l.kind IN ({sql.p('conversion')}, "
        f"{sql.p('award')}) THEN l.amount ELSE 0 END) AS issued, SUM(CASE WHEN l.kind = {sql.p('redemption')} "
        f"THEN -l.amount ELSE 0 END) AS redeemed FROM ledger_entry l JOIN \"user\" u ON u.pseudonym = l.account "
        f"WHERE l.asset = {sql.p('coins_won')} AND l.scope = {sql.p(code)} AND u.school_id IS NOT NULL "
        f"GROUP BY u.school_id")
    schools = {s.id: s for s in await School.filter(municipality_id=municipality_id).order_by("name", "id")}
    per = {r["s"]: (int(r["issued"] or 0), int(r["redeemed"] or 0)) for r in rows}
    return Dashboard(programme, programme.coin_budget_won, programme.coins_issued_won, redeemed,
                     programme.coins_issued_won - redeemed,
                     [SchoolCoins(s, *per.get(s.id, (0, 0))) for s in schools.values()])
