"""myAwards: a winner (and their guardian) sees the award on their home screen, nobody else does;
family and class awards reach exactly the people they credited; a withdrawn award stays, marked
withdrawn with the reason its ledger adjustment carries."""

from __future__ import annotations

from backend.codes import local_today
from backend.ledger.entries import Asset
from backend.ledger.models import LedgerEntry
from backend.schools import awards
from backend.schools.periods import PeriodKind, period_of
from tests.builders import build_world, gql, principal_of, sign_in

TZ = "Asia/Seoul"
MY_AWARDS = """query { myAwards { __typename ... on MyAwardList { items {
  id category nomineeKind nomineeName winners schoolName period { kind label firstDay lastDay } reason asset amount
  honour myShare ledgerSeqs awardedAt withdrawn withdrawnAt withdrawnReason } } ... on Error { message } } }"""


async def _award(w, kind: str, nominee_id: int, category: str, budget, amount: int, reason: str):
    nomination = await awards.nominate(await principal_of(w.teacher_a), kind, nominee_id, category,
                                       PeriodKind.MONTH, local_today(TZ), reason, {})
    return await awards.award(await principal_of(w.admin_a), nomination.id, budget.id if budget else None, amount)


async def _mine(client, user) -> list[dict]:
    data = (await gql(client, MY_AWARDS, token=await sign_in(client, user.email)))["data"]["myAwards"]
    assert data["__typename"] == "MyAwardList", data
    return data["items"]


async def test_the_winner_and_their_guardian_see_the_award_and_nobody_else(client, db):
    w = await build_world()
    budget = await awards.create_budget(await principal_of(w.admin_a), TZ, "Best savers", Asset.POINTS, 1_000,
                                        school_id=w.school_a.id)
    student = w.family_a1.student
    row = await _award(w, "student", student.id, "saving", budget, 300, "Switched off every standby plug at home.")
    seen = await _mine(client, student)
    assert len(seen) == 1, seen
    a = seen[0]
    month = period_of(PeriodKind.MONTH, local_today(TZ))
    assert (a["id"], a["category"], a["nomineeKind"], a["nomineeName"], a["winners"]) == (
        str(row.id), "saving", "STUDENT", student.display_name, [student.display_name])
    assert a["period"]["kind"] == "MONTH" and a["period"]["firstDay"] == month.start.isoformat()
    assert (a["amount"], a["myShare"], a["asset"], a["honour"], a["withdrawn"]) == (300, 300, "points", False, False)
    assert a["reason"] == "Switched off every standby plug at home." and a["schoolName"] == w.school_a.name
    leg = await LedgerEntry.get(seq=a["ledgerSeqs"][0])
    assert a["ledgerSeqs"] == [leg.seq] and leg.account == student.pseudonym and leg.amount == 300
    guardian = await _mine(client, w.family_a1.parent)
    assert [(g["id"], g["winners"], g["myShare"]) for g in guardian] == [(str(row.id), [student.display_name], 300)]
    for other in (w.family_a2.student, w.family_a2.parent, w.family_b.parent, w.teacher_a, w.admin_a, w.officer_a):
        assert await _mine(client, other) == [], other.email


async def test_family_and_class_awards_reach_exactly_their_recipients(client, db):
    w = await build_world()
    budget = await awards.create_budget(await principal_of(w.admin_a), TZ, "Families", Asset.POINTS, 1_000,
                                        school_id=w.school_a.id)
    family = await _award(w, "family", w.family_a1.household.id, "family_saving", budget, 101,
                          "The whole family kept the evening peak low.")
    honour = await _award(w, "class", w.class_a.id, "dr_team", None, 0, "Class 2-1 delivered the most in the event.")
    a1, p1 = w.family_a1.student, w.family_a1.parent
    student_view = {a["id"]: a for a in await _mine(client, a1)}
    assert set(student_view) == {str(family.id), str(honour.id)}
    assert student_view[str(family.id)]["winners"] == [a1.display_name]
    assert student_view[str(family.id)]["myShare"] in (50, 51) and student_view[str(family.id)]["amount"] == 101
    assert student_view[str(honour.id)]["honour"] and student_view[str(honour.id)]["myShare"] == 0
    assert student_view[str(honour.id)]["nomineeName"] == w.class_a.name
    parent_view = {a["id"]: a for a in await _mine(client, p1)}
    assert parent_view[str(family.id)]["myShare"] == 101  # their own share and their child's
    assert sorted(parent_view[str(family.id)]["winners"]) == sorted([a1.display_name, p1.display_name])
    assert parent_view[str(honour.id)]["winners"] == [a1.display_name]  # the class award, through the child
    classmate = await _mine(client, w.family_a2.student)
    assert [a["id"] for a in classmate] == [str(honour.id)]  # in class A too, not in family a1
    assert await _mine(client, w.family_b.student) == []


async def test_a_withdrawn_award_stays_marked_withdrawn(client, db):
    w = await build_world()
    admin = await principal_of(w.admin_a)
    budget = await awards.create_budget(admin, TZ, "Best savers", Asset.POINTS, 500, school_id=w.school_a.id)
    row = await _award(w, "student", w.family_a1.student.id, "saving", budget, 200,
                       "Switched off every standby plug at home.")
    await awards.withdraw(admin, row.id, "Awarded to the wrong pupil")
    seen = await _mine(client, w.family_a1.student)
    assert [(a["id"], a["withdrawn"], a["withdrawnReason"]) for a in seen] == [
        (str(row.id), True, "Awarded to the wrong pupil")]
    assert seen[0]["withdrawnAt"] >= seen[0]["awardedAt"]
    wallet = (await gql(client, "{ wallet { ... on Wallet { points history { amount memo } } } }",
                        token=await sign_in(client, w.family_a1.student.email)))["data"]["wallet"]
    assert wallet["points"] == 0  # the adjustment the card explains
    assert any("Awarded to the wrong pupil" in line["memo"] for line in wallet["history"]), wallet


async def test_anonymous_callers_are_refused(client, db):
    body = await gql(client, MY_AWARDS, expect_status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
