"""arq jobs run on the real Redis (and the embedded one), in-process and as ``pvpp worker``."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from arq import create_pool
from arq.worker import Worker

from backend.accounts.models import RefreshToken, Session
from tests.builders import build_world
from workers.main import WorkerSettings, redis_settings

ROOT = Path(__file__).resolve().parents[2]


async def test_purge_removes_only_long_ended_sessions(db):
    world = await build_world()
    user = world.family_a1.parent
    now = datetime.now(UTC)
    old = await Session.create(id=uuid.uuid4(), user=user, expires_at=now - timedelta(days=31))
    await Session.create(id=uuid.uuid4(), user=user, expires_at=now + timedelta(days=5),
                                   revoked_at=now - timedelta(days=40))
    live = await Session.create(id=uuid.uuid4(), user=user, expires_at=now + timedelta(days=5))
    recent = await Session.create(id=uuid.uuid4(), user=user, expires_at=now + timedelta(days=5), revoked_at=now)
    await RefreshToken.create(session=old, token_hash="a" * 64)

    pool = await create_pool(redis_settings(db))
    try:
        await pool.enqueue_job("purge_ended_sessions", _job_id=f"purge-{uuid.uuid4()}")
        worker = Worker(functions=WorkerSettings.functions, redis_pool=pool, burst=True, poll_delay=0.05,
                        handle_signals=False)
        await worker.main()
    finally:
        await pool.aclose()
    remaining = set(await Session.filter(user=user).values_list("id", flat=True))
    assert remaining == {live.id, recent.id}
    assert not await RefreshToken.filter(token_hash="a" * 64).exists()
    assert worker.jobs_complete == 1 and worker.jobs_failed == 0


async def test_pvpp_worker_process_runs_jobs(db):
    env = {**os.environ, "PVPP_REDIS_URL": db.redis_url, "PVPP_DATABASE_URL": db.resolved_database_url,
           "PVPP_VAR_DIR": str(db.var_dir), "PVPP_SECRET_KEY": "k" * 40}
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pool = await create_pool(redis_settings(db))
    try:
        job = await pool.enqueue_job("ping")
        assert await job.result(timeout=30) == "pong"
    finally:
        await pool.aclose()
        proc.terminate()
        proc.wait(timeout=15)
        proc.stderr.close()
