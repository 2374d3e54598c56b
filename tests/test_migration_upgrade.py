"""An existing database with rows upgrades through every later migration.

A fresh database creates each table with its final columns, so it never meets the case that
broke upgrades: a NOT NULL column added to a table that already has rows needs a default in
the database (``db_default``), not only in Python. Both checks below fail without it.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from tortoise.migrations import operations as ops

import backend.migrations
from tests import services

ROOT = Path(__file__).resolve().parents[1]

# Rows as a deployment held them before the migrations that added plug columns (0006, 0013, 0014).
UPGRADE_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from tortoise import Tortoise, connections
    from tortoise.migrations.api.migrate import migrate
    from backend.db import tortoise_config

    ROWS = [
        "INSERT INTO household (id, name, invite_code, created_at) "
        "VALUES (1, 'Kim family', 'INV00001', '2026-10-01 00:00:00+00:00')",
        "INSERT INTO plug (id, household_id, vendor, device_id, name, paired_at, changed_at) "
        "VALUES (1, 1, 'tasmota', 'tasmota_A1B2C3', 'Washer', '2026-10-01 00:00:00+00:00', "
        "'2026-10-01 00:00:00+00:00')",
    ]

    async def main(url, before):
        cfg = tortoise_config(url)
        await migrate(config=cfg, target="pvpp." + before)
        await Tortoise.init(config=cfg)
        for sql in ROWS:
            await connections.get("default").execute_query(sql)
        await Tortoise.close_connections()
        await migrate(config=cfg)
        await Tortoise.init(config=cfg)
        rows = await connections.get("default").execute_query_dict(
            "SELECT id, device_id, channel, meter, feeds_in, dr_automation, topic_template FROM plug")
        await Tortoise.close_connections()
        print(json.dumps(rows))

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def _migration_modules():
    for info in sorted(pkgutil.iter_modules(backend.migrations.__path__), key=lambda m: m.name):
        yield info.name, importlib.import_module(f"backend.migrations.{info.name}")


def test_every_added_not_null_column_has_a_database_default():
    """AddField/AlterField of a NOT NULL column to a table made by an earlier migration needs db_default."""
    created: set[str] = set()
    missing = []
    for name, module in _migration_modules():
        made_here = {op.name for op in module.Migration.operations if isinstance(op, ops.CreateModel)}
        for op in module.Migration.operations:
            # exact types: a subclass that changes nothing in the database (0009's DescriptionOnly) is exempt
            if type(op) in (ops.AddField, ops.AlterField) and op.model_name in created:
                field = op.field
                relational = hasattr(field, "related_model") or type(field).__name__.endswith("RelationField")
                if not field.null and not field.has_db_default() and not relational:
                    missing.append(f"{name}: {op.model_name}.{op.name}")
        created |= made_here
    assert missing == [], f"NOT NULL columns added without a database default: {missing}"


def _upgrade(url: str, before: str) -> list[dict]:
    import json

    result = subprocess.run([sys.executable, "-c", UPGRADE_SCRIPT, url, before], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _assert_plug_kept(rows: list[dict]) -> None:
    assert len(rows) == 1
    row = rows[0]
    assert row["device_id"] == "tasmota_A1B2C3" and row["channel"] == 0 and row["topic_template"] is None
    assert not row["meter"] and not row["feeds_in"] and not row["dr_automation"]


# before DR automation consent (0006), and before plug channels and feed-in (0013, 0014)
BEFORE = ["0005_photos", "0012_score_month"]


@pytest.mark.parametrize("before", BEFORE)
def test_sqlite_database_with_plugs_upgrades(tmp_path, before):
    _assert_plug_kept(_upgrade(f"sqlite://{tmp_path / 'old.sqlite3'}", before))


@pytest.mark.parametrize("before", BEFORE)
async def test_postgres_database_with_plugs_upgrades(before):
    services.require_service("PostgreSQL", services.POSTGRES_HOST, services.POSTGRES_PORT)
    name = f"pvpp_upgrade_{uuid.uuid4().hex[:10]}"
    await services.pg_admin(f'CREATE DATABASE "{name}"')
    try:
        _assert_plug_kept(_upgrade(services.postgres_url(name), before))
    finally:
        await services.pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
