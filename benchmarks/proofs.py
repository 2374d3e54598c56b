"""``pvpp bench proofs``: ledger inclusion and consistency proofs through the API at growing tree sizes.

What is measured, on PostgreSQL, in one run (sizes default to 1,000,000 and 10,000,000):

1. populate: synthetic entries are inserted by PostgreSQL itself (``generate_series``; leaf ``i``
   is the RFC 9162 leaf hash of the text ``str(i)``), the stored nodes are computed in bulk in
   Python (:class:`backend.ledger.tree.TreeState`, plain hashlib) and COPYed, the ledger head gets
   its compact range, and checkpoints are signed at the full size and at ``--checkpoints``
   random earlier sizes (their roots computed from the stored nodes). To populate quickly the
   secondary indexes of ``ledger_entry`` are dropped in the scratch database; proofs read only
   its primary key. Each larger size extends the same ledger.
2. proofs through the real ASGI app and GraphQL (httpx in-process, proof cache cleared before
   every request, so every proof reads the database): ``ledgerInclusionProof`` of random entries
   against the latest checkpoint and ``ledgerConsistencyProof`` from a random earlier checkpoint;
   p50/p99 latency, the SQL statements per proof and every answer checked with ``merkle.verify_*``;
   the same proof by calling ``backend.ledger.checkpoints`` directly (no HTTP, GraphQL, Redis);
3. reference, same run, same proofs: the bare SQL reads of exactly the rows each proof needs
   (raw asyncpg, the same two ``IN`` queries plus the checkpoint row), p50/p99.

Results go to ``benchmarks/results/proofs.json``; the scratch database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import scratch

DEFAULT_OUTPUT = scratch.REPO_ROOT / "benchmarks" / "results" / "proofs.json"
GOAL_P99_MS = 10.0
_T0 = time.monotonic()
_INSERT_CHUNK = 1_000_000
_NODE_CHUNK = 200_000


def progress(message: str) -> None:
    print(f"[bench proofs {time.monotonic() - _T0:7.1f}s] {message}", flush=True)


def parse_args(args: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pvpp bench proofs",
                                description="Ledger proofs through the API at growing tree sizes (PostgreSQL).")
    p.add_argument("--sizes", default="1000000,10000000",
                   help="comma-separated increasing tree sizes (default %(default)s)")
    p.add_argument("--proofs", type=int, default=300, help="proofs of each kind timed per size (default 300)")
    p.add_argument("--checkpoints", type=int, default=30, help="earlier checkpoints per size (default 30)")
    p.add_argument("--admin-url", default=os.environ.get("PVPP_BENCH_POSTGRES_URL", scratch.DEFAULT_ADMIN_URL),
                   help="PostgreSQL URL used to create and drop the scratch database (default %(default)s)")
    p.add_argument("--redis-url", default=os.environ.get("PVPP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"),
                   help="Redis for the API's rate limits (default %(default)s)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep-databases", action="store_true",
                   help="keep one database per size (pvpp_bench_proofs_<size>) and reuse it on the next run, "
                        "so a quiet run measures without populating")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return p.parse_args(args)


def leaf(i: int) -> bytes:
    """The synthetic leaf hash of entry ``i``; PostgreSQL computes the same in ``_insert_entries``."""
    return hashlib.sha256(b"\x00" + str(i).encode()).digest()


async def _insert_entries(raw, lo: int, hi: int) -> None:
    await raw.execute(
        "INSERT INTO ledger_entry (seq, txn, kind, account, asset, scope, amount, ref, recorded_at, leaf_hash, memo) "
        "SELECT g, '00000000-0000-0000-0000-000000000001'::uuid, 'award', "
        "'00000000-0000-0000-0000-000000000002'::uuid, 'points', '', 1, 'bench:' || g, "
        "timestamptz '2026-11-01 00:00:00+00', "
        "encode(sha256('\\x00'::bytea || convert_to(g::text, 'UTF8')), 'hex'), '' "
        "FROM generate_series($1::bigint, $2::bigint) AS g", lo, hi - 1)


async def _populate(raw, state, target: int) -> dict[str, Any]:
    """Extend the ledger (and its stored nodes) from ``state.size`` to ``target`` entries."""
    from backend.ledger import nodes, tree

    t0 = time.perf_counter()
    start = state.size
    for lo in range(start, target, _INSERT_CHUNK):
        await _insert_entries(raw, lo, min(target, lo + _INSERT_CHUNK))
    t_entries = time.perf_counter() - t0
    sample = await raw.fetchval("SELECT leaf_hash FROM ledger_entry WHERE seq = $1", target - 1)
    assert sample == leaf(target - 1).hex(), "PostgreSQL and Python leaves differ"
    t1 = time.perf_counter()
    stored = 0
    for lo in range(start, target, _NODE_CHUNK):
        completed = state.append([leaf(i) for i in range(lo, min(target, lo + _NODE_CHUNK))])
        rows = [(tree.node_key(level, index), h) for level, index, h in completed]
        await raw.copy_records_to_table("ledger_node", records=rows, columns=("id", "hash"))
        stored += len(rows)
    await raw.execute("INSERT INTO ledger_head (id, size, peaks) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE "
                      "SET size = EXCLUDED.size, peaks = EXCLUDED.peaks", target, json.dumps(nodes.peaks_json(state)))
    t_nodes = time.perf_counter() - t1
    await raw.execute("ANALYZE ledger_entry")
    await raw.execute("ANALYZE ledger_node")
    return {"entries_added": target - start, "entries_seconds": t_entries, "nodes_added": stored,
            "nodes_seconds": t_nodes}


async def _sign_checkpoints(settings, raw, sizes: list[int]) -> None:
    """Checkpoints at ``sizes``, roots from the stored nodes (O(log n) reads each)."""
    from backend.ledger import signing, tree
    from backend.ledger.checkpoints import ledger_key
    from backend.ledger.nodes import read_hashes

    key = ledger_key(settings)
    for size in sizes:
        if await raw.fetchval("SELECT 1 FROM ledger_checkpoint WHERE tree_size = $1", size):
            continue
        leaves, stored = await read_hashes(tree.reads_for([(0, size)]))
        root = tree.range_hash(0, size, leaves, stored)
        peaks = [tree.range_hash(*r, leaves, stored) for r in _peak_ranges(size)]
        note = signing.sign_checkpoint(signing.Checkpoint(key.name, size, root), key.name, key.private_key)
        await raw.execute(
            "INSERT INTO ledger_checkpoint (tree_size, root_hash, peaks, issued_at, key_id, note) "
            "VALUES ($1, $2, $3, $4, $5, $6)", size, root.hex(), json.dumps([p.hex() for p in peaks]),
            datetime.now(UTC), signing.key_id(key.name, key.public_key).hex(), note)


def _peak_ranges(size: int) -> list[tuple[int, int]]:
    out, lo = [], 0
    for bit in reversed(range(size.bit_length())):
        if size >> bit & 1:
            out.append((lo, lo + (1 << bit)))
            lo += 1 << bit
    return out


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().lstrip().upper().startswith("SELECT"):
            self.count += 1


def _percentiles(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {"p50_ms": statistics.median(ordered), "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
            "max_ms": ordered[-1], "count": len(ordered)}


INCLUSION = """query($seq: Int!) { ledgerInclusionProof(seq: $seq) {
  __typename ... on InclusionProof { leafHash treeSize rootHash path } } }"""
CONSISTENCY = """query($a: Int!, $b: Int!) { ledgerConsistencyProof(fromSize: $a, toSize: $b) {
  __typename ... on ConsistencyProof { fromRoot toRoot path } } }"""


async def _measure(client, raw, size: int, old_sizes: list[int], count: int, rng: random.Random) -> dict[str, Any]:
    from backend.ledger import checkpoints, merkle, tree
    from backend.ledger.checkpoints import proof_cache

    counter = _Counter()
    db_log = logging.getLogger("tortoise.db_client")
    db_log.setLevel(logging.DEBUG)
    db_log.addHandler(counter)
    out: dict[str, Any] = {"tree_size": size}
    try:
        for kind in ("inclusion", "consistency"):
            api_ms, direct_ms, sql_ms, statements, rows = [], [], [], [], []
            for _ in range(count):
                if kind == "inclusion":
                    seq = rng.randrange(size)
                    body, variables = INCLUSION, {"seq": seq}
                    ranges, extra = tree.inclusion_ranges(seq, size), [seq]
                else:
                    old = rng.choice(old_sizes)
                    body, variables = CONSISTENCY, {"a": old, "b": size}
                    ranges, extra = tree.consistency_ranges(old, size), []
                proof_cache.clear()
                before = counter.count
                t0 = time.perf_counter()
                response = await client.post("/graphql", json={"query": body, "variables": variables})
                api_ms.append((time.perf_counter() - t0) * 1000)
                statements.append(counter.count - before)
                result = next(iter(response.json()["data"].values()))
                path = [bytes.fromhex(h) for h in result["path"]]
                if kind == "inclusion":
                    ok = merkle.verify_inclusion(bytes.fromhex(result["leafHash"]), seq, size, path,
                                                 bytes.fromhex(result["rootHash"]))
                else:
                    ok = merkle.verify_consistency(old, size, bytes.fromhex(result["fromRoot"]),
                                                   bytes.fromhex(result["toRoot"]), path)
                if not ok:
                    raise AssertionError(f"{kind} proof {variables} does not verify")
                proof_cache.clear()
                t0 = time.perf_counter()
                if kind == "inclusion":
                    await checkpoints.inclusion_proof(seq)
                else:
                    await checkpoints.consistency_proof(old, size)
                direct_ms.append((time.perf_counter() - t0) * 1000)
                reads = tree.reads_for(ranges, extra)
                rows.append(len(reads.leaves) + len(reads.nodes))
                t0 = time.perf_counter()
                await raw.fetchrow("SELECT tree_size, root_hash, note FROM ledger_checkpoint "
                                   "ORDER BY tree_size DESC LIMIT 1")
                await raw.fetch("SELECT seq, leaf_hash FROM ledger_entry WHERE seq = ANY($1::bigint[])",
                                sorted(reads.leaves))
                await raw.fetch("SELECT id, hash FROM ledger_node WHERE id = ANY($1::bigint[])", sorted(reads.nodes))
                sql_ms.append((time.perf_counter() - t0) * 1000)
            out[kind] = {"api": _percentiles(api_ms), "function": _percentiles(direct_ms),
                         "bare_sql": _percentiles(sql_ms),
                         "sql_statements_per_proof": sorted(set(statements)),
                         "rows_read_median": statistics.median(rows), "rows_read_max": max(rows)}
    finally:
        db_log.removeHandler(counter)
        db_log.setLevel(logging.WARNING)
    return out


async def run(opts: argparse.Namespace) -> dict[str, Any]:
    sizes = [int(s) for s in opts.sizes.split(",")]
    if sizes != sorted(set(sizes)) or sizes[0] < 2:
        raise SystemExit("--sizes must be increasing and at least 2")
    rng = random.Random(opts.seed)
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": scratch.machine(),
                               "uptime_at_start": scratch.uptime(),
                               "options": {"sizes": sizes, "proofs": opts.proofs, "checkpoints": opts.checkpoints,
                                           "seed": opts.seed, "keep_databases": opts.keep_databases},
                               "goal_p99_ms": GOAL_P99_MS, "sizes": []}
    results["machine"]["load_average_start"] = os.getloadavg()
    for size in sizes:  # one database per size, so that kept ones can be measured again
        old_sizes = sorted({rng.randrange(1, size) for _ in range(opts.checkpoints)})
        if opts.keep_databases:
            url = await _kept_database(opts.admin_url, size)
            results["sizes"].append(await _run_size(opts, url, size, old_sizes, rng, results))
        else:
            async with scratch.scratch_database(opts.admin_url, "pvpp_bench_proofs", progress) as url:
                results["sizes"].append(await _run_size(opts, url, size, old_sizes, rng, results))
    results["uptime_at_end"] = scratch.uptime()
    largest = results["sizes"][-1]
    results["meets_goal"] = all(largest[k]["api"]["p99_ms"] <= GOAL_P99_MS for k in ("inclusion", "consistency"))
    return results


async def _kept_database(admin_url: str, size: int) -> str:
    """``pvpp_bench_proofs_<size>``, created when missing; kept after the run."""
    import asyncpg

    name = f"pvpp_bench_proofs_{size}"
    conn = await asyncpg.connect(scratch.asyncpg_dsn(admin_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await conn.close()
    if not exists:
        await scratch.admin(admin_url, f'CREATE DATABASE "{name}"')
        progress(f"created database {name} (kept)")
    return scratch.with_database(admin_url, name)


async def _run_size(opts: argparse.Namespace, url: str, size: int, old_sizes: list[int], rng: random.Random,
                    results: dict[str, Any]) -> dict[str, Any]:
    """Populate ``url`` to ``size`` entries (unless a kept database already holds exactly them), sign
    the checkpoints and time the proofs through the API."""
    import asyncpg
    import httpx

    from backend.app import create_app
    from backend.db import close_db, init_db, migrate
    from backend.ledger.tree import TreeState

    from backend.operations.logs import configure_logging

    settings = scratch.bench_settings(url, "proofs", redis_url=opts.redis_url, ledger_proofs_per_minute=1_000_000)
    configure_logging(settings.log_level, settings.log_format)  # WARNING, as `pvpp serve` in the API benchmark
    raw = None
    app = None
    try:
        await migrate(settings)
        await init_db(settings)
        raw = await asyncpg.connect(scratch.asyncpg_dsn(url))
        results["machine"]["postgresql"] = await raw.fetchval("SHOW server_version")
        await raw.execute('ALTER TABLE ledger_entry DROP CONSTRAINT IF EXISTS "ledger_entry_ref_key"')
        for name in await raw.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'ledger_entry' "
                                    "AND indexname NOT LIKE '%pkey'"):
            await raw.execute(f'DROP INDEX "{name[0]}"')
        held = await raw.fetchval("SELECT size FROM ledger_head WHERE id = 1")
        if held == size:
            populate: dict[str, Any] = {"reused": True}
            progress(f"{size:,} entries: database populated by an earlier run, reused")
        else:
            await raw.execute("TRUNCATE ledger_entry, ledger_node, ledger_head, ledger_checkpoint")
            populate = await _populate(raw, TreeState(0, []), size)
            progress(f"{size:,} entries: +{populate['entries_added']:,} entries in "
                     f"{populate['entries_seconds']:.1f}s, +{populate['nodes_added']:,} nodes in "
                     f"{populate['nodes_seconds']:.1f}s")
        await _sign_checkpoints(settings, raw, old_sizes + [size])
        app = create_app(settings, manage_db=False)
        transport = httpx.ASGITransport(app=app, client=("192.0.2.1", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://pvpp.bench") as client:
            measured = await _measure(client, raw, size, old_sizes, opts.proofs, rng)
    finally:
        if app is not None:
            await app.state.redis.aclose()
        if raw is not None:
            await raw.close()
        await close_db()
    measured["populate"] = populate
    measured["load_average"] = os.getloadavg()
    progress(f"{size:,} (load {os.getloadavg()[0]:.1f}): inclusion p50 "
             f"{measured['inclusion']['api']['p50_ms']:.2f} ms p99 "
             f"{measured['inclusion']['api']['p99_ms']:.2f} ms (bare SQL p99 "
             f"{measured['inclusion']['bare_sql']['p99_ms']:.2f} ms); consistency p50 "
             f"{measured['consistency']['api']['p50_ms']:.2f} ms p99 "
             f"{measured['consistency']['api']['p99_ms']:.2f} ms")
    return measured


def table(r: dict[str, Any]) -> str:
    lines = ["| tree size | proof | API p50 | API p99 | function p50 | function p99 | bare SQL p50 | bare SQL p99 "
             "| statements | rows read (max) |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for s in r["sizes"]:
        for kind in ("inclusion", "consistency"):
            m = s[kind]
            lines.append(f"| {s['tree_size']:,} | {kind} | {m['api']['p50_ms']:.2f} ms | {m['api']['p99_ms']:.2f} ms | "
                         f"{m['function']['p50_ms']:.2f} ms | {m['function']['p99_ms']:.2f} ms | "
                         f"{m['bare_sql']['p50_ms']:.2f} ms | {m['bare_sql']['p99_ms']:.2f} ms | "
                         f"{m['sql_statements_per_proof']} | {m['rows_read_max']} |")
    return "\n".join(lines)


def main(args: list[str]) -> int:
    return scratch.main_writing_results(args, parse_args, run, table)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
