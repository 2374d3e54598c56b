"""The monthly municipal report: its figures reconcile with the ledger and the records, the worker
job makes every municipality's report, and the PDF comes with charts; only the city sees it."""

from __future__ import annotations

import base64
import subprocess
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import LedgerEntry
from backend.ledger.service import ledger_transaction
from backend.municipalities.models import MunicipalReport
from backend.reports.monthly import previous_month
from tests import services
from tests.builders import build_world, gql, sign_in, start_programmes
from tests.schools.support import add_activity, settled_dr
from workers.reports import monthly_municipal_reports

TZ = ZoneInfo("Asia/Seoul")
REPORT = """
query($m: ID!, $y: Int!, $mo: Int!) { municipalReport(municipalityId: $m, year: $y, month: $mo) {
  __typename ... on MunicipalReport { figures pdfBase64 } ... on Error { message } } }"""


async def test_report_figures_reconcile_with_the_ledger(client, db):
    w = await build_world()
    year, month = previous_month(datetime.now(UTC), "Asia/Seoul")
    day = date(year, month, 10)
    at = datetime.combine(day, time(12), TZ)
    programme, _ = await start_programmes(w, year=year)
    await add_activity(w.family_a1.student, programme, day, "1.25", 50)
    await add_activity(w.family_a2.student, programme, day, "0.75", 30)
    await add_activity(w.family_a2.student, programme, day, "9.00", 30, status="rejected")
    await settled_dr(w.muni_a.id, w.family_a1.household.id, 2.0, 2.5, starts_at=at)
    async with ledger_transaction(at) as tx:
        tx.add(EntryKind.CONVERSION, w.family_a1.student.pseudonym, Asset.VOLUNTEER_MINUTES, 125, f"t:{uuid.uuid4()}")
        tx.add(EntryKind.CONVERSION, w.family_a1.parent.pseudonym, Asset.COINS_WON, 10_000, "t:coins", scope="46170")
        tx.add(EntryKind.REDEMPTION, w.family_a1.parent.pseudonym, Asset.COINS_WON, -4_000, "t:redeem", scope="46170")
        tx.add(EntryKind.CONVERSION, w.family_b.parent.pseudonym, Asset.COINS_WON, 7_000, "t:coins-b", scope="29200")
    async with ledger_transaction(at + timedelta(days=40)) as tx:  # next month: not in this report
        tx.add(EntryKind.CONVERSION, w.family_a1.parent.pseudonym, Asset.COINS_WON, 999, "t:later", scope="46170")
    assert await monthly_municipal_reports({"settings": db}, year, month) == 2
    f = (await MunicipalReport.get(municipality_id=w.muni_a.id, year=year, month=month)).figures
    entries = await LedgerEntry.filter(scope="46170", recorded_at__gte=datetime.combine(date(year, month, 1), time(),
                                                                                         TZ),
                                       recorded_at__lt=at + timedelta(days=25))
    assert f["coinsIssuedWon"] == sum(e.amount for e in entries if e.kind == "conversion") == 10_000
    assert f["coinsRedeemedWon"] == -sum(e.amount for e in entries if e.kind == "redemption") == 4_000
    assert (f["volunteerMinutes"], f["volunteerHours"]) == (125, 2)
    assert (f["deemedKwh"], f["measuredKwh"], f["savedKwh"]) == (2.0, 2.0, 4.0)
    assert f["avoidedTCo2"] == round(4.0 / 1000 * 0.4173, 6)
    assert f["dr"][0]["deliveredKwh"] == 2.0 and f["dr"][0]["targetKwh"] == 1.0
    assert [s["suppressed"] for s in f["schools"]] == [True]  # two students: under five
    officer = await sign_in(client, w.officer_a.email)
    out = (await gql(client, REPORT, {"m": str(w.muni_a.id), "y": year, "mo": month}, officer))["data"]
    assert base64.b64decode(out["municipalReport"]["pdfBase64"]).startswith(b"%PDF")
    assert out["municipalReport"]["figures"]["coinsIssuedWon"] == 10_000
    other = await sign_in(client, w.officer_b.email)
    denied = (await gql(client, REPORT, {"m": str(w.muni_a.id), "y": year, "mo": month}, other))["data"]
    assert denied["municipalReport"]["__typename"] == "NotAllowed"
    now = datetime.now(TZ)
    current = (await gql(client, REPORT, {"m": str(w.muni_a.id), "y": now.year, "mo": now.month}, officer))["data"]
    assert current["municipalReport"]["__typename"] == "ValidationFailed"


LONG_TITLE = "나주 혁신도시 여름 저녁 피크 절전 행사: Bitgaram and Naju middle schools together"


async def test_report_pdf_prints_long_dr_titles_whole(client, db, tmp_path):
    """A DR event's title is printed in full, its delivery on the next line under its own label."""
    services.require_tool("pdftotext", "poppler-utils")
    w = await build_world()
    year, month = previous_month(datetime.now(UTC), "Asia/Seoul")
    at = datetime.combine(date(year, month, 12), time(18), TZ)
    assert len(LONG_TITLE) > 60
    await settled_dr(w.muni_a.id, w.family_a1.household.id, 2.0, 2.5, starts_at=at, title=LONG_TITLE)
    officer = await sign_in(client, w.officer_a.email)
    out = (await gql(client, REPORT, {"m": str(w.muni_a.id), "y": year, "mo": month}, officer))["data"]
    (tmp_path / "r.pdf").write_bytes(base64.b64decode(out["municipalReport"]["pdfBase64"]))
    subprocess.run(["pdftotext", "-layout", str(tmp_path / "r.pdf"), str(tmp_path / "r.txt")], check=True, timeout=60)
    lines = [" ".join(line.split()) for line in (tmp_path / "r.txt").read_text().splitlines() if line.strip()]
    text = " ".join(lines)
    event_id = out["municipalReport"]["figures"]["dr"][0]["eventId"]
    assert f"DR #{event_id} {LONG_TITLE}" in text, lines
    figures = next(i for i, line in enumerate(lines) if line.startswith("전달 / 목표 Delivered / target"))
    assert "2.000 / 1.000 kWh (200.0%)" in lines[figures], lines[figures]
    assert LONG_TITLE.split()[-1] in lines[figures - 1], lines[figures - 3:figures + 1]  # the title ends just above
