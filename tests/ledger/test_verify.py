"""Verifying the stored ledger on both backends after tampering with raw SQL, and the CLI."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tortoise import connections

from backend.ledger import audit, signing
from backend.ledger.checkpoints import publish_checkpoint
from backend.ledger.entries import Asset, EntryKind, entry_leaf_hash
from backend.ledger.models import LedgerEntry
from backend.ledger.service import ledger_transaction, record_of
from backend.ledger.verify import verify_ledger

ROOT = Path(__file__).resolve().parents[2]
A, B = uuid.UUID(int=0xA), uuid.UUID(int=0xB)
KST = timezone(timedelta(hours=9))


async def _write(first: int, count: int) -> None:
    """``count`` entries: awards, and every third one a two-leg conversion."""
    i = first
    while i < first + count:
        async with ledger_transaction(now=datetime(2026, 5, 1, 9, tzinfo=KST) + timedelta(minutes=i)) as w:
            account = A if i % 2 else B
            if i % 3 == 2 and i + 1 < first + count:
                w.add(EntryKind.CONVERSION, account, Asset.POINTS, -3, f"v:{i}:debit")
                w.add(EntryKind.CONVERSION, account, Asset.COINS_WON, 2, f"v:{i}:credit", scope="11110")
                i += 2
            else:
                w.add(EntryKind.AWARD, account, Asset.POINTS, 10 + i, f"v:{i}")
                i += 1


async def _ledger(settings) -> None:
    """12 entries with checkpoints at 6 and 12."""
    await _write(0, 6)
    await publish_checkpoint(settings)
    await _write(6, 6)
    await publish_checkpoint(settings)


async def _sql(*statements: str) -> None:
    conn = connections.get("default")
    for statement in statements:
        await conn.execute_query(statement)


def _lines(report) -> list[str]:
    return [str(f) for f in report.findings]


async def test_a_clean_ledger_verifies(db):
    await _ledger(db)
    seen: list[tuple[int, int]] = []
    report = await verify_ledger(db, lambda done, total: seen.append((done, total)), batch=5)
    assert report.ok and report.findings == []
    assert (report.entries, report.checkpoints, report.uncheckpointed) == (12, 2, 0)
    assert seen == [(5, 12), (10, 12), (12, 12)]
    await _write(12, 3)
    report = await verify_ledger(db)
    assert report.ok and report.uncheckpointed == 3
    assert _lines(report) == [
        "UNCHECKPOINTED entries 12..14: 3 entries after the last signed checkpoint (size 12) not yet covered by a signature"]


async def test_an_edited_amount_is_tampered(db):
    await _ledger(db)
    await _sql("UPDATE ledger_entry SET amount = amount + 1 WHERE seq = 7")
    report = await verify_ledger(db)
    assert not report.ok
    assert "TAMPERED entry 7: its content does not hash to its stored leaf hash" in _lines(report)
    assert [(f.seq, f.last) for f in report.findings if f.kind == audit.CHECKPOINT_MISMATCH] == [(6, 11)]
    assert [f.detail.split(" scope")[0] for f in report.findings if f.kind == audit.BALANCE_MISMATCH] == [
        f"account {A} points"]


async def test_an_amount_rewritten_with_its_hash_is_caught_by_the_checkpoint(db):
    await _ledger(db)
    record = dataclasses.replace(record_of(await LedgerEntry.get(seq=3)), amount=1_000)
    await _sql(f"UPDATE ledger_entry SET amount = 1000, leaf_hash = '{entry_leaf_hash(record).hex()}' WHERE seq = 3")
    report = await verify_ledger(db, batch=4)
    assert [(f.kind, f.seq, f.last) for f in report.errors] == [
        (audit.CHECKPOINT_MISMATCH, 0, 5), (audit.BALANCE_MISMATCH, None, None)]


async def test_a_deleted_row_is_missing(db):
    await _ledger(db)
    await _sql("DELETE FROM ledger_entry WHERE seq = 4")
    report = await verify_ledger(db, batch=4)
    assert "MISSING entry 4: no row: a gap in the sequence numbers" in _lines(report)
    await _sql("DELETE FROM ledger_entry WHERE seq = 11")
    report = await verify_ledger(db)
    assert "MISSING entry 11: no row, but a signed checkpoint covers 12 entries" in _lines(report)


async def test_swapped_rows_are_reordered(db):
    await _ledger(db)
    await _sql("UPDATE ledger_entry SET seq = -1 WHERE seq = 1",
               "UPDATE ledger_entry SET seq = 1 WHERE seq = 9",
               "UPDATE ledger_entry SET seq = 9 WHERE seq = -1")
    report = await verify_ledger(db)
    assert [line for line in _lines(report) if line.startswith("REORDERED")] == [
        "REORDERED entry 1: holds the record written as entry 9",
        "REORDERED entry 9: holds the record written as entry 1",
    ]
    assert audit.TAMPERED not in report.counts


async def test_a_row_with_a_changed_seq_is_found_where_it_went(db):
    await _ledger(db)
    await _sql("UPDATE ledger_entry SET seq = 500000 WHERE seq = 4")
    report = await verify_ledger(db, batch=5)
    assert [line for line in _lines(report) if not line.startswith("CHECKPOINT")] == [
        "MISSING entry 4: no row: a gap in the sequence numbers",
        "REORDERED entry 500000: holds the record written as entry 4",
        "EXTRA entry 500000: lies beyond the ledger head (size 12) and no signed checkpoint covers it",
        "UNCHECKPOINTED entry 500000: 1 entry after the last signed checkpoint (size 12) not yet covered by a signature",
    ]


async def test_values_the_orm_would_refuse_are_still_audited(db):
    await _ledger(db)
    await _sql("UPDATE ledger_entry SET kind = 'bogus' WHERE seq = 2")
    report = await verify_ledger(db)
    assert "TAMPERED entry 2: its content does not hash to its stored leaf hash" in _lines(report)


async def test_an_edited_balance_is_named(db):
    await _ledger(db)
    await _sql(f"UPDATE ledger_balance SET amount = amount + 1 WHERE account = '{B}' AND asset = 'coins_won'")
    report = await verify_ledger(db)
    assert [str(f) for f in report.errors] == [
        f"BALANCE_MISMATCH: account {B} coins_won scope '11110': materialised 5, entries sum to 4"]


async def test_edited_checkpoints_and_other_keys_are_bad_signatures(db):
    await _ledger(db)
    await _sql(f"UPDATE ledger_checkpoint SET root_hash = '{'0' * 64}' WHERE tree_size = 6")
    report = await verify_ledger(db)
    assert [(f.kind, f.detail.split(":")[0]) for f in report.errors] == [
        (audit.BAD_SIGNATURE, "checkpoint of size 6")]
    other = signing.private_key_from_seed(hashlib.sha256(b"other").digest())
    report = await verify_ledger(db, key=(db.ledger_origin, other.public_key()))
    assert report.counts[audit.BAD_SIGNATURE] == 2 and report.uncheckpointed == 12


# --- the command line --------------------------------------------------------------------------

WRITE = textwrap.dedent("""
    import asyncio, uuid
    from backend.db import close_db, init_db
    from backend.ledger.checkpoints import publish_checkpoint
    from backend.ledger.entries import Asset, EntryKind
    from backend.ledger.service import ledger_transaction
    from backend.settings import get_settings

    async def main():
        settings = get_settings()
        await init_db(settings)
        for i in range(5):
            async with ledger_transaction() as w:
                w.add(EntryKind.AWARD, uuid.UUID(int=i % 2 + 1), Asset.POINTS, i + 1, f"cli:{i}")
        await publish_checkpoint(settings)
        await close_db()

    asyncio.run(main())
