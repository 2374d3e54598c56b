"""Volunteer certificates: figures from the ledger, the PDF with Hangul and a QR code that
verifies, and tampering (an edited figure, a forged digest, a changed ledger row) detected."""

from __future__ import annotations

import base64
import io
import subprocess
import uuid
from datetime import UTC, datetime

import pytest
import zxingcpp
from PIL import Image

from backend.codes import local_today
from backend.ledger.checkpoints import publish_checkpoint
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import LedgerEntry
from backend.ledger.service import ledger_transaction
from backend.schools import certificates
from backend.schools.certificate_pdf import render
from backend.schools.pdf import qr_png
from tests import services
from tests.builders import build_world, gql, sign_in, start_programmes
from tests.schools.support import add_activity

ISSUE = """
mutation($s: ID!) { issueVolunteerCertificate(studentId: $s, period: SCHOOL_YEAR) {
  __typename ... on VolunteerCertificate { number digest minutes hours carryMinutes qrPayload pdfBase64 }
  ... on Error { message } } }"""
VERIFY = """
query($qr: String!) { verifyCertificate(qrPayload: $qr) { __typename ... on CertificateVerification {
  valid reason student school minutes hours carryMinutes entries { seq amount proofTreeSize proofPath } } } }"""


async def _minutes(student, *amounts: int) -> None:
    async with ledger_transaction() as w:
        for a in amounts:
            w.add(EntryKind.CONVERSION, student.pseudonym, Asset.VOLUNTEER_MINUTES, a, f"test-min:{uuid.uuid4()}")


def _decode(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1
    return found[0].text


def test_neis_hours_are_whole_with_carried_minutes_and_digests_bind_every_figure():
    assert certificates.neis_hours(185) == (3, 5) and certificates.neis_hours(-3) == (0, 0)
    figures = {"number": "VPP-1", "minutes": 185, "hours": 3}
    d = certificates.digest_of(figures, "k" * 32)
    assert d != certificates.digest_of({**figures, "minutes": 245}, "k" * 32)
    assert d != certificates.digest_of(figures, "j" * 32)
    assert certificates.masked("김민수") == "김*수" and certificates.masked("Jo") == "J*"


async def test_issue_scan_and_verify_over_graphql_and_tampering_is_detected(client, db, settings):
    w = await build_world()
    programme, _ = await start_programmes(w)
    student = w.family_a1.student
    await add_activity(student, programme, local_today(settings.display_timezone), "0.5", 10)
    await _minutes(student, 120, 65)
    await publish_checkpoint(settings)
    teacher = await sign_in(client, w.teacher_a.email)
    issued = (await gql(client, ISSUE, {"s": str(student.id)}, teacher))["data"]["issueVolunteerCertificate"]
    assert (issued["minutes"], issued["hours"], issued["carryMinutes"]) == (185, 3, 5)
    pdf = base64.b64decode(issued["pdfBase64"])
    assert pdf.startswith(b"%PDF") and b"NotoSansKR" in pdf  # the Korean font is embedded
    assert _decode(qr_png(issued["qrPayload"])) == issued["qrPayload"]
    seen = (await gql(client, VERIFY, {"qr": issued["qrPayload"]}))["data"]["verifyCertificate"]  # anonymous
    assert (seen["valid"], seen["minutes"], seen["hours"], seen["student"]) == (True, 185, 3, "s********1")
    assert all(e["proofTreeSize"] == 2 and e["proofPath"] is not None for e in seen["entries"])
    # a QR re-made for edited figures carries a digest the server never issued
    forged = certificates.qr_payload("http://x", issued["number"],
                                     certificates.digest_of({"minutes": 600}, "guess" * 8))
    bad = (await gql(client, VERIFY, {"qr": forged}))["data"]["verifyCertificate"]
    assert (bad["valid"], bad["reason"], bad["minutes"]) == (False, "digest_mismatch", None)
    # the ledger row behind the certificate changed: the recomputed minutes no longer match
    row = await LedgerEntry.get(seq=0)
    await LedgerEntry.filter(seq=0).update(amount=row.amount + 60)
    altered = (await gql(client, VERIFY, {"qr": issued["qrPayload"]}))["data"]["verifyCertificate"]
    assert (altered["valid"], altered["reason"]) == (False, "figures_do_not_match_ledger")
    outsider = await sign_in(client, w.teacher_b.email)
    denied = (await gql(client, ISSUE, {"s": str(student.id)}, outsider))["data"]["issueVolunteerCertificate"]
    assert denied["__typename"] == "NotAllowed"


async def test_no_certificate_without_volunteer_time(db, settings):
    w = await build_world()
    from tests.builders import principal_of
    from backend.errors import ValidationFailed
    from backend.schools.periods import PeriodKind, period_of

    with pytest.raises(ValidationFailed):
        await certificates.issue(await principal_of(w.teacher_a), w.family_a1.student.id,
                                 period_of(PeriodKind.MONTH, local_today("Asia/Seoul")), "k" * 32, "Asia/Seoul")


def test_the_first_page_renders_with_a_scannable_qr_code(tmp_path):
    """Renders page 1 with poppler's pdftoppm (make test installs it) and scans the QR off the page."""
    services.require_tool("pdftoppm", "poppler-utils")
    payload = certificates.qr_payload("http://127.0.0.1:8000", "VPP-TEST23456789", "A" * 32)
    figures = {"number": "VPP-TEST23456789", "name": "김민수", "school": "나주중학교", "class": "2-1",
               "periodStart": "2026-03-01", "periodEnd": "2027-03-01", "periodLabel": "2026 school year",
               "minutes": 185, "hours": 3, "carryMinutes": 5, "seqs": [3, 8],
               "activities": [["gaming_reduced", 2]], "issuer": "나주중학교 · 나주시 People's VPP",
               "issuedOn": datetime.now(UTC).date().isoformat()}
    (tmp_path / "c.pdf").write_bytes(render(figures, payload))
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", str(tmp_path / "c.pdf"),
                    str(tmp_path / "page")], check=True)
    page = next(tmp_path.glob("page*.png")).read_bytes()
    assert _decode(page) == payload
