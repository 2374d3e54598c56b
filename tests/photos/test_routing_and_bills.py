"""Pure routing rules, bill text parsing, and OCR on generated and real bill photos."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from PIL import Image, ImageDraw, ImageFont

from backend.photos import urls
from backend.photos.bills import parse_bill_rows, read_bill
from backend.photos.routing import (
    Capture,
    Duplicate,
    Evidence,
    Route,
    Thresholds,
    decide,
    expected_categories,
)
from backend.photos.verification import capture_status
from backend.settings import Settings
from ml_models.photo_classifier.spec import EVALUATION_PATH
from tests.photos.fixtures.builders import PHOTO_EVAL, photo_eval_manifest

DEVICE = expected_categories("waste_found", {"waste_kind": "device_left_on"})


def ev(**kw) -> Evidence:
    base = {"expected_categories": DEVICE, "category": "device_on", "confidence": 0.99}
    return Evidence(**{**base, **kw})


# What the committed model's evaluation measured on held-out photos (MODEL_CARD.md).
HELD_OUT = json.loads(EVALUATION_PATH.read_text())["routing_figures_held_out"]


def test_default_thresholds_clear_the_committed_models_held_out_confidences():
    """Re-derived after every retraining (docs/photos.md): a model whose wrong answers are more
    confident than the thresholds makes this fail."""
    assert HELD_OUT["held_out_photos"] > 0 and HELD_OUT["wrong_evidence_answers"] > 0
    assert Thresholds().accept_confidence > HELD_OUT["wrong_evidence_confidence_max"]
    assert Thresholds().reject_invalid_confidence > HELD_OUT["evidence_called_invalid_confidence_max"]
    defaults = Settings.model_fields
    assert defaults["photo_auto_accept_confidence"].default == Thresholds().accept_confidence
    assert defaults["photo_auto_reject_invalid_confidence"].default == Thresholds().reject_invalid_confidence


def test_auto_accept_needs_matching_confident_clean_evidence():
    assert decide(ev()).route is Route.ACCEPT
    assert decide(ev(confidence=0.97)).route is Route.REVIEW
    assert decide(ev(confidence=HELD_OUT["wrong_evidence_confidence_max"])).route is Route.REVIEW
    assert decide(ev(category="lights_on_room")).route is Route.REVIEW
    assert decide(ev(duplicate=Duplicate.NEAR_OTHER_USER)).route is Route.REVIEW
    assert decide(ev(duplicate=Duplicate.NEAR_SAME_USER)).route is Route.REVIEW
    assert decide(ev(capture=Capture.MISSING)).route is Route.REVIEW
    assert decide(ev(capture=Capture.FAR)).route is Route.REVIEW
    assert decide(ev(warnings={"screenshot_like": 0.6})).route is Route.REVIEW
    assert decide(ev(warnings={"screenshot_like": 0.3})).route is Route.ACCEPT
    bill = Evidence(expected_categories=frozenset({"bill_or_meter"}), category="bill_or_meter", confidence=0.99,
                    is_bill=True, bill_read=True)
    assert decide(bill).route is Route.REVIEW  # bills always go to a person


def test_genuine_evidence_the_model_calls_invalid_goes_to_review_not_rejection():
    low, high = (HELD_OUT[f"evidence_called_invalid_confidence_{end}"] for end in ("min", "max"))
    for confidence in (low, high, 0.95):  # the model card's range for genuine photos, and more
        assert decide(ev(category="invalid", confidence=confidence)).route is Route.REVIEW
    rejected = decide(ev(category="invalid", confidence=0.98))
    assert rejected.route is Route.REJECT and rejected.message
    bill = Evidence(expected_categories=frozenset({"bill_or_meter"}), category="invalid", confidence=0.99,
                    is_bill=True, bill_read=True)
    assert decide(bill).route is Route.REVIEW  # OCR read kWh: not rejected on the model's word


def test_clear_cases_are_rejected_with_a_reason_a_child_understands():
    for evidence, reason in ((ev(duplicate=Duplicate.EXACT_OTHER_USER), "duplicate_of_other_user"),
                             (ev(warnings={"near_uniform": 1.0}), "blank"),
                             (ev(warnings={"screenshot_like": 0.95}), "screenshot")):
        decision = decide(evidence)
        assert (decision.route, decision.reason) == (Route.REJECT, reason) and decision.message.endswith(".")
    bill = Evidence(expected_categories=frozenset({"bill_or_meter"}), warnings={"screenshot_like": 0.95},
                    is_bill=True, category="bill_or_meter", confidence=0.9)
    assert decide(bill).route is Route.REVIEW  # a KEPCO app screenshot may be a real bill


def test_capture_time_against_claimed_day():
    kst = timezone(timedelta(hours=9))
    day = date(2026, 11, 20)
    assert capture_status(None, None, day, "Asia/Seoul", 3)[0] is Capture.MISSING
    assert capture_status(datetime(2026, 11, 20, 23, 0, tzinfo=kst), "original", day, "Asia/Seoul", 3)[0] is Capture.OK
    assert capture_status(datetime(2026, 11, 10, 9, tzinfo=UTC), "original", day, "Asia/Seoul", 3) == (Capture.FAR, 10)
    assert capture_status(datetime(2026, 11, 21, 1, tzinfo=UTC), "local:original", day, "Asia/Seoul", 0)[0] is Capture.FAR


def test_signed_urls():
    path = urls.signed_path("k" * 32, 7, "thumb", 60, now=1_000)
    query = dict(p.split("=") for p in path.split("?")[1].split("&"))
    assert path.startswith("/photos/7/thumb?")
    assert urls.check_signature("k" * 32, 7, "thumb", query["exp"], query["sig"], now=1_030)
    assert not urls.check_signature("k" * 32, 7, "thumb", query["exp"], query["sig"], now=1_061)
    assert not urls.check_signature("x" * 32, 7, "thumb", query["exp"], query["sig"], now=1_030)
    assert not urls.check_signature("k" * 32, 8, "thumb", query["exp"], query["sig"], now=1_030)
    assert not urls.check_signature("k" * 32, 7, "full", query["exp"], query["sig"], now=1_030)


@pytest.mark.parametrize(("rows", "this", "last"), [
    (["KEPCO Electricity Bill", "This month usage 312 kWh", "Same month last year 355 kWh"], "312", "355"),
    (["한국전력 전기요금 청구서", "당월 사용량 312kWh", "전월 사용량 290kWh", "전년동월 사용량 355kWh"], "312", "355"),
    (["청구년월 2026.10", "사용량", "1,204 kWh", "작년 같은 달", "1,350 kWh"], "1204", "1350"),
    (["ＴＨＩＳ ＭＯＮＴＨ ３１２ ｋＷｈ", "Last year 400 kWh", "Due 2026-11-25"], "312", "400"),
])
def test_parse_bill_rows(rows, this, last):
    proposal = parse_bill_rows(rows)
    assert (proposal.this_month_kwh, proposal.last_year_kwh) == (Decimal(this), Decimal(last))


def test_parse_bill_rows_never_takes_last_month_or_dates_and_may_find_nothing():
    proposal = parse_bill_rows(["전월 사용량 290kWh", "납기일 2026.11.25"])
    assert proposal.this_month_kwh is None and proposal.last_year_kwh is None
    assert proposal.candidates == (Decimal(290),)
    assert not parse_bill_rows(["TOTAL RM 9.00", "CASH 10.00"]).this_month_kwh


def _bill_image(lines: list[str]) -> Image.Image:
    font = ImageFont.load_default(40)  # Pillow's bundled scalable font: no system font needed
    im = Image.new("RGB", (1400, 160 + 100 * len(lines)), (250, 250, 245))
    draw = ImageDraw.Draw(im)
    for i, text in enumerate(lines):
        draw.text((80, 80 + 100 * i), text, fill=(20, 20, 20), font=font)
    return im.rotate(1.5, expand=True, fillcolor=(250, 250, 245))




def test_ocr_reads_a_generated_bill():
    image = _bill_image(["KEPCO Electricity Bill  2026-10", "Customer no. 12-3456-7890",
                         "This month usage  312 kWh", "Same month last year  355 kWh", "Amount due 45,210 KRW"])
    proposal = read_bill(image)
    assert (proposal.this_month_kwh, proposal.last_year_kwh) == (Decimal(312), Decimal(355))


def test_ocr_on_real_bill_and_receipt_photos_proposes_nothing_false():
    receipts = [PHOTO_EVAL / row["file"] for row in photo_eval_manifest()
                if row["class"] == "bill_or_meter" and "receipt" in row["notes"]]
    assert len(receipts) >= 3
    for path in receipts[:3]:  # scanned shop receipts: no kWh on them
        with Image.open(path) as im:
            proposal = read_bill(im.convert("RGB"))
        assert proposal.this_month_kwh is None and proposal.last_year_kwh is None, path.name
