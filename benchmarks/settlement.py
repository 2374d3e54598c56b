"""``pvpp bench settlement``: the monthly settlement, checkpoints, proofs and the ledger audit at scale.

What is measured, on PostgreSQL, in one run:

1. set-up from the demo generator (``benchmarks/demo_bulk.py``, shared with the reports and API
   benchmarks): the demo's places and staff and the two documented families through the
   services, the generator's families 2..N (a parent and a student each) written with COPY, and
   ``--days`` of each family's planned reports before ``--anchor`` turned into activities (COPY)
   and their points award legs plus the parents' month-end conversion into mileage, written
   **through the ledger** (``ledger_transaction``, one per chunk of families): the ledger append
   rate;
2. ``settle_month(settings, programme, year, month)`` for the month before the anchor:
   participants (parents and students)/s and ledger entries/s;
3. ``publish_checkpoint`` over the whole ledger;
4. ``checkpoints.inclusion_proof`` (median of up to ``--proofs`` random entries) and
   ``merkle.verify_inclusion``; ``checkpoints.consistency_proof`` and ``merkle.verify_consistency``
   between the checkpoint before and after the settlement;
5. the ledger audit (``backend.ledger.verify.verify_ledger``, what ``pvpp ledger verify`` runs);
6. references measured in the same run: raw asyncpg ``copy_records_to_table`` of as many
   ledger-shaped rows into a scratch table shaped like ``ledger_entry`` (same indexes), and plain
   ``hashlib.sha256`` of as many encoded leaves.

The settlement time is extrapolated linearly to 2,000,000 students (as many demo families)
against the 5-minute goal. Results go to ``benchmarks/results/settlement.json``. The scratch
database is dropped afterwards unless ``--database-url`` names one to use (it must be empty; its
rows are left in place).
"""

from __future__ import annotations

import argparse
import cProfile
import contextlib
import hashlib
import inspect
import io
import os
import pstats
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.scratch import (
    DEFAULT_ADMIN_URL,
    REPO_ROOT,
    asyncpg_dsn,
    bench_settings,
    machine,
    main_writing_results,
    postgres_cpu,
    scratch_database,
    uptime,
)

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "settlement.json"
GOAL_STUDENTS = 2_000_000
GOAL_SECONDS = 300.0
#: The budget is not what is measured: large enough that it never stops issuing coins part-way.
BUDGET_WON = 10**12

_T0 = time.monotonic()


def progress(message: str) -> None:
    print(f"[bench settlement {time.monotonic() - _T0:7.1f}s] {message}", flush=True)


