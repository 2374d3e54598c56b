"""The ledger tables: entries (append-only Merkle leaves), the head, balances, checkpoints."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from backend.ledger.entries import Asset, EntryKind


class LedgerEntry(Model):
    """One leg of a ledger transaction and leaf ``seq`` of the Merkle tree. Never updated.

    ``leaf_hash`` is the hex SHA-256 leaf hash of the row's canonical encoding
    (backend.ledger.entries). ``memo`` is a human explanation kept outside the leaf.
    """

    seq = fields.BigIntField(primary_key=True)
    txn = fields.UUIDField(db_index=True)
    kind = fields.CharEnumField(EntryKind, max_length=12)
    account = fields.UUIDField(db_index=True, description="Pseudonym of the holder")
    asset = fields.CharEnumField(Asset, max_length=20)
    scope = fields.CharField(max_length=20, default="")
    amount = fields.BigIntField()
    ref = fields.CharField(max_length=160, unique=True)
    recorded_at = fields.DatetimeField()
    leaf_hash = fields.CharField(max_length=64)
    memo = fields.CharField(max_length=200, default="")

    class Meta:
        table = "ledger_entry"
        indexes = (("account", "asset", "recorded_at"),)


class LedgerHead(Model):
    """The single row (id 1) every writer locks: the number of entries so far.

    ``peaks`` holds the hex roots of the perfect subtrees of the tree of ``size`` leaves, from
    which the writer derives the stored nodes of new entries; null until the nodes are built.
    """

    id = fields.IntField(primary_key=True)
    size = fields.BigIntField(default=0)
    peaks = fields.JSONField(null=True)

    class Meta:
        table = "ledger_head"


class LedgerNode(Model):
    """The hash of a complete subtree of the Merkle tree at a level that is a multiple of 4.

    ``id`` is ``level << 48 | index`` (backend.ledger.tree.node_key); written with the entries
    that complete it, never updated.
    """

    id = fields.BigIntField(primary_key=True)
    hash = fields.BinaryField()

    class Meta:
        table = "ledger_node"


class Balance(Model):
    """Materialised sum of an account's entries per asset and scope, checked by the verifier."""

    id = fields.IntField(primary_key=True)
    account = fields.UUIDField()
    asset = fields.CharEnumField(Asset, max_length=20)
    scope = fields.CharField(max_length=20, default="")
    amount = fields.BigIntField(default=0)

    class Meta:
        table = "ledger_balance"
        unique_together = (("account", "asset", "scope"),)


class Checkpoint(Model):
    """A signed tree head: size, root, and the signed note published to verifiers.

    ``peaks`` holds the hex roots of the perfect subtrees at this size, so the next checkpoint
    only hashes the entries added since.
    """

    id = fields.IntField(primary_key=True)
    tree_size = fields.BigIntField(unique=True)
    root_hash = fields.CharField(max_length=64)
    peaks = fields.JSONField()
    issued_at = fields.DatetimeField()
    key_id = fields.CharField(max_length=16)
    note = fields.TextField()

    class Meta:
        table = "ledger_checkpoint"
