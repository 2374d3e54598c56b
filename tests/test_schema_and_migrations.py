"""The committed SDL and migrations match the code."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import strawberry

from backend.graphql.access import deny_undeclared_fields, visible
from backend.graphql.export import current_sdl
from backend.graphql.schema import build_schema

ROOT = Path(__file__).resolve().parents[1]


def test_schema_graphql_is_up_to_date():
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == current_sdl(), "schema.graphql is stale: run 'pvpp export-schema' and commit it"


def test_export_schema_check_command_detects_staleness(tmp_path):
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n")
    cmd = [sys.executable, "-m", "backend.cli", "export-schema", "--check", "--path"]
    assert subprocess.run([*cmd, str(stale)], cwd=ROOT, capture_output=True).returncode == 1
    assert subprocess.run([*cmd, str(ROOT / "schema.graphql")], cwd=ROOT, capture_output=True).returncode == 0


def test_every_field_declares_who_may_read_it():
    schema = build_schema()
    assert deny_undeclared_fields(schema._schema) == []


@strawberry.type
class Thing:
    shown: int = visible()
    forgotten: int


@strawberry.type
class ThingQuery:
    @visible()
    def thing(self) -> Thing:
        return Thing(shown=1, forgotten=2)


def test_an_undeclared_field_is_denied():
    schema = strawberry.Schema(query=ThingQuery)
    assert deny_undeclared_fields(schema._schema) == ["Thing.forgotten"]
    result = schema.execute_sync("{ thing { shown forgotten } }")
    assert result.data is None or result.data["thing"] is None
    assert result.errors and result.errors[0].extensions["code"] == "FORBIDDEN"
    ok = schema.execute_sync("{ thing { shown } }")
    assert ok.data == {"thing": {"shown": 1}}


def test_models_have_no_unmigrated_changes():
    script = textwrap.dedent(
        """
        import asyncio
        from tortoise.cli.cli import tortoise_cli_context
        from tortoise.migrations.autodetector import MigrationAutodetector
        from backend.db import MAKEMIGRATIONS_CONFIG as config

        async def main():
            apps = {label: dict(app) for label, app in config["apps"].items()}
            async with tortoise_cli_context(config) as ctx:
                writers = await MigrationAutodetector(ctx.apps, apps).changes()
            print(len(writers))

        asyncio.run(main())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0", "models changed without a migration: run makemigrations"
