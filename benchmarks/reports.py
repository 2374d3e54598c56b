"""``pvpp bench reports``: the monthly municipal report and the scoreboards at municipal scale.

What is measured, on PostgreSQL, in one run:

1. set-up from the demo generator (``benchmarks/demo_bulk.py``, shared with the settlement and
   API benchmarks): the demo's places and staff and the two documented families through the
   services, the generator's families 2..N written with COPY, and each family's planned reports of
   one whole month turned into activities and ledger legs the way ``log_activity`` and
   ``convert_points`` would (catalogue kWh, the year's points formula, daily/weekly/monthly caps,
   photo decisions, the parents' month-end mileage); the plan's three DR events with settled
   households. Bulk rows are written with triggers off and ``score_month`` and the per-group
   summary rebuilt afterwards (``backend.schools.group_summary.rebuild``, timed). Ledger leaf
   hashes of bulk rows are placeholders (``PlaceholderLegs``): no proof or audit is run on this
   database.
2. the report: ``backend.reports.monthly.generate`` for that month (figures), and the PDF.
3. scoreboards through the GraphQL API (the app in this process, httpx ASGI transport, signed in
   as the demo officer): class (the demo school's classes), school and municipality boards for the
   month, and the school board for the school year; latency percentiles.
4. references in the same run: the board's group-summary statement sent bare with asyncpg; the
   per-student ``score_month`` statement (what the API did before the group summary), bare; and
   the same boards computed straight from the activity and ledger rows (``direct_group_totals``,
   what it did before ``score_month``). The figures of all three paths are compared.

Results go to ``benchmarks/results/reports.json``; the scratch database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import calendar
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.scratch import admin as _admin
from benchmarks.scratch import asyncpg_dsn as _asyncpg_dsn
from benchmarks.scratch import machine as _machine
from benchmarks.scratch import uptime as _uptime
from benchmarks.scratch import with_database as _with_database

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "reports.json"
DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test"
GOAL_REPORT_S = 60.0
GOAL_BOARD_P99_MS = 100.0
BOARD = """query($level: ScoreLevel!, $scope: ID, $period: ScorePeriod!, $on: Date) {
  scoreboard(level: $level, scopeId: $scope, period: $period, on: $on) { __typename
  ... on Error { message } ... on Scoreboard { entries { groupId name rank suppressed enrolled participationRate
  pointsPerStudent deemedKwhPerStudent measuredKwhPerStudent drDeliveryRate points deemedKwh measuredKwh } } } }"""

_T0 = time.monotonic()


def progress(message: str) -> None:
    print(f"[bench reports {time.monotonic() - _T0:7.1f}s] {message}", flush=True)


def parse_args(args: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pvpp bench reports",
                                description="Monthly report and scoreboards for a municipality (PostgreSQL).")
    p.add_argument("--students", type=int, default=100_000, help="demo families (one student each), default 100000")
    p.add_argument("--requests", type=int, default=60, help="GraphQL requests per scoreboard (default 60)")
    p.add_argument("--direct-requests", type=int, default=5, help="direct-path repetitions per board (default 5)")
    p.add_argument("--admin-url", default=os.environ.get("PVPP_BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL))
    p.add_argument("--redis-url", default=os.environ.get("PVPP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep-database", action="store_true",
                   help="leave the populated database in place (its name is printed) for --database")
    p.add_argument("--database", default=None,
                   help="measure an existing database left by --keep-database (no set-up; it is kept)")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    opts = p.parse_args(args)
    if not 2 <= opts.students <= 100_000:
        p.error("--students must be 2..100000 (the demo generator's range)")
    return opts


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _stats(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": _pct(ms, 0.5), "p90_ms": _pct(ms, 0.9), "p99_ms": _pct(ms, 0.99),
            "max_ms": max(ms), "mean_ms": statistics.fmean(ms)}


# --------------------------------------------------------------------------- population


async def _populate(raw, settings, n: int, seed: int, anchor: date) -> dict[str, Any]:
    """The demo's places and staff, then families 0..n-1 and one month of their planned history."""
    from backend.demo.plan import dr_events, family
    from benchmarks.demo_bulk import DemoBulk, PlaceholderLegs, ensure_places

    month_days = calendar.monthrange((anchor - timedelta(days=1)).year, (anchor - timedelta(days=1)).month)[1]
    places = await ensure_places(seed, anchor)
    sink = PlaceholderLegs(raw)
    bulk = await DemoBulk(raw, seed, anchor, max(month_days, 7), n, sink, progress).run(places)
    progress(f"activities: {dict(bulk.activity_status)}; ledger entries {sink.seq:,}")
    start, days = bulk.start, [bulk.start + timedelta(days=k) for k in range(max(month_days, 7))]

    plugged = bulk.plugged
    events = dr_events(seed, [family(seed, i) for i, _ in plugged], days)
    settled = 0
    for k, e in enumerate(events):
        ev = await raw.fetchval(
            "INSERT INTO dr_event (title, scope, municipality_id, starts_at, ends_at, target_kw, short_notice, state, "
            "created_at, changed_at, started_at, ended_at) VALUES ($1, 'municipality', $2, $3, $4, $5, $6, 'ended', "
            "$7, $4, $3, $4) RETURNING id", e.title, places.municipality_id, e.starts_at, e.ends_at, e.target_kw,
            e.short_notice, e.created_at)
        part0 = await raw.fetchval("SELECT COALESCE(MAX(id), 0) FROM dr_participation")
        contracted = e.target_kw * 2 / max(len(plugged), 1)
        parts = [(part0 + i + 1, ev, hid, e.starts_at, False, 0, 0) for i, (_, hid) in enumerate(plugged)]
        await raw.copy_records_to_table("dr_participation", records=parts, columns=(
            "id", "event_id", "household_id", "notified_at", "opted_out", "commands_issued", "commands_failed"))
        r = __import__("random").Random(f"{seed}:{k}")
        rows = [(pid, ev, hid, "settled" if r.random() < 0.9 else "insufficient_data", "mid", contracted,
                 round(r.uniform(-0.1, 1.2) * contracted, 3), 0, 1, "[]", "[]", "{}", e.ends_at, e.ends_at)
                for pid, _, hid, *_ in parts]
        await raw.copy_records_to_table("dr_settlement", records=rows, columns=(
            "participation_id", "event_id", "household_id", "status", "method", "contracted_kwh", "reduction_kwh",
            "points", "version", "recipients", "plug_ids", "explanation", "computed_at", "settled_at"))
        settled += len(rows)
    return {**bulk.to_json(), "users": bulk.users + 4, "ledger_entries": sink.seq, "dr_events": len(events),
            "dr_settlements": settled, "month": [start.isoformat(), anchor.isoformat()],
            "municipality_id": places.municipality_id, "school_ids": places.school_ids,
            "officer_email": places.officer_email}


