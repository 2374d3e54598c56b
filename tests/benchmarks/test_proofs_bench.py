"""The proofs benchmark keeps its databases when asked and measures a kept one again without
populating it (``--keep-databases``), so a quiet run only times the proofs."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests import services

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(size: int, output: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PVPP_")}
    env["PVPP_BENCH_REDIS_URL"] = services.redis_url()
    done = subprocess.run([sys.executable, "-m", "benchmarks.proofs", "--sizes", str(size), "--proofs", "3",
                           "--checkpoints", "2", "--keep-databases", "--output", str(output)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(output.read_text())


async def test_kept_database_is_measured_again_without_populating(tmp_path):
    services.require_service("PostgreSQL", services.POSTGRES_HOST, services.POSTGRES_PORT)
    size = random.randrange(3_000, 9_000)  # the database is named by its size: one of its own
    try:
        first = _run(size, tmp_path / "first.json")
        again = _run(size, tmp_path / "again.json")
    finally:
        await services.pg_admin(f'DROP DATABASE IF EXISTS "pvpp_bench_proofs_{size}" WITH (FORCE)')
    assert first["sizes"][0]["populate"]["entries_added"] == size
    assert again["sizes"][0]["populate"] == {"reused": True}
    for result in (first, again):
        measured = result["sizes"][0]
        assert measured["tree_size"] == size
        assert measured["inclusion"]["api"]["p50_ms"] > 0 and measured["consistency"]["api"]["p50_ms"] > 0
