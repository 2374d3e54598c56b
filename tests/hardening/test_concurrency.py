"""Limits and idempotency hold under real concurrency (PostgreSQL + Redis, and SQLite)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from backend.codes import local_today
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import LedgerEntry
from backend.ledger.service import balances_of, ledger_transaction
from backend.photos.models import Photo
from tests.accounts.test_auth_graphql import SIGN_UP
from tests.builders import PASSWORD, SIGN_IN, build_world, gql, sign_in, start_programmes
from tests.photos.support import camera_jpeg, pending_activity, upload
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


async def test_thirty_parallel_wrong_passwords_get_only_five_guesses(client, settings):
    world = await build_world()
    email = world.family_a1.parent.email
    bodies = await asyncio.gather(*(gql(client, SIGN_IN, {"email": email, "password": f"wrong-{i}-Password!"})
                                    for i in range(30)))
    kinds = Counter(b["data"]["signIn"]["__typename"] for b in bodies)
    assert kinds == {"InvalidCredentials": settings.signin_max_failures_per_account,
                     "RateLimited": 30 - settings.signin_max_failures_per_account}, kinds
    # the right password is refused too until the window ends: the guesses were used up
    assert (await gql(client, SIGN_IN, {"email": email, "password": PASSWORD}))["data"]["signIn"]["__typename"] \
        == "RateLimited"


async def test_successful_sign_ins_do_not_use_up_the_address_limit(client, settings):
    world = await build_world()
    for _ in range(settings.signin_max_failures_per_account + 2):
        await sign_in(client, world.family_a1.parent.email)


async def test_sign_up_is_rate_limited_per_address(client, settings):
    bodies = await asyncio.gather(*(gql(client, SIGN_UP, {"input": {
        "email": f"new{i}@example.org", "password": PASSWORD, "displayName": f"New {i}", "role": "PARENT"}})
        for i in range(settings.signup_max_per_address + 5)))
    kinds = Counter(b["data"]["signUp"]["__typename"] for b in bodies)
    assert kinds == {"SignUpSuccess": settings.signup_max_per_address, "RateLimited": 5}, kinds


async def test_same_photo_sent_at_once_for_six_activities_is_accepted_once(client, db):
    world = await build_world()
    await start_programmes(world)
    student = world.family_a1.student
    token = await sign_in(client, student.email)
    today = local_today(db.display_timezone)
    activities = [await pending_activity(db, student, on=today - timedelta(days=i)) for i in range(6)]
    data = camera_jpeg(7, datetime.now(UTC))
    results = await asyncio.gather(*(upload(client, token, a, data) for a in activities))
    kinds = Counter(r["__typename"] for r in results)
    assert kinds == {"PhotoUploaded": 1, "DuplicatePhoto": 5}, kinds
    assert await Photo.all().count() == 1


async def test_giving_back_an_attempt_after_its_window_leaves_no_key(db):
    from redis.asyncio import Redis

    from backend.accounts.ratelimit import AttemptCounter

    redis = Redis.from_url(db.redis_url)
    try:
        counter = AttemptCounter(redis, "test-release", limit=3, window_seconds=60)
        await counter.take("someone")
        await counter.release("someone")
        assert int(await redis.get(counter._key("someone"))) == 0
        await redis.delete(counter._key("someone"))  # the window ended
        await counter.release("someone")
        assert await redis.exists(counter._key("someone")) == 0
    finally:
        await redis.aclose()
