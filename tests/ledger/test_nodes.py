"""Stored Merkle nodes: written with the entries, serving proofs in O(log n), audited, rate-limited."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from tortoise import connections

from backend.app import create_app

from backend.ledger import merkle, tree
from backend.ledger.audit import NODE_MISMATCH
from backend.ledger.checkpoints import consistency_proof, inclusion_proof, proof_cache, publish_checkpoint
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import LedgerHead, LedgerNode
from backend.ledger.entries import entry_leaf_hash
from backend.ledger.models import LedgerEntry
from backend.ledger.service import balances_of, ensure_nodes, leaf_hashes, ledger_transaction, record_of
from backend.ledger.verify import verify_ledger
from tests.builders import gql
from tests.ledger.test_verify import ROOT, WRITE

T0 = datetime(2026, 5, 1, tzinfo=UTC)
ACCOUNTS = [uuid.UUID(int=i + 1) for i in range(4)]


async def _write(first: int, count: int, per_txn: int = 97) -> None:
    for start in range(first, first + count, per_txn):
        async with ledger_transaction(now=T0 + timedelta(seconds=start)) as w:
            for i in range(start, min(first + count, start + per_txn)):
                w.add(EntryKind.AWARD, ACCOUNTS[i % 4], Asset.POINTS, 1 + i % 7, f"n:{i}", txn=uuid.UUID(int=i))


async def _stored_nodes() -> dict[int, bytes]:
    return {int(k): bytes(h) for k, h in await LedgerNode.all().values_list("id", "hash")}


async def _sql(statement: str) -> None:
    await connections.get("default").execute_query(statement)


async def test_nodes_are_the_roots_of_complete_subtrees(db):
    await _write(0, 530)
    leaves = await leaf_hashes(0, 530)
    nodes = await _stored_nodes()
    expected = {tree.node_key(4, i): merkle.root_hash(leaves[i * 16:(i + 1) * 16]) for i in range(530 // 16)}
    expected |= {tree.node_key(8, i): merkle.root_hash(leaves[i * 256:(i + 1) * 256]) for i in range(2)}
    assert nodes == expected
    head = await LedgerHead.get(id=1)
    acc = merkle.MerkleAccumulator()
    for h in leaves:
        acc.append(h)
    assert head.peaks == [p.hex() for p in acc.peaks]


async def test_a_failed_transaction_stores_no_node(db):
    await _write(0, 10)
    try:
        async with ledger_transaction() as w:
            for i in range(10, 40):
                w.add(EntryKind.AWARD, ACCOUNTS[0], Asset.POINTS, 1, f"n:{i}")
            await w.flush()
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert await _stored_nodes() == {}
    assert (await LedgerHead.get(id=1)).peaks is not None and (await LedgerHead.get(id=1)).size == 10


async def test_proofs_through_the_api_equal_the_plain_merkle_code(db, client):
    await _write(0, 300)
    await publish_checkpoint(db)
    await _write(300, 437)
    await publish_checkpoint(db)
    leaves = await leaf_hashes(0, 737)
    query = """query($seq: Int!, $size: Int) { ledgerInclusionProof(seq: $seq, treeSize: $size) {
        __typename ... on InclusionProof { leafHash treeSize rootHash path } } }"""
    for seq, size in ((0, 300), (299, 300), (17, 737), (256, 737), (511, 737), (736, 737), (736, None)):
        proof = (await gql(client, query, {"seq": seq, "size": size}))["data"]["ledgerInclusionProof"]
        want = merkle.inclusion_proof(leaves[:size or 737], seq)
        assert proof["path"] == [h.hex() for h in want] and proof["leafHash"] == leaves[seq].hex()
    consistency = (await gql(client, """{ ledgerConsistencyProof(fromSize: 300, toSize: 737) {
        __typename ... on ConsistencyProof { path } } }"""))["data"]["ledgerConsistencyProof"]
    assert consistency["path"] == [h.hex() for h in merkle.consistency_proof(leaves, 300)]


async def test_statements_per_proof_do_not_grow_with_the_tree(db, count_queries):
    """Same statement count (checkpoint, leaves, nodes) at 40 and 4,100 entries, for any position."""
    counts: dict[int, set[int]] = {}
    for size in (40, 4_100):
        await _write(await _size(), size - await _size(), per_txn=2_000)
        await publish_checkpoint(db)
        counts[size] = set()
        for seq in (0, 1, size // 3, size // 2, size - 2, size - 1):
            proof_cache.clear()
            before = len(count_queries.statements)
            await inclusion_proof(seq)
            counts[size].add(len(count_queries.statements) - before)
        proof_cache.clear()
        before = len(count_queries.statements)
        await consistency_proof(40, size)
        counts[size].add(len(count_queries.statements) - before - 1)  # two checkpoints read
    assert max(counts[40]) == max(counts[4_100]) == 3, counts
    first = await inclusion_proof(4_099)
    before = len(count_queries.statements)
    assert await inclusion_proof(4_099) == first  # cached: only the checkpoint is read
    assert len(count_queries.statements) - before == 1


async def _size() -> int:
    head = await LedgerHead.filter(id=1).first()
    return head.size if head else 0


async def test_a_ledger_without_nodes_still_serves_proofs_and_gets_them(db):
    await _write(0, 300)
    before = await _stored_nodes()
    await _sql("DELETE FROM ledger_node")
    await _sql("UPDATE ledger_head SET peaks = NULL")
    await publish_checkpoint(db)
    leaves = await leaf_hashes(0, 300)
    proof = await inclusion_proof(123)  # falls back to hashing the leaves
    assert proof.path == merkle.inclusion_proof(leaves, 123)
    assert (await verify_ledger(db)).ok  # no nodes to check yet
    assert await ensure_nodes() == (300, True)
    assert await ensure_nodes() == (300, False)
    assert await _stored_nodes() == before
    await _sql("UPDATE ledger_head SET peaks = NULL")
    await _write(300, 20)  # the writer builds the missing nodes itself
    leaves = await leaf_hashes(0, 320)
    assert (await _stored_nodes())[tree.node_key(4, 19)] == merkle.root_hash(leaves[304:320])
    assert (await verify_ledger(db)).ok


async def test_verify_reports_tampered_missing_and_extra_nodes(db):
    await _write(0, 600)
    await publish_checkpoint(db)
    assert (await verify_ledger(db)).ok
    key = tree.node_key(4, 5)
    bad = "X'" + "11" * 32 + "'" if db.resolved_database_url.startswith("sqlite") else "'\\x" + "11" * 32 + "'"
    await _sql(f"UPDATE ledger_node SET hash = {bad} WHERE id = {key}")
    proof_cache.clear()
    proof = await inclusion_proof(3)
    cp_root = bytes.fromhex(proof.checkpoint.root_hash)
    assert not merkle.verify_inclusion(proof.leaf_hash, 3, 600, proof.path, cp_root)  # the phone notices
    report = await verify_ledger(db, batch=128)
    lines = [str(f) for f in report.findings]
    assert not report.ok and lines == [
        "NODE_MISMATCH entries 80..95: the stored Merkle node at level 4, index 5 does not match the entries"]
    await _sql(f"DELETE FROM ledger_node WHERE id = {tree.node_key(8, 1)}")
    await _sql(f"INSERT INTO ledger_node (id, hash) VALUES ({tree.node_key(4, 999)}, {bad})")
    lines = [str(f) for f in (await verify_ledger(db)).findings]
    assert lines == [
        "NODE_MISMATCH entries 80..95: the stored Merkle node at level 4, index 5 does not match the entries",
        "NODE_MISMATCH entries 256..511: the stored Merkle node at level 8, index 1 is missing",
        "NODE_MISMATCH: 1 stored Merkle nodes are not part of the tree of 600 entries",
    ]


async def test_a_row_rewritten_with_its_hash_after_the_last_checkpoint_is_caught_by_the_nodes(db):
    """No signature covers it yet, but the nodes written with the entries do."""
    await _write(0, 40)
    await publish_checkpoint(db)
    await _write(40, 40)
    row = await LedgerEntry.get(seq=50)
    record = dataclasses.replace(record_of(row), amount=row.amount + 1)
    await _sql(f"UPDATE ledger_entry SET amount = amount + 1, leaf_hash = '{entry_leaf_hash(record).hex()}' "
               "WHERE seq = 50")
    report = await verify_ledger(db)
    assert [str(f) for f in report.errors] == [
        "NODE_MISMATCH entries 48..63: the stored Merkle node at level 4, index 3 does not match the entries",
        "NODE_MISMATCH: the compact range kept on the ledger head does not match the entries "
        "(new stored nodes would be wrong)",
        f"BALANCE_MISMATCH: account {record.account} points scope '': materialised "
        f"{await _balance(record.account)}, entries sum to {await _balance(record.account) + 1}",
    ]


async def _balance(account: uuid.UUID) -> int:
    return (await balances_of(account))[(Asset.POINTS, "")]


async def test_a_tampered_row_is_not_reported_twice_through_its_nodes(db):
    await _write(0, 100)
    await publish_checkpoint(db)
    await _sql("UPDATE ledger_entry SET amount = amount + 1 WHERE seq = 20")
    kinds = [f.kind for f in (await verify_ledger(db)).errors]
    assert NODE_MISMATCH not in kinds and "tampered" in kinds


async def test_verify_reports_a_tampered_head_compact_range(db):
    await _write(0, 40)
    await _sql("UPDATE ledger_head SET peaks = '[\"" + "00" * 32 + "\", \"" + "11" * 32 + "\"]'")
    report = await verify_ledger(db)
    assert [str(f) for f in report.findings if f.kind == NODE_MISMATCH] == [
        "NODE_MISMATCH: the compact range kept on the ledger head does not match the entries "
        "(new stored nodes would be wrong)"]


async def test_proofs_are_rate_limited_per_address(db):
    await _write(0, 5)
    await publish_checkpoint(db)
    app = create_app(db.model_copy(update={"ledger_proofs_per_minute": 3}), manage_db=False)
    query = "{ ledgerInclusionProof(seq: 1) { __typename ... on RateLimited { retryAfterSeconds } } }"
    try:
        async with _client(app, "10.0.0.1") as first, _client(app, "10.0.0.2") as second:
            for _ in range(3):
                assert (await gql(first, query))["data"]["ledgerInclusionProof"]["__typename"] == "InclusionProof"
            refused = (await gql(first, query))["data"]["ledgerInclusionProof"]
            assert refused["__typename"] == "RateLimited" and 1 <= refused["retryAfterSeconds"] <= 60
            consistency = await gql(first, "{ ledgerConsistencyProof(fromSize: 5, toSize: 5) { __typename } }")
            assert consistency["data"]["ledgerConsistencyProof"]["__typename"] == "RateLimited"
            assert (await gql(second, query))["data"]["ledgerInclusionProof"]["__typename"] == "InclusionProof"
    finally:
        await app.state.redis.aclose()


def _client(app, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 4567))
    return httpx.AsyncClient(transport=transport, base_url="http://pvpp.test")


def test_pvpp_ledger_build_nodes(tmp_path):
    """The command builds the nodes of a ledger that has none, once; then verify checks them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PVPP_")}
    env |= {"PVPP_VAR_DIR": str(tmp_path / "var"), "PVPP_DATABASE_URL": f"sqlite://{tmp_path / 'l.sqlite3'}"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60, check=False)

    build = ("-m", "backend.cli", "ledger", "build-nodes")
    assert run(*build).returncode == 2  # no tables yet
    assert run("-m", "backend.cli", "migrate").returncode == 0
    written = run("-c", WRITE.replace("range(5)", "range(40)"))
    assert written.returncode == 0, written.stderr
    with sqlite3.connect(tmp_path / "l.sqlite3") as conn:
        stored = conn.execute("SELECT id, hash FROM ledger_node ORDER BY id").fetchall()
        conn.execute("DELETE FROM ledger_node")
        conn.execute("UPDATE ledger_head SET peaks = NULL")
    conn.close()
    first = run(*build)
    assert first.returncode == 0 and first.stdout.startswith("built the Merkle nodes of 40 entries"), first.stderr
    again = run(*build)
    assert again.returncode == 0 and "exist already" in again.stdout
    with sqlite3.connect(tmp_path / "l.sqlite3") as conn:
        assert conn.execute("SELECT id, hash FROM ledger_node ORDER BY id").fetchall() == stored
        assert len(stored) == 2
        conn.execute(f"UPDATE ledger_node SET hash = X'{'22' * 32}' WHERE id = {tree.node_key(4, 1)}")
    conn.close()
    tampered = run("-m", "backend.cli", "ledger", "verify")
    assert tampered.returncode == 1
    assert ("NODE_MISMATCH entries 16..31: the stored Merkle node at level 4, index 1 does not match the entries"
            in tampered.stdout.splitlines())
