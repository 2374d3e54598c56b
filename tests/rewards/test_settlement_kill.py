"""A settlement killed mid-way and run again writes exactly the ledger of an uninterrupted run.

On both backends: build a world with enough participants for several batches, snapshot the
ledger, settle uninterrupted in-process (ledger L1), restore the snapshot (test-only deletes),
then settle in a subprocess that is SIGKILLed while a batch's legs are written but not
committed (two batches already committed), rerun to completion (ledger L2), and compare
every column of every entry, the balances, the head and the programme's issued coins.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import pytest

from backend.accounts.models import Role, User
from backend.codes import new_code
from backend.households.models import Household
from backend.ledger.entries import Asset, EntryKind, entry_leaf_hash
from backend.ledger.models import Balance, LedgerEntry, LedgerHead
from backend.ledger.service import HEAD_ID, ensure_nodes, ledger_size, ledger_transaction, record_of
from backend.rewards.models import Programme
from backend.rewards.settlement import settle_month
from tests.builders import build_world, start_programmes
from tests.rewards.test_rewards_service import NOW

ROOT = Path(__file__).resolve().parents[2]
STUDENTS = 30
BATCH = 4
KILL_IN_BATCH = 3  # the third batch that writes legs: written, not committed, when killed
FIXED_HASH = "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$not-a-real-hash-nobody-signs-in-here"

#: Runs settle_month with LedgerWriter.flush patched to announce each flush on stdout and to
#: hang (inside the still-open transaction) after the KILL_IN_BATCH-th one.
CHILD = """
import asyncio, sys
from backend.db import close_db, init_db
from backend.ledger import service
from backend.rewards.settlement import settle_month
from backend.settings import Settings

programme_id, batch, hang_at = (int(a) for a in sys.argv[1:4])
flushes = 0
original = service.LedgerWriter.flush

async def flush(self):
    global flushes
    had = bool(self.pending)
    await original(self)
    if had:
        flushes += 1
        print(f"flushed {flushes}", flush=True)
        if flushes == hang_at:
            print("hanging", flush=True)
            await asyncio.sleep(3600)

service.LedgerWriter.flush = flush

async def main():
    settings = Settings()
    await init_db(settings)
    try:
        await settle_month(settings, programme_id, 2026, 11, batch_size=batch)
    finally:
        await close_db()
    print("done", flush=True)

asyncio.run(main())
"""


async def _world() -> Programme:
    world = await build_world()
    programme, _ = await start_programmes(world)
    households = [await Household.create(name=f"Kill {i}", invite_code=new_code(), municipality=world.muni_a)
                  for i in range(STUDENTS // 2)]
    await User.bulk_create([
        User(pseudonym=uuid.uuid4(), email=f"kill{i}@example.org", password_hash=FIXED_HASH,
             display_name=f"Kill {i}", role=Role.STUDENT, household_id=households[i // 2].id,
             school_id=world.school_a.id)
        for i in range(STUDENTS)
    ])
    people = await User.filter(role__in=[Role.STUDENT, Role.PARENT]).values_list("pseudonym", flat=True)
    async with ledger_transaction(NOW) as w:
        for i, who in enumerate(sorted(people, key=str)):
            if i % 5 != 4:  # a few hold no points at all
                w.add(EntryKind.AWARD, who, Asset.POINTS, 600 * (i + 1), f"kill:points:{who}")
            if i % 3 != 2:
                w.add(EntryKind.AWARD, who, Asset.MILEAGE_WON, 2_500 * (i % 7 + 1), f"kill:mileage:{who}")
    return programme


async def _state(programme_id: int) -> dict:
    entries = await LedgerEntry.all().order_by("seq").values_list(
        "seq", "txn", "kind", "account", "asset", "scope", "amount", "ref", "recorded_at", "leaf_hash", "memo")
    balances = await Balance.all().values_list("account", "asset", "scope", "amount")
    return {
        "entries": [tuple(str(v) for v in row) for row in entries],
        "balances": sorted(tuple(str(v) for v in row) for row in balances),
        "head": await ledger_size(),
        "issued": (await Programme.get(id=programme_id)).coins_issued_won,
    }


async def _restore(snapshot: dict, programme_id: int) -> None:
    """Test-only: put the ledger back as it was before the first settlement."""
    await LedgerEntry.filter(seq__gte=snapshot["head"]).delete()
    await Balance.all().delete()
    await Balance.bulk_create([Balance(account=uuid.UUID(a), asset=Asset(asset), scope=scope, amount=int(amount))
                               for a, asset, scope, amount in snapshot["balances"]])
    await LedgerHead.filter(id=HEAD_ID).update(size=snapshot["head"], peaks=None)
    await ensure_nodes()  # the stored Merkle nodes of the shortened ledger
    await Programme.filter(id=programme_id).update(coins_issued_won=snapshot["issued"])


async def _killed_run(db, programme_id: int) -> list[str]:
    env = {**os.environ, "PVPP_DATABASE_URL": db.resolved_database_url, "PVPP_VAR_DIR": str(db.var_dir),
           "PVPP_REDIS_URL": db.redis_url or "", "PVPP_SECRET_KEY": "k" * 40, "PVPP_LOG_LEVEL": "WARNING"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(programme_id), str(BATCH), str(KILL_IN_BATCH), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    lines: list[str] = []
    try:
        while True:
            line = (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).decode().strip()
            if not line:
                stderr = (await proc.stderr.read()).decode()
                pytest.fail(f"the settlement process ended before it could be killed: {lines} {stderr}")
            lines.append(line)
            if line == "hanging":
                break
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return lines


async def test_killed_settlement_rerun_writes_the_uninterrupted_ledger(db):
    programme = await _world()
    snapshot = await _state(programme.id)

    full = await settle_month(db, programme.id, 2026, 11, batch_size=BATCH)
    assert full.participants > 3 * BATCH and full.entries > 0 and full.coins_won > 0 and full.volunteer_minutes > 0
    uninterrupted = await _state(programme.id)
    await _restore(snapshot, programme.id)
    assert await _state(programme.id) == snapshot

    lines = await _killed_run(db, programme.id)
    assert lines[-2:] == [f"flushed {KILL_IN_BATCH}", "hanging"]
    after_kill = await _state(programme.id)
    # two batches committed, the third (written, uncommitted) rolled back, the rest never started
    assert snapshot["head"] < after_kill["head"] == len(after_kill["entries"]) < uninterrupted["head"]
    assert after_kill["entries"] == uninterrupted["entries"][:after_kill["head"]]

    rerun = await settle_month(db, programme.id, 2026, 11, batch_size=BATCH)
    assert rerun.skipped > 0 and rerun.entries == uninterrupted["head"] - after_kill["head"]
    final = await _state(programme.id)
    assert final == uninterrupted

    seqs = [int(row[0]) for row in final["entries"]]
    assert seqs == list(range(len(seqs))) == list(range(final["head"]))
    refs = [row[7] for row in final["entries"]]
    assert len(set(refs)) == len(refs)
    rows = await LedgerEntry.filter(seq__gte=snapshot["head"]).order_by("seq")
    assert all(entry_leaf_hash(record_of(row)).hex() == row.leaf_hash for row in rows)