""")


def test_pvpp_ledger_verify_exit_codes(tmp_path):
    seed = hashlib.sha256(b"cli ledger key").digest()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PVPP_")}
    env |= {"PVPP_VAR_DIR": str(tmp_path / "var"), "PVPP_DATABASE_URL": f"sqlite://{tmp_path / 'l.sqlite3'}",
            "PVPP_LEDGER_SIGNING_KEY": base64.b64encode(seed).decode(), "PVPP_LEDGER_ORIGIN": "cli.test/ledger"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60, check=False)

    verify = ("-m", "backend.cli", "ledger", "verify")
    assert run(*verify).returncode == 2  # no tables yet
    assert run("-m", "backend.cli", "migrate").returncode == 0
    written = run("-c", WRITE)
    assert written.returncode == 0, written.stderr

    clean = run(*verify)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.startswith("OK: 5 entries and 1 checkpoints checked in ")
    vkey = signing.verifier_key("cli.test/ledger", signing.private_key_from_seed(seed).public_key())
    assert run(*verify, "--verifier-key", vkey).returncode == 0
    assert run(*verify, "--verifier-key", "not-a-key").returncode == 2
    assert run(*verify, "--no-such-option").returncode == 2

    with sqlite3.connect(tmp_path / "l.sqlite3") as conn:
        conn.execute("UPDATE ledger_entry SET amount = amount + 1 WHERE seq = 2")
    conn.close()
    tampered = run(*verify)
    assert tampered.returncode == 1
    lines = tampered.stdout.splitlines()
    assert "TAMPERED entry 2: its content does not hash to its stored leaf hash" in lines
    assert lines[-1].startswith("FAILED: 5 entries and 1 checkpoints") and lines[-1].endswith(", 3 problems")
