"""Best cases and prizes: nominate, award from a budget through the ledger, withdraw, and the
rules (one award per nominee, category and period; budgets never below zero), concurrently too."""

from __future__ import annotations

import asyncio

import pytest

from backend.errors import AlreadyExists, LimitReached, NotAllowed, ValidationFailed
from backend.ledger.checkpoints import publish_checkpoint
from backend.ledger.entries import Asset
from backend.ledger.models import LedgerEntry
from backend.ledger.verify import verify_ledger
from backend.rewards.wallet import wallet_of
from backend.schools import awards
from backend.schools.models import Award, Nomination
from backend.schools.periods import PeriodKind
from backend.codes import local_today
from tests.builders import build_world, gql, principal_of, sign_in, start_programmes
from tests.schools.support import add_activity

TZ = "Asia/Seoul"


async def _nominate(w, kind="student", nominee=None, category="saving", **kw):
    nominee_id = nominee if nominee is not None else w.family_a1.student.id
    return await awards.nominate(await principal_of(w.teacher_a), kind, nominee_id, category, PeriodKind.MONTH,
                                 local_today(TZ), kw.pop("reason", "Switched off every standby plug at home."),
                                 kw.pop("evidence", {}))


async def test_a_prize_moves_points_from_the_budget_to_the_winner_and_withdrawal_adjusts(db):
    w = await build_world()
    admin = await principal_of(w.admin_a)
    budget = await awards.create_budget(admin, TZ, "Best savers", Asset.POINTS, 1_000, school_id=w.school_a.id)
    nomination = await _nominate(w)
    row = await awards.award(admin, nomination.id, budget.id, 600)
    student = w.family_a1.student
    assert (await wallet_of(student.pseudonym)).amount(Asset.POINTS) == 600
    assert await awards.budget_balance(budget) == 400
    legs = await LedgerEntry.filter(ref__startswith=f"award:{row.id}:").order_by("seq")
    assert [(l.kind, l.amount) for l in legs] == [("award", -600), ("award", 600)] and legs[0].seq == row.first_seq
    with pytest.raises(LimitReached):  # 400 left: a second prize of 500 would take the budget below zero
        await awards.award(admin, (await _nominate(w, category="waste_reporting")).id, budget.id, 500)
    with pytest.raises(AlreadyExists):  # the same nominee, category and period
        await awards.award(admin, (await _nominate(w)).id, budget.id, 10)
    withdrawn = await awards.withdraw(admin, row.id, "Evidence was copied from a sibling.")
    assert withdrawn.withdrawn_at is not None and withdrawn.active_key is None
    assert (await wallet_of(student.pseudonym)).amount(Asset.POINTS) == 0
    assert await awards.budget_balance(budget) == 1_000
    assert await LedgerEntry.filter(ref__startswith=f"award:{row.id}:withdraw", kind="adjustment").count() == 2
    with pytest.raises(ValidationFailed):
        await awards.withdraw(admin, row.id, "twice over")
    again = await awards.award(admin, (await _nominate(w)).id, budget.id, 100)  # allowed once withdrawn
    assert again.amount == 100
    await publish_checkpoint(db)
    report = await verify_ledger(db)
    assert report.ok, report


async def test_family_and_class_prizes_split_and_honours_have_no_value(db):
    w = await build_world()
    admin = await principal_of(w.admin_a)
    budget = await awards.create_budget(admin, TZ, "Families", Asset.POINTS, 1_000, school_id=w.school_a.id)
    family = await awards.award(admin, (await _nominate(w, "family", w.family_a1.household.id)).id, budget.id, 101)
    assert sorted([(await wallet_of(u.pseudonym)).amount(Asset.POINTS) for u in
                   (w.family_a1.student, w.family_a1.parent)]) == [50, 51]
    assert family.recipients and len(family.recipients) == 2
    honour = await awards.award(admin, (await _nominate(w, "class", w.class_a.id)).id, None, 0)
    assert honour.asset == "honours" and honour.amount == 0
    assert (await wallet_of(w.family_a2.student.pseudonym)).amount(Asset.HONOURS) == 1
    with pytest.raises(ValidationFailed):  # an honour has no value
        await awards.award(admin, (await _nominate(w, "class", w.class_a.id, category="dr_team")).id, None, 5)


