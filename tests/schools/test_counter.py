"""The officer's counter: preview a typed or photographed code, redeem, the day's list, and the
coin programme's budget, issued, redeemed and outstanding figures per school."""

from __future__ import annotations

import base64
import io
import uuid

from PIL import Image

from backend.ledger.entries import Asset, EntryKind
from backend.ledger.service import ledger_transaction
from backend.rewards import redemption
from backend.schools.pdf import qr_png
from tests.builders import build_world, gql, principal_of, sign_in, start_programmes

PREVIEW = """
query($code: String, $img: String) { redemptionPreview(code: $code, imageBase64: $img) {
  __typename ... on RedemptionPreview { code amountWon holderReference state }
  ... on ValidationFailed { field } ... on InvalidRedemptionCode { reason } ... on NotAllowed { message } } }"""
REDEEM = 'mutation($code: String!) { redeemCoins(code: $code) { __typename ... on CoinsRedeemed { amountWon } } }'
DAY = "query { redemptions { __typename ... on RedemptionDay { count totalWon items { amountWon holderReference } } } }"
DASH = """
query($m: ID!) { coinProgramme(municipalityId: $m) { __typename ... on NotAllowed { message }
  ... on CoinProgrammeDashboard { budgetWon issuedWon redeemedWon outstandingWon remainingBudgetWon
    schools { schoolName issuedWon redeemedWon } } } }"""


def _photo(text: str) -> str:
    """A phone-like JPEG: the QR code small on a grey background, recompressed."""
    code = Image.open(io.BytesIO(qr_png(text, scale=5))).convert("RGB")
    canvas = Image.new("RGB", (900, 700), (170, 170, 160))
    canvas.paste(code, (310, 180))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=70)
    return base64.b64encode(out.getvalue()).decode()


async def test_preview_by_photo_then_redeem_and_list_the_day(client, db, settings):
    w = await build_world()
    programme, _ = await start_programmes(w, budget_won=50_000)
    student = w.family_a1.student
    async with ledger_transaction() as tx:  # 12,000 won of coins issued to the student (the programme records it)
        tx.add(EntryKind.CONVERSION, student.pseudonym, Asset.COINS_WON, 12_000, f"t:{uuid.uuid4()}", scope="46170")
    programme.coins_issued_won = 12_000
    await programme.save()
    issued = await redemption.create_code(await principal_of(student), settings, w.muni_a.id, 5_000)
    officer = await sign_in(client, w.officer_a.email)
    seen = (await gql(client, PREVIEW, {"img": _photo(issued.code)}, officer))["data"]["redemptionPreview"]
    assert seen == {"__typename": "RedemptionPreview", "code": issued.code, "amountWon": 5_000,
                    "holderReference": str(student.pseudonym)[:8], "state": "valid"}
    assert (await gql(client, REDEEM, {"code": seen["code"]}, officer))["data"]["redeemCoins"]["amountWon"] == 5_000
    again = (await gql(client, PREVIEW, {"code": issued.code}, officer))["data"]["redemptionPreview"]
    assert again["state"] == "already_used"
    day = (await gql(client, DAY, token=officer))["data"]["redemptions"]
    assert (day["count"], day["totalWon"]) == (1, 5_000)
    dash = (await gql(client, DASH, {"m": str(w.muni_a.id)}, officer))["data"]["coinProgramme"]
    assert (dash["budgetWon"], dash["issuedWon"], dash["redeemedWon"], dash["outstandingWon"],
            dash["remainingBudgetWon"]) == (50_000, 12_000, 5_000, 7_000, 38_000)
    assert {"schoolName": "School A", "issuedWon": 12_000, "redeemedWon": 5_000} in dash["schools"]


async def test_bad_pictures_and_other_cities_get_typed_answers(client, db, settings):
    w = await build_world()
    officer_b = await sign_in(client, w.officer_b.email)
    officer = await sign_in(client, w.officer_a.email)
    blank = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(blank, "PNG")
    for variables, field in (({"img": base64.b64encode(blank.getvalue()).decode()}, "imageBase64"),
                             ({"img": "not base64!"}, "imageBase64"),
                             ({"img": base64.b64encode(b"GIF89a nonsense").decode()}, "imageBase64"),
                             ({}, "code")):
        got = (await gql(client, PREVIEW, variables, officer))["data"]["redemptionPreview"]
        assert got == {"__typename": "ValidationFailed", "field": field}, (variables, got)
    forged = (await gql(client, PREVIEW, {"img": _photo("https://example.org/not-a-code")}, officer))["data"]
    assert forged["redemptionPreview"]["reason"] == "malformed"
    student = w.family_a1.parent
    async with ledger_transaction() as tx:
        tx.add(EntryKind.CONVERSION, student.pseudonym, Asset.COINS_WON, 3_000, f"t:{uuid.uuid4()}", scope="46170")
    issued = await redemption.create_code(await principal_of(student), settings, w.muni_a.id, 1_000)
    other = (await gql(client, PREVIEW, {"code": issued.code}, officer_b))["data"]["redemptionPreview"]
    assert other["__typename"] == "NotAllowed"
    assert (await gql(client, DASH, {"m": str(w.muni_a.id)}, officer_b))["data"]["coinProgramme"][
        "__typename"] == "NotAllowed"
