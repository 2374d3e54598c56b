"""Inclusion proofs of a certificate's ledger entries, checked on the server as a verifier would.

Each entry's leaf hash is recomputed from the entry's fields (not read from its stored hash),
its audit path is read from the stored tree nodes (O(log n)) and checked against the latest
signed checkpoint, whose signature is opened with the ledger's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.ledger import merkle, signing
from backend.ledger.checkpoints import inclusion_proof, latest_checkpoint, ledger_key
from backend.ledger.entries import entry_leaf_hash
from backend.ledger.models import Checkpoint, LedgerEntry
from backend.ledger.service import record_of
from backend.settings import Settings


@dataclass(frozen=True)
class EntryProof:
    seq: int
    amount: int
    recorded_at: datetime
    leaf_hash: str  # recomputed from the entry's fields
    tree_size: int | None  # None: no signed checkpoint covers the entry yet
    root_hash: str | None
    path: list[str] | None
    verified: bool | None  # None while not covered


@dataclass(frozen=True)
class CheckpointCheck:
    tree_size: int
    root_hash: str
    issued_at: datetime
    signature_ok: bool


def checkpoint_check(cp: Checkpoint, settings: Settings) -> CheckpointCheck:
    key = ledger_key(settings)
    try:
        opened = signing.open_checkpoint(cp.note, key.name, key.public_key)
        ok = opened.size == cp.tree_size and opened.root.hex() == cp.root_hash
    except (signing.CheckpointError, ValueError):
        ok = False
    return CheckpointCheck(cp.tree_size, cp.root_hash, cp.issued_at, ok)


async def entry_proofs(entries: list[LedgerEntry]) -> tuple[list[EntryProof], Checkpoint | None]:
    """Each entry with its audit path to the latest checkpoint and whether the path leads to its root."""
    cp = await latest_checkpoint()
    out = []
    for row in entries:
        leaf = entry_leaf_hash(record_of(row))
        if cp is None or row.seq >= cp.tree_size:
            out.append(EntryProof(row.seq, row.amount, row.recorded_at, leaf.hex(), None, None, None, None))
            continue
        proof = await inclusion_proof(row.seq, cp.tree_size)
        ok = merkle.verify_inclusion(leaf, row.seq, cp.tree_size, proof.path, bytes.fromhex(cp.root_hash))
        out.append(EntryProof(row.seq, row.amount, row.recorded_at, leaf.hex(), cp.tree_size, cp.root_hash,
                              [h.hex() for h in proof.path], ok))
    return out, cp
