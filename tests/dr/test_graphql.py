"""DR events over the API: typed errors, the pollable fields, the household's view, and the
subscription over a real WebSocket (graphql-transport-ws, bearer token in connection_init)."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from backend.app import create_app
from backend.dr import service
from backend.dr.models import DrEvent, DrScope
from tests.builders import build_world, gql, principal_of, sign_in

CREATE = """
mutation($input: CreateDrEventInput!) {
  createDrEvent(input: $input) {
    __typename ... on DrEvent { id state scope targetKw optOutUntil } ... on ValidationFailed { field message }
    ... on NotAllowed { message }
  }
}"""
POLL = """
query($id: ID!) {
  drEvents(upcoming: true) { items { id title } }
  drEvent(id: $id) { __typename ... on DrEvent { id state myParticipation { notifiedAt optedIn forgiven } } }
  drLiveView(eventId: $id) { __typename ... on DrLiveView { targetKw detailed householdsOptedOut plugsSwitchedOff
    householdsParticipating } }
}"""
DECIDE = """
mutation($e: ID!, $h: ID!, $in: Boolean!) {
  setDrParticipation(eventId: $e, householdId: $h, optedIn: $in) {
    __typename ... on DrParticipation { optedIn } ... on Error { message } ... on ValidationFailed { field }
  }
}"""


def _input(w, start: datetime, hours: float = 1.0, **extra):
    return {"title": "Evening peak", "scope": "MUNICIPALITY", "scopeId": str(w.muni_a.id),
            "startsAt": start.isoformat(), "endsAt": (start + timedelta(hours=hours)).isoformat(),
            "targetKw": 4.0, **extra}


async def test_create_poll_and_decide_over_http(client, db):
    w = await build_world()
    officer = await sign_in(client, w.officer_a.email)
    start = datetime.now(UTC) + timedelta(hours=2)
    for bad, field in (({"endsAt": start.isoformat()}, "endsAt"), ({"targetKw": 0}, "targetKw"),
                       ({"startsAt": (start - timedelta(hours=3)).isoformat()}, "startsAt")):
        result = (await gql(client, CREATE, {"input": {**_input(w, start), **bad}}, officer))["data"]["createDrEvent"]
        assert (result["__typename"], result["field"]) == ("ValidationFailed", field), result
    created = (await gql(client, CREATE, {"input": _input(w, start)}, officer))["data"]["createDrEvent"]
    assert created["__typename"] == "DrEvent" and created["state"] == "NOTIFIED", created
    overlap = (await gql(client, CREATE, {"input": _input(w, start + timedelta(minutes=30))}, officer))
    assert overlap["data"]["createDrEvent"]["__typename"] == "ValidationFailed"
    other = await sign_in(client, w.officer_b.email)
    refused = (await gql(client, CREATE, {"input": _input(w, start + timedelta(hours=5))}, other))
    assert refused["data"]["createDrEvent"]["__typename"] == "NotAllowed"

    student = await sign_in(client, w.family_a1.student.email)
    body = (await gql(client, POLL, {"id": created["id"]}, student))["data"]
    assert [e["id"] for e in body["drEvents"]["items"]] == [created["id"]]
    assert body["drEvent"]["myParticipation"] == {
        "notifiedAt": body["drEvent"]["myParticipation"]["notifiedAt"], "optedIn": True, "forgiven": False}
    # a household sees aggregates only, and none at all in a group this small
    assert body["drLiveView"] == {"__typename": "DrLiveView", "targetKw": 4.0, "detailed": False,
                                  "householdsOptedOut": None, "plugsSwitchedOff": None,
                                  "householdsParticipating": None}
    staff = (await gql(client, POLL, {"id": created["id"]}, officer))["data"]
    assert staff["drLiveView"]["detailed"] is True and staff["drLiveView"]["householdsParticipating"] == 2
    assert staff["drEvent"]["myParticipation"] is None

    household = str(w.family_a1.household.id)
    said = (await gql(client, DECIDE, {"e": created["id"], "h": household, "in": False}, student))["data"]
    assert said["setDrParticipation"]["__typename"] == "NotAllowed"  # students do not decide for the family
    parent_b = await sign_in(client, w.family_b.parent.email)
    said = (await gql(client, DECIDE, {"e": created["id"], "h": household, "in": False}, parent_b))["data"]
    assert said["setDrParticipation"]["__typename"] == "NotAllowed"  # another household's participation
    parent = await sign_in(client, w.family_a1.parent.email)
    said = (await gql(client, DECIDE, {"e": created["id"], "h": household, "in": False}, parent))["data"]
    assert said["setDrParticipation"] == {"__typename": "DrParticipation", "optedIn": False}
    event = await DrEvent.get(id=int(created["id"]))
    # past the deadline (15 minutes after the start) opting out is a typed error
    await DrEvent.filter(id=event.id).update(starts_at=datetime.now(UTC) - timedelta(minutes=16),
                                             ends_at=datetime.now(UTC) + timedelta(minutes=30))
    late = await gql(client, DECIDE, {"e": created["id"], "h": str(w.family_a2.household.id), "in": False},
                     await sign_in(client, w.family_a2.parent.email))
    assert late["data"]["setDrParticipation"]["field"] == "optedIn"


@pytest.fixture
async def ws_url(db):
    """The app under a real uvicorn with WebSockets on a free port (same loop and database)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(db.model_copy(update={"dr_push_seconds": 0.1, "ws_session_check_seconds": 0.2}), manage_db=False)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, http="h11",
                                           ws="websockets-sansio", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/graphql", f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _session(url: str, token: str | None):
    ws = await connect(url, subprotocols=["graphql-transport-ws"])
    payload = {"authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return ws


async def test_subscription_pushes_new_events_to_households_in_scope(ws_url, client, db):
    url, _ = ws_url
    w = await build_world()
    tokens = {name: await sign_in(client, user.email) for name, user in
              (("a1", w.family_a1.student), ("b", w.family_b.parent))}
    sockets = {}
    for name, token in tokens.items():
        ws = await _session(url, token)
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription { drEvents { id title state myParticipation { optedIn } } }"}}))
        sockets[name] = ws
    try:
        await asyncio.sleep(0.3)  # both subscriptions polling
        event = await service.create_event(
            db, await principal_of(w.officer_a), title="Heat wave", scope=DrScope.MUNICIPALITY,
            scope_id=w.muni_a.id, starts_at=datetime.now(UTC) + timedelta(hours=2),
            ends_at=datetime.now(UTC) + timedelta(hours=3), target_kw=2.0)
        message = json.loads(await asyncio.wait_for(sockets["a1"].recv(), 5))
        assert message["type"] == "next", message
        assert message["payload"]["data"]["drEvents"] == {
            "id": str(event.id), "title": "Heat wave", "state": "NOTIFIED", "myParticipation": {"optedIn": True}}
        with pytest.raises(TimeoutError):  # household b is not in municipality A's event
            await asyncio.wait_for(sockets["b"].recv(), 0.5)
    finally:
        for ws in sockets.values():
            await ws.close()


async def test_websocket_without_a_valid_token_is_refused(ws_url, db):
    url, _ = ws_url
    for token in (None, "not-a-token"):
        ws = await _session(url, token)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 4403
