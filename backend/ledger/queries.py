"""Queries of the ledger: anyone may fetch checkpoints, proofs and the verifier key."""

from __future__ import annotations


import strawberry

from backend.accounts.ratelimit import AttemptCounter
from backend.errors import RateLimited as RateLimitedError
from backend.errors import ValidationFailed as ValidationFailedError
from backend.graphql.context import Info
from backend.graphql.errors import RateLimited, ValidationFailed, result_union
from backend.graphql.permissions import Anyone
from backend.graphql.results import returns_errors
from backend.graphql.scalars import to_display
from backend.ledger import checkpoints
from backend.ledger.models import Checkpoint
from backend.ledger.types import ConsistencyProof, InclusionProof, LedgerCheckpoint, LedgerCheckpointList

CheckpointResult = result_union("CheckpointResult", LedgerCheckpoint, ValidationFailed)
InclusionProofResult = result_union("InclusionProofResult", InclusionProof, ValidationFailed, RateLimited)
CheckpointListResult = result_union("CheckpointListResult", LedgerCheckpointList, ValidationFailed)
ConsistencyProofResult = result_union("ConsistencyProofResult", ConsistencyProof, ValidationFailed, RateLimited)


def _size(value: int | None, field: str) -> int | None:
    if value is not None and value < 0:
        raise ValidationFailedError(field, f"{field} must not be negative.")
    return value


async def _limit_proofs(info: Info) -> None:
    """Proofs are public: each client address may ask for ``ledger_proofs_per_minute`` a minute."""
    limit = info.context.settings.ledger_proofs_per_minute
    counter = AttemptCounter(info.context.redis, "ledger-proof", limit=limit, window_seconds=60)
    address = info.context.client_address
    if await counter.hit(address) > limit:
        raise RateLimitedError(await counter.retry_after(address) or 60)


def _checkpoint(cp: Checkpoint, info: Info) -> LedgerCheckpoint:
    return LedgerCheckpoint(tree_size=cp.tree_size, root_hash=cp.root_hash, note=cp.note,
                            issued_at=to_display(cp.issued_at, info.context.settings.display_timezone))


@strawberry.type
class LedgerQueries:
    @strawberry.field(permission_classes=[Anyone], description="The key that signs checkpoints (signed-note verifier key).")
    def ledger_verifier_key(self, info: Info) -> str:
        return checkpoints.ledger_key(info.context.settings).verifier_key

    @strawberry.field(permission_classes=[Anyone], description="The checkpoint of a tree size, or the latest.")
    @returns_errors
    async def ledger_checkpoint(self, info: Info, tree_size: int | None = None) -> CheckpointResult:
        return _checkpoint(await checkpoints.checkpoint_of_size(_size(tree_size, "treeSize")), info)

    @strawberry.field(permission_classes=[Anyone],
                      description="Past signed checkpoints, newest first: pick an old size for a consistency proof.")
    @returns_errors
    async def ledger_checkpoints(self, info: Info, first: int = 20,
                                 before_size: int | None = None) -> CheckpointListResult:
        rows = await checkpoints.past_checkpoints(first, _size(before_size, "beforeSize"))
        return LedgerCheckpointList(items=[_checkpoint(cp, info) for cp in rows])

    @strawberry.field(permission_classes=[Anyone], description="Proof that entry seq is in a checkpoint (latest by default).")
    @returns_errors
    async def ledger_inclusion_proof(self, info: Info, seq: int, tree_size: int | None = None) -> InclusionProofResult:
        await _limit_proofs(info)
        proof = await checkpoints.inclusion_proof(_size(seq, "seq"), _size(tree_size, "treeSize"))
        return InclusionProof(seq=proof.seq, leaf_hash=proof.leaf_hash.hex(), tree_size=proof.checkpoint.tree_size,
                              root_hash=proof.checkpoint.root_hash, path=[h.hex() for h in proof.path],
                              checkpoint_note=proof.checkpoint.note)

    @strawberry.field(permission_classes=[Anyone], description="Proof that a later checkpoint extends an earlier one.")
    @returns_errors
    async def ledger_consistency_proof(self, info: Info, from_size: int, to_size: int) -> ConsistencyProofResult:
        await _limit_proofs(info)
        old, new, path = await checkpoints.consistency_proof(_size(from_size, "fromSize"), _size(to_size, "toSize"))
        return ConsistencyProof(from_size=old.tree_size, to_size=new.tree_size, from_root=old.root_hash,
                                to_root=new.root_hash, path=[h.hex() for h in path])
