"""GraphQL types of the ledger: signed checkpoints and proofs, public by design (hashes only)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from backend.graphql.access import public_type


@public_type
@strawberry.type(description="A signed tree head in the C2SP signed-note checkpoint format.")
class LedgerCheckpoint:
    tree_size: int
    root_hash: str = strawberry.field(description="Hex SHA-256 RFC 9162 root")
    issued_at: datetime
    note: str = strawberry.field(description="The signed note; verify it with the published verifier key")


@public_type
@strawberry.type(description="RFC 9162 inclusion proof (audit path, leaf side first) of one entry.")
class InclusionProof:
    seq: int
    leaf_hash: str
    tree_size: int
    root_hash: str
    path: list[str]
    checkpoint_note: str


@public_type
@strawberry.type(description="RFC 9162 consistency proof between two checkpoints.")
class ConsistencyProof:
    from_size: int
    to_size: int
    from_root: str
    to_root: str
    path: list[str]


@public_type
@strawberry.type(description="Published checkpoints, newest first; page on with beforeSize = the last treeSize.")
class LedgerCheckpointList:
    items: list[LedgerCheckpoint]