# --------------------------------------------------------------------------- measurements


async def _report(world: dict[str, Any], settings, month_day: date) -> dict[str, Any]:
    from backend.reports import monthly
    from backend.reports.pdf import render

    t0 = time.perf_counter()
    row = await monthly.generate(world["municipality_id"], month_day.year, month_day.month,
                                 settings.display_timezone, settings.grid_emission_factor_t_per_mwh,
                                 settings.scoreboard_min_students)
    t1 = time.perf_counter()
    pdf = render(row.figures)
    t2 = time.perf_counter()
    f = row.figures
    return {"figures_s": t1 - t0, "pdf_s": t2 - t1, "total_s": t2 - t0, "pdf_bytes": len(pdf),
            "figures": {k: f[k] for k in ("deemedKwh", "measuredKwh", "volunteerMinutes", "coinsIssuedWon")},
            "schools": len(f["schools"]), "dr_events": len(f["dr"])}


def _boards(world: dict[str, Any], month_day: date) -> list[dict[str, Any]]:
    school0, muni = world["school_ids"][0], world["municipality_id"]
    return [
        {"name": "class (demo school's classes), month", "level": "CLASS", "scope": str(school0), "period": "MONTH"},
        {"name": "school (the municipality's schools), month", "level": "SCHOOL", "scope": str(muni),
         "period": "MONTH"},
        {"name": "municipality, month", "level": "MUNICIPALITY", "scope": None, "period": "MONTH"},
        {"name": "school, school year", "level": "SCHOOL", "scope": str(muni), "period": "SCHOOL_YEAR"},
    ]


