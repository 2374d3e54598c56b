"""``simulate-plugs --transport http`` against the real API served by uvicorn on a free port:
HTTP plugs paired through the service push batches; a batch whose answer was lost is sent
again under the same id and not counted twice; a forged token is refused and counted."""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter

import httpx
import pytest
import uvicorn

from backend.app import create_app
from backend.plugs.fleet_model import FleetModel
from backend.plugs.http_simulator import HTTP_VENDOR_MIX, HttpSimulator, pair_http_plugs
from backend.plugs.models import Plug, PushBatch, RejectCount
from backend.plugs.readings import Vendor
from tests.builders import build_world


@pytest.fixture
async def api_url(db):
    """The app under a real uvicorn on 127.0.0.1 (same event loop and database as the test)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(db, manage_db=False), log_config=None, access_log=False,
                            http="h11", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task
        sock.close()


class FaultyNetwork(httpx.AsyncBaseTransport):
    """Real HTTP, except that the answer to ``lose_answer``'s first push is lost after the
    server committed it, and ``fail_503``'s first push gets a 503 without reaching the server.
    Logs every push as (device id, batch id, number of readings)."""

    def __init__(self, lose_answer: str, fail_503: str) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lose_answer, self.fail_503 = lose_answer, fail_503
        self.log: list[tuple[str, str, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        variables = json.loads(request.content)["variables"]
        device = variables["device"]
        first = all(d != device for d, _, _ in self.log)
        self.log.append((device, variables["batch"], len(variables["readings"])))
        if first and device == self.fail_503:
            return httpx.Response(503, request=request)
        response = await self.inner.handle_async_request(request)
        if first and device == self.lose_answer:
            await response.aread()
            await response.aclose()
            raise httpx.ReadError("connection reset after the server answered", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _stored_by_device() -> Counter[str]:
    from tortoise import Tortoise

    conn = Tortoise.get_connection("default")
    rows = await conn.execute_query_dict(
        "SELECT p.device_id AS device, count(*) AS n FROM plug_reading r JOIN plug p ON p.id = r.plug_id "
        "GROUP BY p.device_id")
    return Counter({r["device"]: int(r["n"]) for r in rows})


async def _rejects(reason: str) -> int:
    return sum(r.count for r in await RejectCount.filter(reason=reason))


async def test_http_fleet_pushes_batches_retries_without_double_counting_and_refuses_forged_token(db, api_url):
    world = await build_world()
    households = [world.family_a1.household.id, world.family_a2.household.id]
    # 2 households, a fast report interval, and many duplicates and counter resets
    fleet = FleetModel(2, seed=11, vendor_mix=HTTP_VENDOR_MIX, report_interval_s=0.25,
                       duplicate_rate=0.2, reset_rate_per_day=86_400 / 2)
    tokens = await pair_http_plugs(db, fleet, households)
    plugs = await Plug.filter(unpaired_at=None).order_by("id")
    assert len(fleet.plugs) >= 4 and len(tokens) == len(fleet.plugs) == len(plugs)
    assert {p.vendor for p in plugs} == {Vendor.HTTP} and all(p.token_hash for p in plugs)
    assert {p.household_id for p in plugs} == set(households)

    forged, lost, failed = (p.device_id for p in fleet.plugs[:3])
    tokens[forged] = "forged-" + tokens[forged][7:]
    network = FaultyNetwork(lose_answer=lost, fail_503=failed)
    simulator = HttpSimulator(fleet, api_url, tokens, batch_s=0.5, transport=network)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(3.0, stop.set)
    stats = await simulator.run(stop)

    # every reading of a genuine plug is answered: stored once, or recognised as a duplicate
    batches = {batch: (device, n) for device, batch, n in network.log}
    sent = Counter()
    for device, n in batches.values():
        sent[device] += n
    stored = await _stored_by_device()
    genuine = [p.device_id for p in fleet.plugs if p.device_id != forged]
    assert simulator.unsent == 0 and stats.readings == sum(sent.values())
    assert all(stored[d] > 0 for d in genuine) and forged not in stored
    assert stats.accepted == sum(stored.values()) == sum(await PushBatch.all().values_list("accepted", flat=True))
    assert stats.duplicates > 0 and sum(stored.values()) + await _rejects("duplicate") == sum(sent[d] for d in genuine)
    assert sum(p.resets for p in fleet.plugs) > 0

    # the lost answer and the 503 were retried under the same batch id; the server kept one of each
    for device in (lost, failed):
        first = next(b for d, b, _ in network.log if d == device)
        assert [b for d, b, _ in network.log].count(first) == 2
        assert await PushBatch.filter(batch_id=first).count() == 1
    assert stats.errors == 2 and stats.replayed == 1

    # the forged token: every push refused, counted by the server per push and by the simulator per reading
    forged_pushes = [n for d, _, n in network.log if d == forged]
    assert forged_pushes and await _rejects("bad_token") == len(forged_pushes)
    assert stats.rejected == Counter({"bad_token": sum(forged_pushes)})