async def test_who_nominates_awards_and_funds_and_evidence_must_be_the_nominees(db):
    w = await build_world()
    programme, _ = await start_programmes(w, budget_won=10_000)
    other = await add_activity(w.family_a2.student, programme, local_today(TZ), "0.5", 10)
    with pytest.raises(ValidationFailed):
        await _nominate(w, evidence={"activityIds": [other.id]})
    with pytest.raises(ValidationFailed):  # a student of school B
        await _nominate(w, nominee=w.family_b.student.id)
    with pytest.raises(NotAllowed):
        await awards.nominate(await principal_of(w.family_a1.parent), "student", w.family_a1.student.id, "saving",
                              PeriodKind.MONTH, local_today(TZ), "My own child is the best.", {})
    nomination = await _nominate(w)
    for user in (w.teacher_a, w.officer_a, w.family_a1.parent):  # only the school's admin (or an operator) awards
        with pytest.raises(NotAllowed):
            await awards.award(await principal_of(user), nomination.id, None, 0)
    with pytest.raises(NotAllowed):
        await awards.create_budget(await principal_of(w.teacher_a), TZ, "x", Asset.POINTS, 10, school_id=w.school_a.id)
    officer = await principal_of(w.officer_a)
    coins = await awards.create_budget(officer, TZ, "City prize", Asset.COINS_WON, 8_000, municipality_id=w.muni_a.id)
    await programme.refresh_from_db()
    assert programme.coins_issued_won == 8_000  # a coin budget is charged to the programme
    with pytest.raises(LimitReached):
        await awards.create_budget(officer, TZ, "Too much", Asset.COINS_WON, 3_000, municipality_id=w.muni_a.id)
    row = await awards.award(await principal_of(w.admin_a), nomination.id, coins.id, 5_000)
    assert (await wallet_of(w.family_a1.student.pseudonym)).coins == {w.muni_a.code: 5_000}
    assert row.asset == "coins_won"


async def test_concurrent_awards_of_one_nominee_and_of_one_budget(db):
    """Two admins award the same nominee at once: one award; five prizes race for a budget of
    three: three paid. Real concurrency on PostgreSQL (SQLite has a single writer)."""
    w = await build_world()
    admin = await principal_of(w.admin_a)
    budget = await awards.create_budget(admin, TZ, "Race", Asset.POINTS, 300, school_id=w.school_a.id)
    twins = [await _nominate(w), await _nominate(w)]
    results = await asyncio.gather(*(awards.award(admin, n.id, budget.id, 100) for n in twins),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["AlreadyExists", "Award"], results
    others = [await _nominate(w, category=f"cat_{i}") for i in range(4)]
    results = await asyncio.gather(*(awards.award(admin, n.id, budget.id, 100) for n in others),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Award", "Award", "LimitReached", "LimitReached"], results
    assert await awards.budget_balance(budget) == 0
    assert await Award.filter(withdrawn_at__isnull=True).count() == 3
    assert await Nomination.filter(status="awarded").count() == 3


NOMINATE = """
mutation($id: ID!, $acts: [ID!]!) { nominate(nomineeKind: STUDENT, nomineeId: $id, category: "saving",
  reason: "Cut standby power by half this month.", evidence: {activityIds: $acts}) {
  __typename ... on Nomination { id nomineeName activityIds status } ... on Error { message } } }"""
AWARD = """
mutation($n: ID!, $b: ID, $amount: Int!) { awardNomination(nominationId: $n, budgetId: $b, amount: $amount) {
  __typename ... on Award { id amount firstSeq honour } ... on Error { message } } }"""
BUDGET = """
mutation($s: ID!) { createPrizeBudget(name: "Best cases", asset: POINTS, amount: 500, schoolId: $s) {
  __typename ... on PrizeBudget { id remaining ledgerAccount } ... on Error { message } } }"""
LIST = """
query($s: ID!) { nominations(schoolId: $s) { __typename ... on NominationList { items { id status
  award { amount firstSeq } } } ... on Error { message } } }"""


async def test_the_whole_flow_over_graphql(client, db):
    w = await build_world()
    programme, _ = await start_programmes(w)
    act = await add_activity(w.family_a1.student, programme, local_today(TZ), "0.5", 10)
    teacher, admin = await sign_in(client, w.teacher_a.email), await sign_in(client, w.admin_a.email)
    nominated = (await gql(client, NOMINATE, {"id": str(w.family_a1.student.id), "acts": [str(act.id)]},
                           teacher))["data"]["nominate"]
    assert nominated["nomineeName"] == w.family_a1.student.display_name and nominated["activityIds"] == [str(act.id)]
    budget = (await gql(client, BUDGET, {"s": str(w.school_a.id)}, admin))["data"]["createPrizeBudget"]
    assert budget["remaining"] == 500
    done = (await gql(client, AWARD, {"n": nominated["id"], "b": budget["id"], "amount": 200}, admin))["data"]
    assert done["awardNomination"]["amount"] == 200
    assert (await gql(client, AWARD, {"n": nominated["id"], "b": budget["id"], "amount": 200}, teacher))["data"][
        "awardNomination"]["__typename"] == "NotAllowed"
    listed = (await gql(client, LIST, {"s": str(w.school_a.id)}, teacher))["data"]["nominations"]["items"]
    assert listed[0]["status"] == "awarded" and listed[0]["award"]["amount"] == 200
    outsider = await sign_in(client, w.teacher_b.email)
    assert (await gql(client, LIST, {"s": str(w.school_a.id)}, outsider))["data"]["nominations"][
        "__typename"] == "NotAllowed"