async def _graphql_boards(app, token: str, boards: list[dict], month_day: date, requests: int) -> dict[str, Any]:
    import httpx

    out = {}
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for b in boards:
            body = {"query": BOARD, "variables": {"level": b["level"], "scope": b["scope"], "period": b["period"],
                                                  "on": month_day.isoformat()}}
            ms, answer = [], None
            for _ in range(requests):
                t0 = time.perf_counter()
                response = await client.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})
                ms.append((time.perf_counter() - t0) * 1000)
                answer = response.json()
                if response.status_code != 200 or answer["data"]["scoreboard"]["__typename"] != "Scoreboard":
                    raise RuntimeError(f"scoreboard failed: {response.status_code} {answer}")
            out[b["name"]] = {**_stats(ms), "entries": len(answer["data"]["scoreboard"]["entries"]),
                              "answer": answer["data"]["scoreboard"]["entries"]}
    return out


async def _direct_boards(boards: list[dict], settings, month_day: date, repeats: int) -> dict[str, Any]:
    from backend.schools.periods import PeriodKind, period_of
    from backend.schools.scoreboard import Level, direct_group_totals, group_totals, score_month_totals

    out = {}
    for b in boards:
        level = Level(b["level"].lower())
        scope = None if b["scope"] is None else int(b["scope"])
        period = period_of(PeriodKind(b["period"].lower()), month_day)
        ms = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            direct = await direct_group_totals(level, scope, period, settings.display_timezone)
            ms.append((time.perf_counter() - t0) * 1000)
        fast = await group_totals(level, scope, period, settings.display_timezone)
        per_student = await score_month_totals(level, scope, period, settings.display_timezone)
        out[b["name"]] = {**_stats(ms), "identical_to_group_summary": _same(direct, fast),
                          "identical_to_score_month": _same(direct, per_student)}
    return out


def _same(a, b) -> bool:
    def key(t):
        return (t.group_id, t.enrolled, t.participants, round(t.deemed_kwh, 6), t.points,
                round(t.dr_reduction_kwh, 6), round(t.dr_contracted_kwh, 6))
    return sorted(map(key, a)) == sorted(map(key, b))


def _statement(kind: str, level: str, scope: int | None, period, tz: str, sql) -> str:
    """A board's one statement: over the group summary (``group``) or ``score_month``."""
    from backend.schools.group_board import group_statement
    from backend.schools.scoreboard import Level, summary_statement

    if kind == "group":
        return group_statement(level, scope, period, tz, sql)
    return summary_statement(Level(level), scope, period, tz, sql)


async def _bare_sql(raw, boards: list[dict], tz: str, month_day: date, repeats: int,
                    kind: str = "group") -> dict[str, Any]:
    """The board's one statement alone, sent with asyncpg (no ORM, no GraphQL, no sign-in)."""
    from backend.schools.periods import PeriodKind, period_of
    from backend.schools.sql import Sql

    out = {}
    for b in boards:
        sql = Sql()
        statement = _statement(kind, b["level"].lower(), None if b["scope"] is None else int(b["scope"]),
                               period_of(PeriodKind(b["period"].lower()), month_day), tz, sql)
        ms = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            await raw.fetch(statement, *sql.args)
            ms.append((time.perf_counter() - t0) * 1000)
        out[b["name"]] = _stats(ms)
    return out


