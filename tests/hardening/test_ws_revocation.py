"""An open WebSocket subscription ends within seconds of sign-out, consent withdrawal,
account deletion or a role change, as HTTP with the same token does (real uvicorn server)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from websockets.exceptions import ConnectionClosed

from backend.accounts.models import Role, User
from backend.dr import service
from backend.dr.models import DrScope
from tests.builders import PASSWORD, build_world, gql, principal_of, sign_in
from tests.dr.test_graphql import _session, ws_url  # noqa: F401 (the real-server fixture)

SUBSCRIBE = {"id": "1", "type": "subscribe",
             "payload": {"query": "subscription { drEvents { id title } }"}}


async def _subscribed(url: str, token: str):
    ws = await _session(url, token)
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps(SUBSCRIBE))
    await asyncio.sleep(0.3)  # the subscription is polling
    return ws


async def _new_event(db, world, title: str, hours_ahead: int = 2):
    start = datetime.now(UTC) + timedelta(hours=hours_ahead)
    return await service.create_event(db, await principal_of(world.officer_a), title=title,
                                      scope=DrScope.MUNICIPALITY, scope_id=world.muni_a.id, starts_at=start,
                                      ends_at=start + timedelta(hours=1), target_kw=1.0)


async def _closed_for_session(ws) -> int:
    """The close code once the server closes; events sent meanwhile fail the test."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["type"] != "next", f"delivered after the session ended: {message}"
    return closed.value.rcvd.code


async def _sign_out(client, db, world, token):
    await gql(client, "mutation { signOut { ok } }", token=token)


async def _withdraw_consent(client, db, world, token):
    parent = await sign_in(client, world.family_a1.parent.email)
    body = await gql(client, "mutation($id: ID!) { withdrawGuardianConsent(studentId: $id) { __typename } }",
                     {"id": str(world.family_a1.student.id)}, parent)
    assert body["data"]["withdrawGuardianConsent"]["__typename"] == "GuardianLink"


async def _delete_account(client, db, world, token):
    body = await gql(client, "mutation($p: String!) { deleteMyAccount(password: $p) { __typename } }",
                     {"p": PASSWORD}, token)
    assert body["data"]["deleteMyAccount"]["__typename"] == "AccountDeleted"


async def _change_role(client, db, world, token):
    await User.filter(id=world.family_a1.student.id).update(role=Role.PARENT)


@pytest.mark.parametrize("end", [_sign_out, _withdraw_consent, _delete_account, _change_role],
                         ids=["sign-out", "consent-withdrawn", "account-deleted", "role-changed"])
async def test_subscription_is_closed_when_the_session_ends(ws_url, client, db, end):
    url, _ = ws_url
    world = await build_world()
    token = await sign_in(client, world.family_a1.student.email)  # 12 years old, guardian consented
    ws = await _subscribed(url, token)
    try:
        await _new_event(db, world, "Before")
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert first["payload"]["data"]["drEvents"]["title"] == "Before"
        await end(client, db, world, token)
        await _new_event(db, world, "After", hours_ahead=5)
        assert await _closed_for_session(ws) == 4403
    finally:
        await ws.close()


async def test_subscription_of_a_live_session_stays_open(ws_url, client, db):
    url, _ = ws_url
    world = await build_world()
    token = await sign_in(client, world.family_a1.parent.email)
    ws = await _subscribed(url, token)
    try:
        await asyncio.sleep(1.0)  # several session checks pass
        await _new_event(db, world, "Still here")
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message["payload"]["data"]["drEvents"]["title"] == "Still here"
    finally:
        await ws.close()

