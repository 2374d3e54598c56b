"""What one ledger entry is, and the exact bytes that become its Merkle leaf.

Pure: no ORM. The service turns rows into :class:`EntryRecord`; the verifier recomputes the
leaf of every row with :func:`encode_leaf` and compares it with the stored hash and the signed
checkpoints. The account is the holder's pseudonym, never a name or an email.

Leaf encoding (version 1): UTF-8 JSON with sorted keys, no whitespace, integers as JSON
numbers, the time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC::

    {"account":"<uuid>","amount":-2000,"asset":"points","kind":"conversion",
     "at":"2026-11-30T15:00:00.000000Z","ref":"...","scope":"","seq":41,"txn":"<uuid>","v":1}

``seq`` (the leaf index) is inside the leaf, so an entry moved to another position no longer
matches its hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from json.encoder import encode_basestring
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from backend.ledger.merkle import leaf_hash

LEAF_VERSION = 1


class EntryKind(StrEnum):
    AWARD = "award"
    CONVERSION = "conversion"
    REDEMPTION = "redemption"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"


class Asset(StrEnum):
    POINTS = "points"
    VOLUNTEER_MINUTES = "volunteer_minutes"
    MILEAGE_WON = "mileage_won"
    COINS_WON = "coins_won"
    HONOURS = "honours"  # a prize without value: one per honour awarded


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One leg of a ledger transaction (legs written together share ``txn``)."""

    seq: int
    txn: UUID
    kind: EntryKind
    account: UUID
    asset: Asset
    scope: str  # the municipality code for coins, "" otherwise
    amount: int  # signed, in whole units of the asset
    ref: str  # unique idempotency key of this leg
    at: datetime  # aware; encoded in UTC


def format_time(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_format_time_cached = lru_cache(maxsize=1024)(format_time)  # a batch's legs share their time

#: The keys of a leaf in sorted order with their values' slots (see :func:`encode_leaf_json`).
_LEAF_TEMPLATE = ('{"account":"%s","amount":%d,"asset":%s,"at":"%s","kind":%s,"ref":%s,'
                  '"scope":%s,"seq":%d,"txn":"%s","v":' + str(LEAF_VERSION) + '}')


def encode_leaf(record: EntryRecord) -> bytes:
    """The canonical bytes of an entry (the Merkle leaf data): :func:`encode_leaf_json`'s bytes,
    built from a fixed template (keys are constant, so only the strings need JSON escaping),
    about four times faster."""
    return (_LEAF_TEMPLATE % (
        record.account, int(record.amount), encode_basestring(str(record.asset)), _format_time_cached(record.at),
        encode_basestring(str(record.kind)), encode_basestring(record.ref), encode_basestring(record.scope),
        int(record.seq), record.txn,
    )).encode()


def encode_leaf_json(record: EntryRecord) -> bytes:
    """The definition of the leaf: sorted-key JSON of the entry, as ``json.dumps`` writes it."""
    body = {
        "v": LEAF_VERSION,
        "seq": int(record.seq),
        "txn": str(record.txn),
        "kind": str(record.kind),
        "account": str(record.account),
        "asset": str(record.asset),
        "scope": record.scope,
        "amount": int(record.amount),
        "ref": record.ref,
        "at": format_time(record.at),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_leaf_hash(record: EntryRecord) -> bytes:
    """RFC 9162 leaf hash of the entry: SHA-256(0x00 || encode_leaf(record))."""
    return leaf_hash(encode_leaf(record))
