"""Fixtures: the platform on SQLite + embedded Redis and on PostgreSQL + Redis.

Every test that uses ``client`` or ``db`` runs once per backend. Each backend gets a fresh
database with the committed migrations applied; tables are emptied after each test.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE

from backend.app import create_app
from backend.db import close_db, init_db, migrate
from backend.ledger.checkpoints import proof_cache
from backend.runtime.embedded_redis import EmbeddedRedis
from backend.settings import Settings
from tests import services

TABLES = ["municipal_report", "volunteer_export", "transfer_consent", "volunteer_certificate", "award", "nomination", "prize_budget", "dr_dispute", "dr_settlement_adjustment", "dr_settlement", "dr_baseline_choice", "dr_switch", "dr_participation", "dr_event", "photo_band_key", "photo_training_consent", "photo", "plug_command", "plug_push_batch", "plug_pairing_code", "plug_reject_count", "plug_reading", "plug_hour",
          "plug_rollup_dirty", "plug", "activity", "redemption_code", "programme_enrolment", "programme",
          "ledger_entry", "ledger_head", "ledger_node", "ledger_balance", "ledger_checkpoint", "demo_load",
          "consent_record", "guardian_link", "refresh_token", "session", "user",
          "household", "school_class", "school", "municipality", "score_month", "score_student_year",
          "score_group", "score_group_month", "score_group_participants", "score_group_household", "score_group_dr"]
BACKENDS = ["sqlite", "postgres"]


# Fixtures that start a real server with demo data (tests/mobile): their tests share one worker.
SHARED_BACKENDS = ("backend", "tour_backend")


# Bridge tests on the shared Mosquitto whose bridges subscribe to every device's topics (``broker``):
# run one at a time, or a bridge counts the other backend's deliberately bad messages as its own.
SHARED_BROKER = "broker"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With pytest-xdist's ``--dist loadgroup``, the tests on one of the app's real backends run in
    one worker, so that backend's server and demo data are made once; so do the wildcard bridge
    tests on the shared Mosquitto."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        shared = [name for name in SHARED_BACKENDS if name in names]
        if shared:
            item.add_marker(pytest.mark.xdist_group(f"app-{shared[0]}"))
        elif SHARED_BROKER in names:
            item.add_marker(pytest.mark.xdist_group("mosquitto"))


def make_settings(**overrides) -> Settings:
    base = dict(
        env="test", secret_key="test-secret-key-that-is-long-enough-for-hs256",
        password_hash_memory_kib=1_024, password_hash_time_cost=1, log_format="console",
    )
    return Settings(**{**base, **overrides})


@pytest.fixture(scope="session")
def embedded_redis(tmp_path_factory) -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session", params=BACKENDS)
async def settings(request, tmp_path_factory) -> AsyncIterator[Settings]:
    """Settings for one backend, with migrations applied and Tortoise initialised."""
    var_dir = tmp_path_factory.mktemp(f"var-{request.param}")
    pg_name = None
    if request.param == "sqlite":
        redis_url = request.getfixturevalue("embedded_redis").url
        cfg = make_settings(var_dir=var_dir, database_url=f"sqlite://{var_dir / 'pvpp.sqlite3'}", redis_url=redis_url)
    else:
        services.require_service("PostgreSQL", services.POSTGRES_HOST, services.POSTGRES_PORT)
        host, port = services.redis_url().split("//")[1].split("/")[0].split(":")
        services.require_service("Redis", host, int(port))
        pg_name = f"pvpp_test_{uuid.uuid4().hex[:10]}"
        await services.pg_admin(f'CREATE DATABASE "{pg_name}"')
        cfg = make_settings(
            var_dir=var_dir, redis_url=services.redis_url(),
            database_url=services.postgres_url(pg_name),
        )
    # Tortoise caches insert/update SQL per (connection name, table), not per dialect:
    # forget the previous backend's statements before switching.
    EXECUTOR_CACHE.clear()
    await migrate(cfg)
    await init_db(cfg)
    try:
        yield cfg
    finally:
        await close_db()
        if pg_name:
            await services.pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


# The sequences of TABLES that have handed out a value since they were last reset.
_USED_SEQUENCES = """
SELECT DISTINCT s.seqrelid::regclass::text AS name, s.seqstart AS start
FROM pg_sequence s
JOIN pg_depend d ON d.objid = s.seqrelid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
WHERE t.relname = ANY($1::text[]) AND pg_sequence_last_value(s.seqrelid) IS NOT NULL
"""


async def _restart_identities(conn) -> None:
    """After the DELETEs, what ``TRUNCATE ... RESTART IDENTITY`` would also do on PostgreSQL.

    DELETE in one transaction is ~10x quicker than TRUNCATE for the few rows a test leaves:
    TRUNCATE makes new files for every table (and its indexes) and syncs them at commit.
    """
    for row in await conn.execute_query_dict(_USED_SEQUENCES, [TABLES]):
        await conn.execute_query(f"SELECT setval('{row['name']}', {int(row['start'])}, false)")


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Settings]:
    """A clean database and Redis for one test."""
    if not Tortoise._inited:
        await init_db(settings)
    proof_cache.clear()
    yield settings
    conn = connections.get("default")
    deletes = "BEGIN; " + "; ".join(f'DELETE FROM "{t}"' for t in TABLES) + "; COMMIT"
    await conn.execute_script(deletes)
    if not settings.resolved_database_url.startswith("sqlite"):
        await _restart_identities(conn)
    redis = Redis.from_url(settings.redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


@pytest.fixture
async def app(db: Settings):
    application = create_app(db, manage_db=False)
    yield application
    await application.state.redis.aclose()


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 4567))
    async with httpx.AsyncClient(transport=transport, base_url="http://pvpp.test") as c:
        yield c


class QueryCounter(logging.Handler):
    """Counts SQL statements Tortoise sends while it is installed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            self.statements.append(message)


@pytest.fixture
def count_queries() -> Iterator[QueryCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = QueryCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)


SHARED = Path(__file__).resolve().parents[1].parent / "shared"
os.environ.setdefault("PVPP_SHARED_DIR", str(SHARED))