def parse_args(args: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pvpp bench settlement",
                                description="Monthly settlement, checkpoint, proofs and audit at scale (PostgreSQL).")
    p.add_argument("--students", type=int, default=200_000,
                   help="demo families, a parent and a student each (default 200000)")
    p.add_argument("--days", type=int, default=60,
                   help="days of planned history before the anchor, ending with the settled month (default 60, "
                        "the demo's)")
    p.add_argument("--anchor", type=date.fromisoformat, default=None,
                   help="the demo's 'today' (YYYY-MM-DD); the month before it is settled (default: the first day "
                        "of the current month)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="settle_month batch size (default: settle_month's own default)")
    p.add_argument("--database-url", default=None,
                   help="use this (empty) PostgreSQL database instead of a scratch one; it is not dropped")
    p.add_argument("--admin-url", default=os.environ.get("PVPP_BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL),
                   help="PostgreSQL URL used to create and drop the scratch database (default %(default)s)")
    p.add_argument("--proofs", type=int, default=20, help="inclusion proofs to time (default 20)")
    p.add_argument("--proof-budget", type=float, default=120.0,
                   help="stop timing inclusion proofs after this many seconds (default 120)")
    p.add_argument("--profile", action="store_true", help="run settle_month under cProfile and print the top")
    p.add_argument("--seed", type=int, default=0, help="the demo generator's seed (default 0)")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results JSON (default %(default)s)")
    opts = p.parse_args(args)
    if opts.students < 2:
        p.error("--students must be at least 2 (the two documented families)")
    if not 7 <= opts.days <= 366:
        p.error("--days must be 7..366 (the demo generator's range)")
    return opts


# --------------------------------------------------------------------------- database


async def _populate(raw, opts: argparse.Namespace, anchor: date, tz: str) -> dict[str, Any]:
    """The demo's places, families and planned history; award and conversion legs through the ledger."""
    from benchmarks.demo_bulk import LedgerLegs, ensure_places, load_with_summaries

    places = await ensure_places(opts.seed, anchor)
    await raw.execute("UPDATE programme SET coin_budget_won = $1 WHERE id = $2", BUDGET_WON, places.programme_id)
    sink = LedgerLegs()
    bulk, rebuild_s = await load_with_summaries(raw, places, opts.seed, anchor, opts.days, opts.students, sink, tz,
                                                progress)
    progress(f"scoreboard summaries rebuilt in {rebuild_s:.1f}s")
    await raw.execute("ANALYZE")
    return {"programme_id": places.programme_id, "bulk": bulk, "summary_rebuild_s": rebuild_s,
            "ledger": {"entries": sink.entries, "transactions": sink.transactions, "seconds": sink.seconds,
                       "entries_per_s": sink.entries / max(sink.seconds, 1e-9)}}


# --------------------------------------------------------------------------- measurements


async def _settle(settings, programme_id: int, month: tuple[int, int], students: int, batch_size: int | None,
                  profile: bool, database: str) -> dict[str, Any]:
    from backend.rewards.models import Programme
    from backend.rewards.settlement import participants, settle_month

    t0 = time.perf_counter()
    await participants(await Programme.get(id=programme_id))
    participants_s = time.perf_counter() - t0  # measured once on its own; settle_month runs it again

    batch_size = batch_size or inspect.signature(settle_month).parameters["batch_size"].default
    kwargs = {"batch_size": batch_size}
    batches: list[float] = []
    last = [time.perf_counter()]

    def after_batch(_number: int) -> None:
        now = time.perf_counter()
        batches.append(now - last[0])
        last[0] = now

    profiler = cProfile.Profile() if profile else None
    pg_before, py_before = postgres_cpu(database), time.process_time()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = await settle_month(settings, programme_id, *month, after_batch=after_batch, **kwargs)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    py_cpu = time.process_time() - py_before
    pg_cpu = sum(cpu - pg_before.get(pid, 0.0) for pid, cpu in postgres_cpu(database).items())
    out = {
        "month": report.month, "batch_size": batch_size, "batches": len(batches), "seconds": seconds,
        "students": students, "participants": report.participants, "settled": report.settled,
        "entries": report.entries, "volunteer_minutes": report.volunteer_minutes, "coins_won": report.coins_won,
        "budget_exhausted": report.budget_exhausted,
        "students_per_s": students / seconds, "participants_per_s": report.participants / seconds,
        "entries_per_s": report.entries / seconds,
        "participants_query_s": participants_s,
        # Python and PostgreSQL take turns, so on an idle machine the run takes about their sum:
        # a figure that other work on a shared machine barely changes (it steals wall time, not CPU).
        "cpu_seconds": {"python": py_cpu, "postgresql": pg_cpu},
        "cpu_us_per_student": (py_cpu + pg_cpu) / max(students, 1) * 1e6,
        "cpu_us_per_participant": (py_cpu + pg_cpu) / max(report.participants, 1) * 1e6,
        "cpu_bound_students_per_s": students / max(py_cpu + pg_cpu, 1e-9),
        # the first interval also holds the participants query: leave it out of the batch figures
        "batch_s_median": statistics.median(batches[1:] or batches) if batches else 0.0,
        "batch_s_max": max(batches[1:] or batches) if batches else 0.0,
    }
    if profiler:
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(35)
        print(buffer.getvalue())
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(25)
        print(buffer.getvalue())
    return out


async def _checkpoint(settings) -> tuple[dict[str, Any], Any]:
    from backend.ledger.checkpoints import publish_checkpoint

    started = time.perf_counter()
    cp = await publish_checkpoint(settings)
    return {"tree_size": cp.tree_size, "seconds": time.perf_counter() - started}, cp


async def _proofs(cp, old_cp, count: int, budget: float, rng: random.Random) -> dict[str, Any]:
    from backend.ledger import checkpoints, merkle

    make, check, path_len = [], [], 0
    deadline = time.perf_counter() + budget
    for _ in range(count):
        seq = rng.randrange(cp.tree_size)
        t0 = time.perf_counter()
        proof = await checkpoints.inclusion_proof(seq, cp.tree_size)
        t1 = time.perf_counter()
        ok = merkle.verify_inclusion(proof.leaf_hash, seq, cp.tree_size, proof.path, bytes.fromhex(cp.root_hash))
        t2 = time.perf_counter()
        if not ok:
            raise RuntimeError(f"inclusion proof of {seq} does not verify")
        make.append(t1 - t0)
        check.append(t2 - t1)
        path_len = len(proof.path)
        if t2 > deadline:
            break
    t0 = time.perf_counter()
    old, new, path = await checkpoints.consistency_proof(old_cp.tree_size, cp.tree_size)
    t1 = time.perf_counter()
    ok = merkle.verify_consistency(old.tree_size, new.tree_size, bytes.fromhex(old.root_hash),
                                   bytes.fromhex(new.root_hash), path)
    t2 = time.perf_counter()
    if not ok:
        raise RuntimeError("consistency proof does not verify")
    return {
        "inclusion": {"count": len(make), "proof_ms_median": statistics.median(make) * 1e3,
                      "proof_ms_max": max(make) * 1e3, "verify_ms_median": statistics.median(check) * 1e3,
                      "path_length": path_len},
        "consistency": {"from_size": old.tree_size, "to_size": new.tree_size, "proof_ms": (t1 - t0) * 1e3,
                        "verify_ms": (t2 - t1) * 1e3, "path_length": len(path)},
    }


async def _verify(settings) -> dict[str, Any]:
    from backend.ledger.models import LedgerEntry

    size = await LedgerEntry.all().count()
    try:
        from backend.ledger.verify import verify_ledger
    except ImportError:
        verify_ledger = None
    started = time.perf_counter()
    if verify_ledger is not None:
        report = await verify_ledger(settings)
        seconds = time.perf_counter() - started
        return {"method": "backend.ledger.verify.verify_ledger", "entries": report.entries, "ok": report.ok,
                "problems": dict(report.counts), "seconds": seconds,
                "seconds_per_million": seconds / max(report.entries, 1) * 1e6}
    ok = await _plain_recompute(size)
    seconds = time.perf_counter() - started
    return {"method": "plain recomputation (backend.ledger.verify missing)", "entries": size, "ok": ok,
            "seconds": seconds, "seconds_per_million": seconds / max(size, 1) * 1e6}


async def _plain_recompute(size: int) -> bool:
    from backend.ledger import merkle
    from backend.ledger.entries import entry_leaf_hash
    from backend.ledger.models import LedgerEntry
    from backend.ledger.service import record_of

    acc = merkle.MerkleAccumulator()
    for lo in range(0, size, 20_000):
        for row in await LedgerEntry.filter(seq__gte=lo, seq__lt=lo + 20_000).order_by("seq"):
            if entry_leaf_hash(record_of(row)).hex() != row.leaf_hash:
                return False
            acc.append(bytes.fromhex(row.leaf_hash))
    return True


async def _references(raw, n_rows: int, rng: random.Random, database: str) -> dict[str, Any]:
    """COPY of ledger-shaped rows into a scratch copy of ledger_entry, and plain SHA-256 of leaves."""
    from backend.ledger.entries import Asset, EntryKind, EntryRecord, encode_leaf

    at = datetime(2026, 11, 30, 14, 59, 59, tzinfo=UTC)
    records = []
    for seq in range(n_rows):
        who = uuid.UUID(int=rng.getrandbits(128), version=4)
        records.append(EntryRecord(seq=seq, txn=uuid.uuid5(uuid.NAMESPACE_URL, str(seq)), kind=EntryKind.CONVERSION,
                                   account=who, asset=Asset.POINTS, scope="", amount=-9_600,
                                   ref=f"settle:1:2026-11:{who}:volunteer:debit", at=at))
    t0 = time.perf_counter()
    leaves = [encode_leaf(r) for r in records]
    t1 = time.perf_counter()
    digests = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
    t2 = time.perf_counter()
    rows = [(r.seq, r.txn, str(r.kind), r.account, str(r.asset), r.scope, r.amount, r.ref, r.at, d.hex(), "settlement")
            for r, d in zip(records, digests, strict=True)]
    await raw.execute("DROP TABLE IF EXISTS bench_ledger_copy")
    await raw.execute("CREATE TABLE bench_ledger_copy (LIKE ledger_entry INCLUDING ALL)")
    pg_before, py_before = postgres_cpu(database), time.process_time()
    t3 = time.perf_counter()
    await raw.copy_records_to_table(
        "bench_ledger_copy", records=rows,
        columns=("seq", "txn", "kind", "account", "asset", "scope", "amount", "ref", "recorded_at", "leaf_hash", "memo"))
    t4 = time.perf_counter()
    copy_cpu = time.process_time() - py_before + sum(
        cpu - pg_before.get(pid, 0.0) for pid, cpu in postgres_cpu(database).items())
    await raw.execute("DROP TABLE bench_ledger_copy")
    return {
        "rows": n_rows,
        "copy_seconds": t4 - t3, "copy_rows_per_s": n_rows / (t4 - t3), "copy_cpu_seconds": copy_cpu,
        "encode_leaf_seconds": t1 - t0, "encode_leaves_per_s": n_rows / (t1 - t0),
        "sha256_seconds": t2 - t1, "sha256_leaves_per_s": n_rows / (t2 - t1),
    }


# --------------------------------------------------------------------------- run


async def run(opts: argparse.Namespace) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        url = opts.database_url or await stack.enter_async_context(
            scratch_database(opts.admin_url, "pvpp_bench_settle", progress))
        return await _run_on(opts, url)


async def _run_on(opts: argparse.Namespace, url: str) -> dict[str, Any]:
    import asyncpg

    from backend.db import close_db, init_db, migrate

    from backend.codes import local_today

    rng = random.Random(opts.seed)
    settings = bench_settings(url, "settle")
    anchor = opts.anchor or local_today(settings.display_timezone).replace(day=1)
    month_day = anchor.replace(day=1) - timedelta(days=1)
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
                               "uptime_at_start": uptime(),
                               "options": {"students": opts.students, "days": opts.days, "anchor": anchor.isoformat(),
                                           "batch_size": opts.batch_size or "default", "seed": opts.seed}}
    raw = None
    try:
        await migrate(settings)
        await init_db(settings)
        raw = await asyncpg.connect(asyncpg_dsn(url))
        results["machine"]["postgresql"] = await raw.fetchval("SHOW server_version")
        t0 = time.perf_counter()
        world = await _populate(raw, opts, anchor, settings.display_timezone)
        results["setup"] = {**world["bulk"].to_json(), "seconds": time.perf_counter() - t0}
        results["history_ledger"] = world["ledger"]
        progress(f"{opts.students:,} demo families, {results['setup']['activities']:,} activities in "
                 f"{results['setup']['seconds']:.1f}s; {world['ledger']['entries']:,} ledger entries through the "
                 f"ledger in {world['ledger']['seconds']:.1f}s")
        before, old_cp = await _checkpoint(settings)
        results["checkpoint_before"] = before
        progress(f"checkpoint of {before['tree_size']:,} entries in {before['seconds']:.2f}s")

        results["settlement"] = await _settle(settings, world["programme_id"], (month_day.year, month_day.month),
                                              opts.students, opts.batch_size, opts.profile,
                                              urlsplit(url).path.lstrip("/"))
        s = results["settlement"]
        progress(f"settled {s['month']}: {s['participants']:,} participants ({s['students']:,} students), "
                 f"{s['entries']:,} entries in {s['seconds']:.1f}s")
        results["checkpoint"], cp = await _checkpoint(settings)
        progress(f"checkpoint of {cp.tree_size:,} entries in {results['checkpoint']['seconds']:.2f}s")
        results["proofs"] = await _proofs(cp, old_cp, opts.proofs, opts.proof_budget, rng)
        progress(f"proofs: inclusion {results['proofs']['inclusion']['proof_ms_median']:.0f} ms (median of "
                 f"{results['proofs']['inclusion']['count']}), consistency "
                 f"{results['proofs']['consistency']['proof_ms']:.0f} ms")
        results["verify"] = await _verify(settings)
        progress(f"verify: {results['verify']['entries']:,} entries in {results['verify']['seconds']:.1f}s "
                 f"(ok={results['verify']['ok']})")
        results["reference"] = await _references(raw, s["entries"], rng, urlsplit(url).path.lstrip("/"))
        progress("references done")
    finally:
        if raw is not None:
            await raw.close()
        await close_db()
    results["uptime_at_end"] = uptime()
    s = results["settlement"]
    projected = GOAL_STUDENTS / s["students_per_s"]
    results["extrapolation"] = {"students": GOAL_STUDENTS, "seconds": projected, "goal_seconds": GOAL_SECONDS,
                                "meets_goal": projected <= GOAL_SECONDS,
                                "cpu_bound_seconds": GOAL_STUDENTS / s["cpu_bound_students_per_s"],
                                "entries": round(s["entries"] / max(s["students"], 1) * GOAL_STUDENTS),
                                "verify_seconds": results["verify"]["seconds_per_million"] * (
                                    results["history_ledger"]["entries"] + s["entries"]) / max(
                                    opts.students, 1) * GOAL_STUDENTS / 1e6}
    return results


def table(r: dict[str, Any]) -> str:
    s, ref, o = r["settlement"], r["reference"], r["history_ledger"]
    inc, con, v, x = r["proofs"]["inclusion"], r["proofs"]["consistency"], r["verify"], r["extrapolation"]
    rows = [
        ("demo history (ledger append: awards, mileage)", f"{o['entries']:,} entries", f"{o['seconds']:.1f} s",
         f"{o['entries_per_s']:,.0f} entries/s"),
        (f"settle_month {s['month']}", f"{s['participants']:,} participants", f"{s['seconds']:.1f} s",
         f"{s['students_per_s']:,.0f} students/s, {s['entries_per_s']:,.0f} entries/s"),
        ("  CPU: Python + PostgreSQL", f"{s['cpu_us_per_student']:.0f} us/student",
         f"{s['cpu_seconds']['python']:.1f} + {s['cpu_seconds']['postgresql']:.1f} s",
         f"{s['cpu_bound_students_per_s']:,.0f} students/s when CPU-bound"),
        ("  of which participants query", "", f"{s['participants_query_s']:.1f} s", ""),
        ("  one batch (median / max)", f"{s['batch_size']} students", f"{s['batch_s_median']:.3f} / {s['batch_s_max']:.3f} s", ""),
        ("publish_checkpoint (whole ledger)", f"{r['checkpoint']['tree_size']:,} leaves",
         f"{r['checkpoint']['seconds']:.2f} s", ""),
        ("inclusion_proof (median)", f"{inc['count']} proofs", f"{inc['proof_ms_median']:,.0f} ms",
         f"verify {inc['verify_ms_median']:.3f} ms"),
        ("consistency_proof", f"{con['from_size']:,} -> {con['to_size']:,}", f"{con['proof_ms']:,.0f} ms",
         f"verify {con['verify_ms']:.3f} ms"),
        ("ledger verify", f"{v['entries']:,} entries", f"{v['seconds']:.1f} s",
         f"{v['seconds_per_million']:.1f} s per million"),
        ("ref: asyncpg COPY into ledger_entry copy", f"{ref['rows']:,} rows", f"{ref['copy_seconds']:.2f} s",
         f"{ref['copy_rows_per_s']:,.0f} rows/s, CPU {ref['copy_cpu_seconds']:.1f} s"),
        ("ref: encode_leaf", f"{ref['rows']:,} leaves", f"{ref['encode_leaf_seconds']:.2f} s",
         f"{ref['encode_leaves_per_s']:,.0f} leaves/s"),
        ("ref: hashlib SHA-256 of leaves", f"{ref['rows']:,} leaves", f"{ref['sha256_seconds']:.2f} s",
         f"{ref['sha256_leaves_per_s']:,.0f} leaves/s"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.append(f"extrapolated: {x['students']:,} students in {x['seconds'] / 60:.1f} min at this run's wall rate, "
                 f"{x['cpu_bound_seconds'] / 60:.1f} min from its CPU time "
                 f"(goal <= {x['goal_seconds'] / 60:.0f} min: {'met' if x['meets_goal'] else 'MISSED'}); "
                 f"ledger verify of that month ~{x['verify_seconds'] / 60:.1f} min")
    return "\n".join(lines)


def main(args: list[str]) -> int:
    return main_writing_results(args, parse_args, run, table)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
