"""What each staff role finds from ``me`` downwards: their school's records, their area's DR
events, their municipality, coins named by id, and past checkpoints."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from backend.accounts.models import Role
from backend.dr import service as dr_service
from backend.dr.models import DrScope
from backend.ledger.checkpoints import publish_checkpoint
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.service import ledger_transaction
from backend.schools.models import SchoolClass
from backend.codes import new_code
from tests.builders import build_world, gql, make_user, principal_of, sign_in

RECORD = """
query($id: ID) {
  activities(userId: $id) { __typename ... on ActivityList { items { id } } ... on NotAllowed { message } }
  wallet(userId: $id) { __typename ... on Wallet { points volunteerHours } ... on NotAllowed { message } }
}"""


async def _award(account: uuid.UUID, amount: int, scope: str = "", asset: Asset = Asset.POINTS) -> None:
    async with ledger_transaction() as w:
        w.add(EntryKind.AWARD, account, asset, amount, f"test:{uuid.uuid4()}", scope=scope)


async def test_teacher_reads_the_school_record_of_their_students_only(client, db):
    w = await build_world()
    await _award(w.family_a1.student.pseudonym, 700)
    other_class = await SchoolClass.create(school=w.school_a, name="2-2", grade=8, year=2026, join_code=new_code())
    class_teacher = await make_user(Role.TEACHER, "homeroom@example.org", school_id=w.school_a.id,
                                    school_class_id=other_class.id)
    for email, student, expected in (
        (w.teacher_a.email, w.family_a1.student, "Wallet"),  # no class of their own: the whole school
        (w.admin_a.email, w.family_a1.student, "Wallet"),
        (class_teacher.email, w.family_a1.student, "NotAllowed"),  # another class's teacher
        (w.teacher_b.email, w.family_a1.student, "NotAllowed"),  # another school
        (w.teacher_a.email, w.family_a1.parent, "NotAllowed"),  # parents are not on the school record
        (w.officer_a.email, w.family_a1.student, "NotAllowed"),
    ):
        token = await sign_in(client, email)
        data = (await gql(client, RECORD, {"id": str(student.id)}, token))["data"]
        assert data["wallet"]["__typename"] == expected, (email, data)
        assert data["activities"]["__typename"] == ("ActivityList" if expected == "Wallet" else "NotAllowed")
        if expected == "Wallet":
            assert data["wallet"]["points"] == 700


ME = "query { me { municipality { id name } } }"


async def test_officer_finds_their_municipality_from_me(client, db):
    w = await build_world()
    officer = await sign_in(client, w.officer_a.email)
    assert (await gql(client, ME, token=officer))["data"]["me"]["municipality"] == {
        "id": str(w.muni_a.id), "name": w.muni_a.name}
    teacher = await sign_in(client, w.teacher_a.email)
    assert (await gql(client, ME, token=teacher))["data"]["me"]["municipality"] is None


EVENTS = "query { drEvents(upcoming: true) { items { id title } } }"
CREATE = """
mutation($input: CreateDrEventInput!) {
  createDrEvent(input: $input) { __typename ... on DrEvent { id } ... on ValidationFailed { field message } }
}"""


async def test_staff_see_the_events_of_their_area_and_overlaps_name_a_listed_event(client, db, settings):
    w = await build_world()
    now = datetime.now(UTC)
    school_event = await dr_service.create_event(
        settings, await principal_of(w.admin_a), title="School A peak", scope=DrScope.SCHOOL,
        scope_id=w.school_a.id, starts_at=now + timedelta(hours=3), ends_at=now + timedelta(hours=4), target_kw=1.0)
    b_event = await dr_service.create_event(
        settings, await principal_of(w.officer_b), title="B peak", scope=DrScope.MUNICIPALITY,
        scope_id=w.muni_b.id, starts_at=now + timedelta(hours=3), ends_at=now + timedelta(hours=4), target_kw=1.0)
    seen = {}
    for name in ("teacher_a", "officer_a", "teacher_b", "officer_b"):
        token = await sign_in(client, w.users()[name].email)
        seen[name] = {i["id"] for i in (await gql(client, EVENTS, token=token))["data"]["drEvents"]["items"]}
    assert seen["teacher_a"] == {str(school_event.id)}
    assert seen["officer_a"] == {str(school_event.id)}  # school events in their city, though they did not create them
    assert seen["teacher_b"] == seen["officer_b"] == {str(b_event.id)}
    officer = await sign_in(client, w.officer_a.email)
    start = now + timedelta(hours=3, minutes=30)
    result = (await gql(client, CREATE, {"input": {
        "title": "City peak", "scope": "MUNICIPALITY", "scopeId": str(w.muni_a.id), "startsAt": start.isoformat(),
        "endsAt": (start + timedelta(hours=1)).isoformat(), "targetKw": 2.0}}, officer))["data"]["createDrEvent"]
    assert result["__typename"] == "ValidationFailed" and f"DR event {school_event.id} " in result["message"], result


COINS = """
query { wallet { ... on Wallet { coins { municipalityId municipalityCode municipalityName won } } } }"""
CODE = """
mutation($m: ID!) { createRedemptionCode(municipalityId: $m, amountWon: 1000) {
  __typename ... on RedemptionCodeIssued { municipalityId municipalityCode } } }"""


async def test_wallet_names_coins_by_the_id_a_redemption_code_takes(client, db):
    w = await build_world()
    await _award(w.family_a1.parent.pseudonym, 5_000, scope=w.muni_a.code, asset=Asset.COINS_WON)
    token = await sign_in(client, w.family_a1.parent.email)
    coins = (await gql(client, COINS, token=token))["data"]["wallet"]["coins"]
    assert coins == [{"municipalityId": str(w.muni_a.id), "municipalityCode": w.muni_a.code,
                      "municipalityName": w.muni_a.name, "won": 5_000}]
    issued = (await gql(client, CODE, {"m": coins[0]["municipalityId"]}, token))["data"]["createRedemptionCode"]
    assert issued == {"__typename": "RedemptionCodeIssued", "municipalityId": str(w.muni_a.id),
                      "municipalityCode": w.muni_a.code}


CHECKPOINTS = """
query($before: Int) { ledgerCheckpoints(first: 2, beforeSize: $before) {
  __typename ... on LedgerCheckpointList { items { treeSize rootHash } } ... on ValidationFailed { field } } }"""
PROOF = """
query($from: Int!, $to: Int!) { ledgerConsistencyProof(fromSize: $from, toSize: $to) {
  __typename ... on ConsistencyProof { fromSize toSize } } }"""


async def test_past_checkpoints_page_backwards_and_feed_a_consistency_proof(client, db, settings):
    for _ in range(3):
        await _award(uuid.uuid4(), 1)
        await publish_checkpoint(settings)
    first = (await gql(client, CHECKPOINTS, {"before": None}))["data"]["ledgerCheckpoints"]["items"]
    assert [c["treeSize"] for c in first] == [3, 2]
    older = (await gql(client, CHECKPOINTS, {"before": 2}))["data"]["ledgerCheckpoints"]["items"]
    assert [c["treeSize"] for c in older] == [1]
    proof = (await gql(client, PROOF, {"from": older[0]["treeSize"], "to": first[0]["treeSize"]}))["data"]
    assert proof["ledgerConsistencyProof"] == {"__typename": "ConsistencyProof", "fromSize": 1, "toSize": 3}
    bad = (await gql(client, CHECKPOINTS, {"before": -1}))["data"]["ledgerCheckpoints"]
    assert bad == {"__typename": "ValidationFailed", "field": "beforeSize"}
