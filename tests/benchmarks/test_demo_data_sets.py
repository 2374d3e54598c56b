"""The API, reports and settlement benchmarks run on the demo generator's families and history.

Each benchmark runs as a user runs it (``python -m benchmarks.<name>``) at a tiny size on
PostgreSQL, and the rows it measured are compared with the generator's plan for the seed:
households and people by invite code, e-mail and name, activities by the plan's idempotency keys,
award legs by activity, and (API) the dashboard document against the documented parent's planned
reports and simulated plugs.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import pytest

from backend.demo.plan import family, family_reports
from tests import services

ROOT = Path(__file__).resolve().parents[2]
SEED = 3
ANCHOR = date(2026, 12, 1)

pytestmark = pytest.mark.slow


def _require_postgres() -> None:
    services.require_service("PostgreSQL", services.POSTGRES_HOST, services.POSTGRES_PORT)


def _admin_url() -> str:
    return services.postgres_url(services.POSTGRES_ADMIN_DB)


def _bench(name: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PVPP_")}
    done = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{name} exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


def _planned(n: int, days: int, anchor: date) -> tuple[list, dict[str, tuple]]:
    """The plan's families and every planned report's key -> (family, who, type, local day)."""
    start = anchor - timedelta(days=days)
    period = [start + timedelta(days=k) for k in range(days)]
    families = [family(SEED, i) for i in range(n)]
    reports = {r.key: (r.family, r.who, r.type_key, r.at.date()) for f in families
               for r in family_reports(SEED, f, period, anchor, 6)}
    return families, reports


async def _check_population(url: str, n: int, days: int, anchor: date) -> dict:
    """The database holds exactly the generator's families and planned activities."""
    families, planned = _planned(n, days, anchor)
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        codes = [r[0] for r in await conn.fetch("SELECT invite_code FROM household ORDER BY id")]
        assert codes == [f.invite_code for f in families]
        people = {(r[0], r[1]) for r in await conn.fetch(
            "SELECT email, display_name FROM \"user\" WHERE household_id IS NOT NULL")}
        assert people == {(f.parent_email, f.parent_name) for f in families} | {
            (f.student_email, f.student_name) for f in families}
        links = await conn.fetchval("SELECT COUNT(*) FROM guardian_link WHERE consent_given_at IS NOT NULL")
        assert links == n
        rows = await conn.fetch(
            "SELECT a.idempotency_key, a.activity_type, a.occurred_on, a.status, a.points, a.id, u.email "
            "FROM activity a JOIN \"user\" u ON u.id = a.user_id")
        assert rows and all(r[0] in planned for r in rows)
        for key, kind, day, _status, _points, _id, email in rows:
            index, who, type_key, planned_day = planned[key]
            f = families[index]
            assert (kind, day, email) == (type_key, planned_day, f.parent_email if who == "parent" else f.student_email)
        awards = {r[0] for r in await conn.fetch("SELECT ref FROM ledger_entry WHERE kind = 'award'")}
        assert awards == {f"activity:{r[5]}:award" for r in rows if r[3] == "accepted" and r[4] > 0}
        return {"activities": len(rows), "planned": len(planned),
                "status": Counter(r[3] for r in rows)}
    finally:
        await conn.close()


async def _drop(name: str) -> None:
    await services.pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_settlement_bench_settles_the_generators_families(tmp_path):
    _require_postgres()
    name = f"pvpp_test_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(services.pg_admin(f'CREATE DATABASE "{name}"'))
    url = services.postgres_url(name)
    try:
        n, days = 24, 35
        _bench("settlement", "--students", str(n), "--days", str(days), "--anchor", ANCHOR.isoformat(),
               "--seed", str(SEED), "--proofs", "2", "--database-url", url, "--output", str(tmp_path / "s.json"))
        found = asyncio.run(_check_population(url, n, days, ANCHOR))
        results = json.loads((tmp_path / "s.json").read_text())
        setup, settled = results["setup"], results["settlement"]
        assert setup["activities"] == found["activities"]
        assert setup["activity_status"]["refused_by_caps"] == found["planned"] - found["activities"]
        # the month before the anchor, for every parent and student; the legs verify
        assert settled["month"] == "2026-11" and settled["participants"] == 2 * n
        assert settled["volunteer_minutes"] > 0 and settled["entries"] > 0
        assert results["verify"]["ok"] is True
        assert setup["mileage_conversions"] > 0
    finally:
        asyncio.run(_drop(name))


def test_reports_bench_reports_on_the_generators_families(tmp_path):
    _require_postgres()
    n = 20
    done = _bench("reports", "--students", str(n), "--seed", str(SEED), "--requests", "2", "--direct-requests", "1",
                  "--admin-url", _admin_url(), "--redis-url", services.redis_url(), "--keep-database",
                  "--output", str(tmp_path / "r.json"))
    name = re.search(r"kept database (\S+)", done.stdout).group(1)
    try:
        results = json.loads((tmp_path / "r.json").read_text())
        start, anchor = (date.fromisoformat(d) for d in results["setup"]["month"])
        found = asyncio.run(_check_population(services.postgres_url(name), n, (anchor - start).days, anchor))
        assert results["setup"]["activities"] == found["activities"]
        assert results["goals"]["identical"] is True
    finally:
        asyncio.run(_drop(name))


def test_api_bench_reads_the_documented_parents_history(tmp_path):
    from backend.plugs.fleet_model import DEFAULT_VENDOR_MIX, FleetModel
    from backend.plugs.simulator import KIND_NAMES

    _require_postgres()
    n, days = 12, 10
    _bench("api", "--families", str(n), "--days", str(days), "--seed", str(SEED), "--duration", "1",
           "--warmup", "0", "--connections", "2", "--client", "python", "--admin-url", _admin_url(),
           "--redis-url", services.redis_url(), "--output", str(tmp_path / "a.json"))
    results = json.loads((tmp_path / "a.json").read_text())
    assert results["clean_run"] is True
    data = results["response"]["data"]
    assert data["me"]["displayName"] == family(SEED, 0).parent_name
    # parent1's recent activities are the newest of their planned reports
    today = date.fromisoformat(results["demo_data"]["period"][1])
    _, planned = _planned(1, days, today)
    mine = Counter((t, d.isoformat()) for index, who, t, d in planned.values() if index == 0 and who == "parent")
    items = data["activities"]["items"]
    assert items and not Counter((a["activityType"], a["occurredOn"]) for a in items) - mine
    assert items[0]["occurredOn"] == max(d for _, d in mine)
    assert data["wallet"]["balancesMatchLedger"] is True
    # the household's plugs are the simulated fleet's, with readings rolled up this month
    fleet = FleetModel(2, seed=SEED, report_interval_s=900.0, vendor_mix=DEFAULT_VENDOR_MIX, steady_households=[0])
    names = sorted(KIND_NAMES.get(str(p.kind), str(p.kind)) for p in fleet.plugs if p.household == 0)
    assert sorted(p["name"] for p in data["plugs"]["items"]) == names
    assert results["demo_data"]["plug_readings"] > 0 and results["demo_data"]["families"] == n
