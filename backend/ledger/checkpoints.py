"""Signing checkpoints of the ledger and serving inclusion and consistency proofs."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from tortoise.exceptions import IntegrityError

from backend.errors import ValidationFailed
from backend.ledger import merkle, signing, tree
from backend.ledger.models import Checkpoint
from backend.ledger.nodes import read_hashes
from backend.ledger.service import leaf_hashes, ledger_size
from backend.settings import Settings


@dataclass(frozen=True)
class LedgerKey:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def verifier_key(self) -> str:
        return signing.verifier_key(self.name, self.public_key)


def ledger_key(settings: Settings) -> LedgerKey:
    return LedgerKey(settings.ledger_origin, signing.private_key_from_seed(settings.ledger_key_seed))


async def latest_checkpoint() -> Checkpoint | None:
    return await Checkpoint.all().order_by("-tree_size").first()


async def publish_checkpoint(settings: Settings, now: datetime | None = None) -> Checkpoint | None:
    """Sign a checkpoint of the current ledger unless the latest already covers it.

    Idempotent: the tree size is unique, so a rerun (or a second worker) finds the same row.
    Only the entries added since the previous checkpoint are hashed.
    """
    size = await ledger_size()
    latest = await latest_checkpoint()
    if latest is not None and latest.tree_size >= size:
        return latest
    if size == 0:
        return None
    if latest is None:
        acc = merkle.MerkleAccumulator()
    else:
        acc = merkle.MerkleAccumulator.from_state(latest.tree_size, [bytes.fromhex(p) for p in latest.peaks])
    for h in await leaf_hashes(acc.size, size):
        acc.append(h)
    root = acc.root()
    key = ledger_key(settings)
    note = signing.sign_checkpoint(signing.Checkpoint(key.name, size, root), key.name, key.private_key)
    try:
        return await Checkpoint.create(
            tree_size=size, root_hash=root.hex(), peaks=[p.hex() for p in acc.peaks],
            issued_at=now or datetime.now(UTC), key_id=signing.key_id(key.name, key.public_key).hex(),
            note=note,
        )
    except IntegrityError:
        return await Checkpoint.get(tree_size=size)


async def past_checkpoints(first: int, before_size: int | None = None) -> list[Checkpoint]:
    """Published checkpoints, largest first (at most ``first``), below ``before_size`` if given."""
    if not 1 <= first <= 500:
        raise ValidationFailed("first", "first must be between 1 and 500.")
    query = Checkpoint.all()
    if before_size is not None:
        query = query.filter(tree_size__lt=before_size)
    return await query.order_by("-tree_size").limit(first)


async def checkpoint_of_size(tree_size: int | None) -> Checkpoint:
    if tree_size is None:
        cp = await latest_checkpoint()
        if cp is None:
            raise ValidationFailed("treeSize", "No checkpoint has been published yet.")
        return cp
    cp = await Checkpoint.filter(tree_size=tree_size).first()
    if cp is None:
        raise ValidationFailed("treeSize", f"No checkpoint was published at tree size {tree_size}.")
    return cp


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    leaf_hash: bytes
    checkpoint: Checkpoint
    path: list[bytes]


class _ProofCache:
    """A small LRU of computed proofs, keyed by the signed roots they lead to (so by content)."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._items: OrderedDict[tuple, tuple[bytes, ...]] = OrderedDict()

    def get(self, key: tuple) -> tuple[bytes, ...] | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: tuple, value: tuple[bytes, ...]) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


proof_cache = _ProofCache()


async def _proof(ranges: list[tuple[int, int]], size: int, extra_leaves: tuple[int, ...] = ()
                 ) -> tuple[dict[int, bytes], list[bytes]]:
    """The hashes of ``ranges`` from the stored nodes: O(log n) rows in at most two statements.

    Falls back to hashing every leaf up to ``size`` when a node is missing (nodes not built yet).
    """
    leaves, stored = await read_hashes(tree.reads_for(ranges, extra_leaves))
    try:
        return leaves, tree.proof_hashes(ranges, leaves, stored)
    except tree.MissingNode:
        hashes = await leaf_hashes(0, size)
        return dict(enumerate(hashes)), [merkle._mth(hashes[lo:hi]) for lo, hi in ranges]


async def inclusion_proof(seq: int, tree_size: int | None = None) -> InclusionProof:
    """The audit path of entry ``seq`` to the root of a published checkpoint."""
    cp = await checkpoint_of_size(tree_size)
    if not 0 <= seq < cp.tree_size:
        raise ValidationFailed("seq", f"Entry {seq} is not covered by the checkpoint of size {cp.tree_size}.")
    key = ("inclusion", seq, cp.tree_size, cp.root_hash)
    cached = proof_cache.get(key)
    if cached is None:
        leaves, path = await _proof(tree.inclusion_ranges(seq, cp.tree_size), cp.tree_size, (seq,))
        if seq not in leaves:
            raise ValidationFailed("seq", f"Entry {seq} is missing from the ledger.")
        cached = (leaves[seq], *path)
        proof_cache.put(key, cached)
    return InclusionProof(seq, cached[0], cp, list(cached[1:]))


async def consistency_proof(old_size: int, new_size: int) -> tuple[Checkpoint, Checkpoint, list[bytes]]:
    """Proof that the checkpoint of ``new_size`` extends the one of ``old_size``."""
    if old_size > new_size:
        raise ValidationFailed("fromSize", "fromSize must not be larger than toSize.")
    old = await checkpoint_of_size(old_size)
    new = await checkpoint_of_size(new_size)
    key = ("consistency", old.tree_size, old.root_hash, new.tree_size, new.root_hash)
    cached = proof_cache.get(key)
    if cached is None:
        _, path = await _proof(tree.consistency_ranges(old.tree_size, new.tree_size), new.tree_size)
        cached = tuple(path)
        proof_cache.put(key, cached)
    return old, new, list(cached)
