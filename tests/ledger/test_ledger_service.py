"""Appending to the ledger on both backends: dense sequence numbers, balances, checkpoints."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from backend.ledger import merkle, signing
from backend.ledger.checkpoints import (
    consistency_proof,
    inclusion_proof,
    ledger_key,
    publish_checkpoint,
)
from backend.ledger.entries import Asset, EntryKind, entry_leaf_hash
from backend.ledger.models import Balance, LedgerEntry
from backend.ledger.service import balances_of, ledger_transaction, record_of


async def _award(account: uuid.UUID, amount: int, ref: str) -> None:
    async with ledger_transaction() as w:
        w.add(EntryKind.AWARD, account, Asset.POINTS, amount, ref)


async def test_entries_get_dense_sequence_numbers_and_matching_hashes(db):
    a, b = uuid.uuid4(), uuid.uuid4()
    await _award(a, 100, "t:1")
    async with ledger_transaction() as w:
        w.add(EntryKind.CONVERSION, a, Asset.POINTS, -40, "t:2:debit")
        w.add(EntryKind.CONVERSION, a, Asset.MILEAGE_WON, 26, "t:2:credit")
        assert await w.balance(a, Asset.POINTS) == 60
    await _award(b, 7, "t:3")
    rows = await LedgerEntry.all().order_by("seq")
    assert [r.seq for r in rows] == [0, 1, 2, 3]
    for row in rows:
        assert entry_leaf_hash(record_of(row)).hex() == row.leaf_hash
    assert rows[1].txn == rows[2].txn
    assert await balances_of(a) == {(Asset.POINTS, ""): 60, (Asset.MILEAGE_WON, ""): 26}


async def test_failed_transaction_writes_nothing(db):
    a = uuid.uuid4()
    await _award(a, 5, "t:ok")
    with pytest.raises(RuntimeError):
        async with ledger_transaction() as w:
            w.add(EntryKind.AWARD, a, Asset.POINTS, 10, "t:fails")
            raise RuntimeError("boom")
    assert await LedgerEntry.all().count() == 1
    assert (await Balance.get(account=a, asset=Asset.POINTS)).amount == 5
    await _award(a, 1, "t:next")
    assert sorted(await LedgerEntry.all().values_list("seq", flat=True)) == [0, 1]


async def test_concurrent_writers_never_reuse_a_sequence_number(db):
    accounts = [uuid.uuid4() for _ in range(5)]
    await asyncio.gather(*(_award(accounts[i % 5], i + 1, f"c:{i}") for i in range(40)))
    seqs = sorted(await LedgerEntry.all().values_list("seq", flat=True))
    assert seqs == list(range(40))
    for i, account in enumerate(accounts):
        assert (await Balance.get(account=account)).amount == sum(n + 1 for n in range(40) if n % 5 == i)


async def test_checkpoints_sign_the_merkle_root_and_serve_proofs(db):
    a = uuid.uuid4()
    for i in range(5):
        await _award(a, i + 1, f"p:{i}")
    first = await publish_checkpoint(db)
    assert (await publish_checkpoint(db)).id == first.id  # nothing new: same checkpoint
    for i in range(5, 13):
        await _award(a, i + 1, f"p:{i}")
    second = await publish_checkpoint(db)
    assert (first.tree_size, second.tree_size) == (5, 13)

    hashes = [bytes.fromhex(h) for h in await LedgerEntry.all().order_by("seq").values_list("leaf_hash", flat=True)]
    assert second.root_hash == merkle.root_hash(hashes).hex()
    key = ledger_key(db)
    opened = signing.open_checkpoint(second.note, key.name, key.public_key)
    assert (opened.size, opened.root.hex()) == (13, second.root_hash)

    proof = await inclusion_proof(7, 13)
    assert merkle.verify_inclusion(proof.leaf_hash, 7, 13, proof.path, bytes.fromhex(second.root_hash))
    old, new, path = await consistency_proof(5, 13)
    assert merkle.verify_consistency(5, 13, bytes.fromhex(old.root_hash), bytes.fromhex(new.root_hash), path)
