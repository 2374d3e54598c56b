"""The activities, wallet, redemption and ledger API over HTTP, as the app and an officer use it."""

from __future__ import annotations

import uuid

import pytest

from backend.codes import local_today
from backend.ledger import merkle, signing
from backend.ledger.checkpoints import publish_checkpoint
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.service import ledger_transaction
from tests.builders import build_world, gql, sign_in, start_programmes

LOG = """
mutation($input: LogActivityInput!) {
  logActivity(input: $input) {
    __typename
    ... on ActivityLogged { replayed activity { id status points kwh activityType } }
    ... on Error { message }
    ... on ValidationFailed { field }
    ... on LimitReached { limit }
  }
}"""
WALLET = """
query($userId: ID) {
  wallet(userId: $userId) {
    __typename
    ... on Wallet { points volunteerMinutes volunteerHours mileageWon balancesMatchLedger
                    coins { municipalityCode won }
                    history { seq kind asset amount leafHash leafData } }
    ... on Error { message }
  }
}"""
CONVERT = """
mutation($key: String!, $target: ConversionTarget!, $points: Int!) {
  convertPoints(idempotencyKey: $key, target: $target, points: $points) {
    __typename
    ... on Conversion { debited credited creditedAsset seq replayed }
    ... on Error { message }
    ... on LimitReached { limit }
    ... on InsufficientBalance { available requested }
  }
}"""
CODE = """
mutation($m: ID!, $won: Int!) {
  createRedemptionCode(municipalityId: $m, amountWon: $won) {
    __typename
    ... on RedemptionCodeIssued { code amountWon expiresAt }
    ... on Error { message }
  }
}"""
REDEEM = """
mutation($code: String!) {
  redeemCoins(code: $code) {
    __typename
    ... on CoinsRedeemed { amountWon municipalityCode seq }
    ... on InvalidRedemptionCode { reason }
    ... on Error { message }
  }
}"""


@pytest.fixture
async def world(db):
    w = await build_world()
    await start_programmes(w)
    return w


def _input(key: str, **over):
    base = {"idempotencyKey": key, "activityType": "gaming_reduced",
            "occurredOn": local_today("Asia/Seoul").isoformat(), "params": {"device": "console", "hours": 2}}
    return {**base, **over}


async def test_log_activity_replay_and_conflict(world, client):
    token = await sign_in(client, world.family_a2.student.email)
    key = str(uuid.uuid4())
    first = (await gql(client, LOG, {"input": _input(key)}, token))["data"]["logActivity"]
    assert first["__typename"] == "ActivityLogged" and not first["replayed"]
    assert (first["activity"]["points"], first["activity"]["kwh"]) == (150, "0.300")
    again = (await gql(client, LOG, {"input": _input(key)}, token))["data"]["logActivity"]
    assert again["replayed"] and again["activity"]["id"] == first["activity"]["id"]
    conflict = (await gql(client, LOG, {"input": _input(key, params={"device": "pc", "hours": 2})}, token))
    assert conflict["data"]["logActivity"]["__typename"] == "IdempotencyConflict"
    over_cap = (await gql(client, LOG, {"input": _input(str(uuid.uuid4()))}, token))["data"]["logActivity"]
    assert (over_cap["__typename"], over_cap["limit"]) == ("LimitReached", "daily_cap")
    future = (await gql(client, LOG, {"input": _input(str(uuid.uuid4()), occurredOn="2999-01-01")}, token))
    assert future["data"]["logActivity"]["field"] == "occurredOn"
    bad = await gql(client, LOG, {"input": _input("short")}, token)
    assert bad["data"]["logActivity"]["field"] == "idempotencyKey"
    wallet = (await gql(client, WALLET, {}, token))["data"]["wallet"]
    assert (wallet["points"], wallet["balancesMatchLedger"], len(wallet["history"])) == (150, True, 1)


@pytest.mark.parametrize("params", ['{"hours": 2}', [1, 2], {"device": "console", "hours": "abc"}])
async def test_malformed_params_are_typed_errors(world, client, params):
    token = await sign_in(client, world.family_a2.student.email)
    body = await gql(client, LOG, {"input": _input(str(uuid.uuid4()), params=params)}, token)
    assert body["data"]["logActivity"]["__typename"] == "ValidationFailed"


