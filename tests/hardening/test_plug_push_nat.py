"""Forged plug tokens from one address do not block the genuine plugs behind it (a school's
or an apartment block's NAT): only wrong tokens meet the per-address limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from backend.app import create_app
from backend.plugs.vendors import Vendor
from tests.builders import build_world, gql
from tests.plugs.test_plugs_graphql import PUSH, _paired


async def test_genuine_pushes_work_from_an_address_blocked_for_forged_tokens(db):
    world = await build_world()
    settings = db.model_copy(update={"plug_push_bad_tokens_per_address": 2})
    app = create_app(settings, manage_db=False)
    paired = await _paired(db, world.family_a1.parent, Vendor.HTTP, "bridge-nat-1", "Fridge")
    now = datetime.now(UTC)

    def push(batch: str, token: str) -> dict:
        return {"device": "bridge-nat-1", "token": token, "batch": batch,
                "readings": [{"ts": (now - timedelta(seconds=30)).isoformat(), "powerW": 5.0}]}

    transport = httpx.ASGITransport(app=app, client=("10.0.0.9", 4567))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://pvpp.test") as c:
            async def kind(batch: str, token: str) -> str:
                return (await gql(c, PUSH, push(batch, token)))["data"]["pushPlugReadings"]["__typename"]

            assert [await kind(f"f{i}", "forged") for i in range(3)] == ["InvalidToken", "InvalidToken", "RateLimited"]
            assert await kind("g1", paired.token) == "PlugReadingsPushed"
            assert await kind("f9", "forged") == "RateLimited"  # the address stays blocked for guesses
    finally:
        await app.state.redis.aclose()