async def _explain(raw, world: dict, tz: str, month_day: date) -> str:
    from backend.schools.periods import PeriodKind, period_of
    from backend.schools.sql import Sql

    sql = Sql()
    statement = _statement("group", "school", world["municipality_id"], period_of(PeriodKind.SCHOOL_YEAR, month_day),
                           tz, sql)
    rows = await raw.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *sql.args)
    return "\n".join(r[0] for r in rows)


async def _sign_in(app, email: str, password: str) -> str:
    import httpx

    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        q = ("mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { __typename "
             "... on AuthPayload { accessToken } } }")
        body = (await client.post("/graphql", json={"query": q, "variables": {"e": email, "p": password}})).json()
        return body["data"]["signIn"]["accessToken"]


async def run(opts: argparse.Namespace) -> dict[str, Any]:
    import asyncpg

    from backend.app import create_app
    from backend.codes import local_today
    from backend.db import close_db, init_db, migrate
    from backend.demo.accounts import DEMO_USERS
    from backend.operations.logs import configure_logging
    from backend.schools import group_summary
    from backend.settings import Settings

    configure_logging("WARNING", "console")
    scratch = opts.database or f"pvpp_bench_reports_{uuid.uuid4().hex[:8]}"
    if opts.database is None:
        await _admin(opts.admin_url, f'CREATE DATABASE "{scratch}"')
        progress(f"created database {scratch}")
    url = _with_database(opts.admin_url, scratch)
    var_dir = Path(tempfile.mkdtemp(prefix="pvpp-bench-reports-"))
    settings = Settings(env="development", var_dir=var_dir, database_url=url, secret_key="b" * 40,
                        redis_url=opts.redis_url,
                        ledger_signing_key=base64.b64encode(hashlib.sha256(b"bench").digest()).decode(),
                        log_level="WARNING", log_format="console")
    anchor = local_today(settings.display_timezone).replace(day=1)
    month_day = anchor - timedelta(days=1)
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": _machine(),
                               "load_average_start": _uptime(),
                               "options": {"students": opts.students, "requests": opts.requests, "seed": opts.seed}}
    raw = None
    try:
        await migrate(settings)
        await init_db(settings)
        raw = await asyncpg.connect(_asyncpg_dsn(url))
        results["machine"]["postgresql"] = await raw.fetchval("SHOW server_version")
        if opts.database is None:
            await raw.execute("SET session_replication_role = replica")  # bulk rows: triggers off, rebuilt below
            t0 = time.perf_counter()
            world = await _populate(raw, settings, opts.students, opts.seed, anchor)
            await raw.execute("SET session_replication_role = DEFAULT")
            results["setup"] = {**{k: v for k, v in world.items() if k != "officer_email"},
                                "seconds": time.perf_counter() - t0}
            await raw.execute("CREATE TABLE bench_world (data text)")
            await raw.execute("INSERT INTO bench_world VALUES ($1)", json.dumps(results["setup"] | world))
        else:
            results["setup"] = json.loads(await raw.fetchval("SELECT data FROM bench_world"))
            world = results["setup"]
        await raw.execute("ANALYZE")
        t0 = time.perf_counter()
        from tortoise import connections
        await group_summary.rebuild(connections.get("default"), settings.display_timezone)
        results["summary_rebuild_s"] = time.perf_counter() - t0  # score_month and the group summary
        results["score_month_rows"] = await raw.fetchval("SELECT COUNT(*) FROM score_month")
        results["group_summary_rows"] = {t: await raw.fetchval(f"SELECT COUNT(*) FROM {t}")
                                         for t in group_summary.TABLES}
        await raw.execute("ANALYZE")
        progress(f"set-up {results['setup']['seconds']:.1f}s; summaries rebuilt in "
                 f"{results['summary_rebuild_s']:.1f}s ({results['score_month_rows']:,} score_month rows, "
                 f"group summary {results['group_summary_rows']})")

        results["report"] = await _report(world, settings, month_day)
        progress(f"report {results['report']['figures_s']:.2f}s figures + {results['report']['pdf_s']:.2f}s PDF")
        boards = _boards(world, month_day)
        app = create_app(settings, manage_db=False)
        try:
            token = await _sign_in(app, world["officer_email"], DEMO_USERS["officer"].password)
            results["graphql"] = await _graphql_boards(app, token, boards, month_day, opts.requests)
        finally:
            await app.state.redis.aclose()
        for name, r in results["graphql"].items():
            progress(f"GraphQL {name}: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms ({r['entries']} entries)")
        results["bare_sql"] = await _bare_sql(raw, boards, settings.display_timezone, month_day, opts.requests)
        results["bare_sql_score_month"] = await _bare_sql(raw, boards, settings.display_timezone, month_day,
                                                          opts.direct_requests, kind="score_month")
        results["direct"] = await _direct_boards(boards, settings, month_day, opts.direct_requests)
        for name, r in results["direct"].items():
            progress(f"direct {name}: p50 {r['p50_ms']:.0f} ms, same figures: group summary "
                     f"{r['identical_to_group_summary']}, score_month {r['identical_to_score_month']}")
        results["explain_school_year_board"] = await _explain(raw, world, settings.display_timezone, month_day)
        results["load_average_end"] = _uptime()
    finally:
        if raw is not None:
            await raw.close()
        await close_db()
        if opts.keep_database or opts.database:
            progress(f"kept database {scratch} (measure it again with --database {scratch})")
        else:
            await _admin(opts.admin_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            progress(f"dropped database {scratch}")
    worst = max(r["p99_ms"] for r in results["graphql"].values())
    results["goals"] = {"report_s": results["report"]["total_s"], "report_goal_s": GOAL_REPORT_S,
                        "report_met": results["report"]["total_s"] <= GOAL_REPORT_S,
                        "board_p99_ms_worst": worst, "board_goal_p99_ms": GOAL_BOARD_P99_MS,
                        "board_met": worst <= GOAL_BOARD_P99_MS,
                        "identical": all(r["identical_to_group_summary"] and r["identical_to_score_month"]
                                         for r in results["direct"].values())}
    return results


def table(r: dict[str, Any]) -> str:
    lines = [f"report: figures {r['report']['figures_s']:.2f} s + PDF {r['report']['pdf_s']:.2f} s = "
             f"{r['report']['total_s']:.2f} s (goal <= {GOAL_REPORT_S:.0f} s)"]
    lines.append(f"{'board':<46} {'GraphQL p50':>11} {'p99':>8} {'bare SQL p50':>12} {'p99':>8} "
                 f"{'score_month p50':>15} {'direct p50':>10} {'same':>5}")
    for name, g in r["graphql"].items():
        b, m, d = r["bare_sql"][name], r["bare_sql_score_month"][name], r["direct"][name]
        same = d["identical_to_group_summary"] and d["identical_to_score_month"]
        lines.append(f"{name:<46} {g['p50_ms']:>9.1f}ms {g['p99_ms']:>6.1f}ms {b['p50_ms']:>10.1f}ms "
                     f"{b['p99_ms']:>6.1f}ms {m['p50_ms']:>13.0f}ms {d['p50_ms']:>8.0f}ms {str(same):>5}")
    g = r["goals"]
    lines.append(f"goals: report {'met' if g['report_met'] else 'MISSED'}, scoreboard p99 "
                 f"{g['board_p99_ms_worst']:.1f} ms {'met' if g['board_met'] else 'MISSED'}; load "
                 f"{r['load_average_start']} -> {r.get('load_average_end')}")
    return "\n".join(lines)


def main(args: list[str]) -> int:
    opts = parse_args(args)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    results = asyncio.run(run(opts))
    for g in results["graphql"].values():
        g.pop("answer", None)
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(table(results))
    print(f"results: {opts.output}")
    return 0 if results["goals"]["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
