"""Outages: the API answers a typed ServiceUnavailable and recovers by itself; the worker
keeps running through a Redis outage; a photo uploaded meanwhile is queued when Redis returns.

Redis tests start their own redis-server (the embedded one, on a private Unix socket), kill
it with SIGKILL and start it again; the PostgreSQL test cuts a proxy in front of the shared
server. The machine's shared services are never stopped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from arq import create_pool
from arq.connections import RedisSettings
from redis.asyncio import Redis

from backend.app import create_app
from backend.db import close_db, init_db
from backend.photos.service import verify_job_id
from backend.plugs.vendors import Vendor
from backend.runtime.embedded_redis import EmbeddedRedis
from tests import services
from tests.builders import PASSWORD, SIGN_IN, build_world, gql, sign_in, start_programmes
from tests.hardening.tcp_proxy import CuttableProxy
from tests.photos.support import camera_jpeg, pending_activity, upload
from tests.plugs.test_plugs_graphql import PUSH, _paired
from tests.workers.test_worker import ROOT


@pytest.fixture
def own_redis(tmp_path):
    server = EmbeddedRedis(tmp_path / "outage")
    server.start()
    yield server
    server.stop()


def kill(server: EmbeddedRedis) -> None:
    os.kill(server.pid, signal.SIGKILL)
    server.stop()  # reaps the killed process


async def _eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.25)


async def test_api_answers_service_unavailable_during_a_redis_outage_and_recovers(db, own_redis):
    settings = db.model_copy(update={"redis_url": own_redis.url})
    app = create_app(settings, manage_db=False)
    transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 4567))
    world = await build_world()
    await start_programmes(world)
    student = world.family_a1.student
    paired = await _paired(settings, world.family_a1.parent, Vendor.HTTP, "bridge-outage-1", "Kettle")
    push = {"device": "bridge-outage-1", "token": paired.token, "batch": "b-1",
            "readings": [{"ts": "2026-01-01T00:00:00Z", "powerW": 1.0}]}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://pvpp.test") as client:
            token = await sign_in(client, student.email)
            activity = await pending_activity(settings, student)
            kill(own_redis)

            signed_in = await gql(client, SIGN_IN, {"email": student.email, "password": PASSWORD})
            assert signed_in["data"]["signIn"]["__typename"] == "ServiceUnavailable"
            pushed = await gql(client, PUSH, push)
            assert pushed["data"]["pushPlugReadings"]["__typename"] == "ServiceUnavailable"
            uploaded = await upload(client, token, activity, camera_jpeg(3))
            assert uploaded["__typename"] == "PhotoUploaded"  # stored; its check is queued later
            photo_id = int(uploaded["photo"]["id"])

            own_redis.start()
            redis = Redis.from_url(own_redis.url)
            try:
                queued = await _eventually(lambda: redis.exists(f"arq:job:{verify_job_id(photo_id, 0)}"), 20)
            finally:
                await redis.aclose()
            assert queued, "the verify job was not queued after Redis returned"
            again = await gql(client, SIGN_IN, {"email": student.email, "password": PASSWORD})
            assert again["data"]["signIn"]["__typename"] == "AuthPayload"
            pushed = await gql(client, PUSH, push)
            assert pushed["data"]["pushPlugReadings"]["__typename"] == "PlugReadingsPushed"
    finally:
        await app.state.redis.aclose()


async def test_pvpp_worker_survives_a_redis_outage(db, own_redis):
    env = {**os.environ, "PVPP_REDIS_URL": own_redis.url, "PVPP_DATABASE_URL": db.resolved_database_url,
           "PVPP_VAR_DIR": str(db.var_dir), "PVPP_SECRET_KEY": "k" * 40, "PVPP_LOG_FORMAT": "console"}
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        await _ping(own_redis.url)
        kill(own_redis)
        await asyncio.sleep(4)  # the worker notices (its polling fails) and waits for Redis
        assert proc.poll() is None, "pvpp worker exited on the Redis outage"
        own_redis.start()
        await _ping(own_redis.url, timeout=60)
        assert proc.poll() is None
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert "starting again" in err, err[-2000:]


async def _ping(url: str, timeout: float = 30) -> None:
    pool = await create_pool(RedisSettings.from_dsn(url))
    try:
        job = await pool.enqueue_job("ping")
        assert await job.result(timeout=timeout) == "pong"
    finally:
        await pool.aclose()


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_api_answers_service_unavailable_during_a_postgresql_outage_and_recovers(db):
    """The API's connections go through a proxy that is cut (reset, then refused) and restored."""
    world = await build_world()
    proxy = CuttableProxy((services.POSTGRES_HOST, services.POSTGRES_PORT))
    await proxy.start()
    host_port = f"{services.POSTGRES_HOST}:{services.POSTGRES_PORT}"
    through = db.model_copy(update={"database_url": db.resolved_database_url.replace(host_port, f"127.0.0.1:{proxy.port}")})
    await close_db()
    await init_db(through)
    app = create_app(through, manage_db=False)
    transport = httpx.ASGITransport(app=app, client=("10.9.8.6", 4567))
    email = world.family_a1.parent.email
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://pvpp.test") as client:
            token = await sign_in(client, email)
            await proxy.cut()
            for _ in range(2):  # live connections reset, then new ones refused
                signed_in = await gql(client, SIGN_IN, {"email": email, "password": PASSWORD})
                assert signed_in["data"]["signIn"]["__typename"] == "ServiceUnavailable"
                me = await client.post("/graphql", json={"query": "{ me { id } }"},
                                       headers={"authorization": f"Bearer {token}"})
                assert me.status_code == 503 and me.headers["retry-after"], me.text
                assert me.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            await proxy.start()

            async def recovered():
                body = await gql(client, SIGN_IN, {"email": email, "password": PASSWORD})
                return body["data"]["signIn"]["__typename"] == "AuthPayload"

            assert await _eventually(recovered, 20)
            me = await gql(client, "{ me { id } }", token=token)
            assert me["data"]["me"]["id"] == str(world.family_a1.parent.id)
    finally:
        await app.state.redis.aclose()
        await proxy.cut()
        await close_db()
        await init_db(db)