async def test_wallet_is_private_to_the_holder_guardian_school_staff_and_operator(world, client):
    child = world.family_a1.student
    for email, expected in ((world.family_a1.parent.email, "Wallet"), (world.family_a2.parent.email, "NotAllowed"),
                            (world.teacher_a.email, "Wallet"), (world.teacher_b.email, "NotAllowed"),
                            (world.officer_a.email, "NotAllowed"), (world.operator.email, "Wallet")):
        token = await sign_in(client, email)
        body = await gql(client, WALLET, {"userId": str(child.id)}, token)
        assert body["data"]["wallet"]["__typename"] == expected, email


async def test_convert_redeem_and_prove_over_http(world, client, db):
    parent = world.family_a2.parent
    async with ledger_transaction() as w:
        w.add(EntryKind.ADJUSTMENT, parent.pseudonym, Asset.POINTS, 20_000, "seed:points")
    token = await sign_in(client, parent.email)
    conv = (await gql(client, CONVERT, {"key": "k-mileage-1", "target": "MILEAGE", "points": 20_000}, token))
    assert conv["data"]["convertPoints"]["credited"] == 13_000
    minutes = await gql(client, CONVERT, {"key": "k-minutes-1", "target": "VOLUNTEER_MINUTES", "points": 40}, token)
    assert minutes["data"]["convertPoints"]["__typename"] == "NotAllowed"  # parents earn no volunteer hours
    coins = await gql(client, 'mutation { convertMileageToCoins(idempotencyKey: "k-coins-01") '
                              '{ __typename ... on Conversion { credited scope } } }', token=token)
    assert coins["data"]["convertMileageToCoins"] == {"__typename": "Conversion", "credited": 10_000, "scope": "46170"}

    issued = (await gql(client, CODE, {"m": str(world.muni_a.id), "won": 5_000}, token))["data"]["createRedemptionCode"]
    assert issued["__typename"] == "RedemptionCodeIssued"
    officer_b = await sign_in(client, world.officer_b.email)
    assert (await gql(client, REDEEM, {"code": issued["code"]}, officer_b))["data"]["redeemCoins"]["__typename"] == "NotAllowed"
    officer_a = await sign_in(client, world.officer_a.email)
    done = (await gql(client, REDEEM, {"code": issued["code"]}, officer_a))["data"]["redeemCoins"]
    assert (done["__typename"], done["amountWon"]) == ("CoinsRedeemed", 5_000)
    reused = (await gql(client, REDEEM, {"code": issued["code"]}, officer_a))["data"]["redeemCoins"]
    assert reused["reason"] == "already_used"
    forged = (await gql(client, REDEEM, {"code": "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01"}, officer_a))["data"]["redeemCoins"]
    assert forged["reason"] == "forged"

    checkpoint = await publish_checkpoint(db)
    wallet = (await gql(client, WALLET, {}, token))["data"]["wallet"]
    assert (wallet["mileageWon"], wallet["coins"]) == (3_000, [{"municipalityCode": "46170", "won": 5_000}])
    line = wallet["history"][0]
    assert merkle.leaf_hash(line["leafData"].encode()).hex() == line["leafHash"]

    # anyone (even anonymous) can fetch the proof and the key, and check both
    proof = (await gql(client, """query($seq: Int!) { ledgerInclusionProof(seq: $seq) {
        __typename ... on InclusionProof { leafHash treeSize rootHash path checkpointNote } } }""",
                       {"seq": line["seq"]}))["data"]["ledgerInclusionProof"]
    assert proof["treeSize"] == checkpoint.tree_size and proof["leafHash"] == line["leafHash"]
    assert merkle.verify_inclusion(bytes.fromhex(proof["leafHash"]), line["seq"], proof["treeSize"],
                                   [bytes.fromhex(h) for h in proof["path"]], bytes.fromhex(proof["rootHash"]))
    vkey = (await client.get("/ledger/verifier-key")).text.strip()
    name, key = signing.parse_verifier_key(vkey)
    opened = signing.open_checkpoint((await client.get("/ledger/checkpoint")).text, name, key)
    assert opened.root.hex() == proof["rootHash"]
    missing = await gql(client, "{ ledgerInclusionProof(seq: 999999) { __typename ... on ValidationFailed { field } } }")
    assert missing["data"]["ledgerInclusionProof"] == {"__typename": "ValidationFailed", "field": "seq"}
