"""The template leaf encoder writes exactly the bytes of the sorted-key JSON definition."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from backend.ledger.entries import Asset, EntryKind, EntryRecord, encode_leaf, encode_leaf_json

AWKWARD = ["", "11110", 'quo"te', "back\\slash", "line\nbreak", "\x01\x1f\x7f", "\u2028\u2029", "한국어 설명",
           "emoji \U0001f600", "settle:1:2026-11:00000000-0000-4000-8000-000000000000:coins:credit", "/<>&'"]


def _record(rng: random.Random) -> EntryRecord:
    offset = timezone(timedelta(minutes=rng.choice([0, 540, -300, 345])))
    return EntryRecord(
        seq=rng.choice([0, 1, rng.randrange(10**12)]), txn=uuid.UUID(int=rng.getrandbits(128), version=4),
        kind=rng.choice(list(EntryKind)), account=uuid.UUID(int=rng.getrandbits(128), version=4),
        asset=rng.choice(list(Asset)), scope=rng.choice(AWKWARD), amount=rng.choice([-1, 1, rng.randint(-10**15, 10**15)]),
        ref=rng.choice(AWKWARD) + str(rng.random()),
        at=datetime(2026, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
                    rng.randint(0, 59), rng.choice([0, rng.randrange(10**6)]), tzinfo=offset),
    )


def test_template_equals_json_definition():
    rng = random.Random(17)
    records = [_record(rng) for _ in range(5_000)]
    for record in records:
        assert encode_leaf(record) == encode_leaf_json(record), record
    assert json.loads(encode_leaf(records[0]))["v"] == 1


def test_same_instant_in_other_zones_encodes_alike():
    at = datetime(2026, 11, 30, 14, 59, 59, tzinfo=UTC)
    base = _record(random.Random(1))
    fields = {name: getattr(base, name) for name in base.__slots__}
    leaves = {encode_leaf(EntryRecord(**{**fields, "at": at.astimezone(timezone(timedelta(hours=h)))}))
              for h in (0, 9, -5)}
    assert len(leaves) == 1
    assert b'"at":"2026-11-30T14:59:59.000000Z"' in leaves.pop()


def test_naive_time_is_refused():
    record = _record(random.Random(2))
    fields = {name: getattr(record, name) for name in record.__slots__}
    with pytest.raises(ValueError):
        encode_leaf(EntryRecord(**{**fields, "at": datetime(2026, 1, 1)}))
