"""1365/NEIS export: consent gates who is exported, whole NEIS hours with carried minutes, the
CSV opens in Excel (UTF-8 BOM), and every export is logged."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

from backend.ledger.entries import Asset, EntryKind
from backend.ledger.service import ledger_transaction
from backend.schools.exports import neis_rows
from backend.schools.models import TransferConsent, VolunteerExport
from tests.builders import build_world, gql, sign_in

CONSENT = """
mutation($s: ID!, $g: Boolean!) { setVolunteerTransferConsent(studentId: $s, given: $g) {
  __typename ... on TransferConsentState { given } ... on NotAllowed { message } } }"""
EXPORT = """
mutation($s: ID!, $c: ID) { exportVolunteerRecords(schoolId: $s, classId: $c) {
  __typename ... on VolunteerRecordsExport { exportId csv students withheldWithoutConsent rows }
  ... on Error { message } } }"""


def test_neis_hours_count_on_the_running_total_and_carry_the_rest():
    d = [datetime(2026, 5, i, tzinfo=UTC).date() for i in (1, 2, 3)]
    assert neis_rows([(d[0], 50), (d[1], 50), (d[2], 30)]) == [(d[0], 50, 0, 50), (d[1], 50, 1, 40),
                                                                (d[2], 30, 1, 10)]


async def test_only_consenting_students_are_exported_and_the_export_is_logged(client, db):
    w = await build_world()
    a1, a2 = w.family_a1.student, w.family_a2.student
    yesterday = datetime.now(UTC) - timedelta(days=1)
    async with ledger_transaction(yesterday) as tx:
        tx.add(EntryKind.CONVERSION, a1.pseudonym, Asset.VOLUNTEER_MINUTES, 50, f"t:{uuid.uuid4()}")
        tx.add(EntryKind.CONVERSION, a2.pseudonym, Asset.VOLUNTEER_MINUTES, 30, f"t:{uuid.uuid4()}")
    async with ledger_transaction() as tx:
        tx.add(EntryKind.CONVERSION, a1.pseudonym, Asset.VOLUNTEER_MINUTES, 75, f"t:{uuid.uuid4()}")
    parent = await sign_in(client, w.family_a1.parent.email)
    other_parent = await sign_in(client, w.family_a2.parent.email)
    assert (await gql(client, CONSENT, {"s": str(a1.id), "g": True}, other_parent))["data"][
        "setVolunteerTransferConsent"]["__typename"] == "NotAllowed"
    assert (await gql(client, CONSENT, {"s": str(a1.id), "g": True}, parent))["data"][
        "setVolunteerTransferConsent"]["given"] is True
    student_a2 = await sign_in(client, a2.email)  # 15: consents for themself, then withdraws
    for given in (True, False):
        await gql(client, CONSENT, {"s": str(a2.id), "g": given}, student_a2)
    assert await TransferConsent.filter(student_id=a2.id).count() == 2  # append-only history
    teacher = await sign_in(client, w.teacher_a.email)
    out = (await gql(client, EXPORT, {"s": str(w.school_a.id), "c": None}, teacher))["data"]["exportVolunteerRecords"]
    assert (out["students"], out["withheldWithoutConsent"], out["rows"]) == (1, 1, 2)
    assert out["csv"].startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(out["csv"][1:])))
    assert rows[0][0] == "학생 Student"
    assert [(r[0], r[5], r[6], r[7]) for r in rows[1:]] == [(a1.display_name, "50", "0", "50"),
                                                             (a1.display_name, "75", "2", "5")]
    log = await VolunteerExport.get(id=int(out["exportId"]))
    assert (log.exported_by_id, log.student_ids, log.withheld) == (w.teacher_a.id, [a1.id], 1)
    outsider = await sign_in(client, w.teacher_b.email)
    denied = (await gql(client, EXPORT, {"s": str(w.school_a.id), "c": None}, outsider))["data"]
    assert denied["exportVolunteerRecords"]["__typename"] == "NotAllowed"
    assert await VolunteerExport.all().count() == 1
