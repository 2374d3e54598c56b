"""Limits and idempotency hold under real concurrency (PostgreSQL + Redis, and SQLite)."""

from __future__ import annotations

import asyncio

from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import LedgerEntry
from backend.ledger.service import balances_of, ledger_transaction
from tests.builders import build_world, gql, sign_in, start_programmes
from tests.rewards.test_rewards_graphql import CONVERT

ADJUST = """
mutation($key: String!, $user: ID!, $amount: Int!, $asset: Asset!, $scope: String!) {
  adjustBalance(idempotencyKey: $key, userId: $user, asset: $asset, amount: $amount, reason: "fix", scope: $scope) {
    __typename ... on BalanceAdjusted { seq amount } ... on Error { message } ... on ValidationFailed { field }
  }
}"""


async def test_same_conversion_key_sent_30_times_at_once_converts_once_and_replays(client):
    world = await build_world()
    await start_programmes(world)
    parent = world.family_a2.parent
    async with ledger_transaction() as w:
        w.add(EntryKind.ADJUSTMENT, parent.pseudonym, Asset.POINTS, 20_000, "seed:points")
    token = await sign_in(client, parent.email)
    variables = {"key": "same-key-30", "target": "MILEAGE", "points": 10_000}
    bodies = await asyncio.gather(*(gql(client, CONVERT, variables, token) for _ in range(30)))
    results = [b["data"]["convertPoints"] for b in bodies]
    assert {r["__typename"] for r in results} == {"Conversion"}, results
    assert sorted(r["replayed"] for r in results) == [False] + [True] * 29
    assert len({(r["seq"], r["credited"]) for r in results}) == 1
    balances = await balances_of(parent.pseudonym)
    assert balances[(Asset.POINTS, "")] == 10_000


async def test_same_adjustment_key_sent_20_times_at_once_adjusts_once(client):
    world = await build_world()
    token = await sign_in(client, world.operator.email)
    student = world.family_a1.student
    variables = {"key": "adjust-same-20", "user": str(student.id), "amount": 500, "asset": "POINTS", "scope": ""}
    bodies = await asyncio.gather(*(gql(client, ADJUST, variables, token) for _ in range(20)))
    results = [b["data"]["adjustBalance"] for b in bodies]
    assert {r["__typename"] for r in results} == {"BalanceAdjusted"}, results
    assert len({r["seq"] for r in results}) == 1
    assert await LedgerEntry.filter(ref="adjust:adjust-same-20").count() == 1
    assert (await balances_of(student.pseudonym))[(Asset.POINTS, "")] == 500


async def test_coins_for_a_municipality_that_does_not_exist_are_refused(client):
    world = await build_world()
    token = await sign_in(client, world.operator.email)
    variables = {"key": "adjust-coins-1", "user": str(world.family_a1.parent.id), "amount": 500,
                 "asset": "COINS_WON", "scope": "99999"}
    result = (await gql(client, ADJUST, variables, token))["data"]["adjustBalance"]
    assert (result["__typename"], result["field"]) == ("ValidationFailed", "scope")
    assert await LedgerEntry.filter(ref="adjust:adjust-coins-1").count() == 0
    real = (await gql(client, ADJUST, {**variables, "scope": world.muni_a.code}, token))["data"]["adjustBalance"]
    assert real["__typename"] == "BalanceAdjusted"
