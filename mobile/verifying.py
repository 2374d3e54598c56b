"""Verify one wallet entry on the device: inclusion in a signed checkpoint, consistency with the last.

The leaf hash is recomputed from the entry's bytes (RFC 9162: SHA-256(0x00 || leaf)); the
checkpoint's signature is checked against the verifier key pinned in the app's settings; the
last checkpoint this device verified is remembered, and every newer one must extend it. All proof
maths is in :mod:`mobile.ledger_verify` (pure). A failure is reported loudly and never retried.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from mobile.api.client import GraphQLClient
from mobile.api.errors import Rejected

LAST_CHECKPOINT = "ledger.last_checkpoint"
VERIFIED, FAILED, NOT_YET = "verified", "failed", "not_yet"


@dataclass
class Outcome:
    state: str
    seq: int
    origin: str = ""
    tree_size: int = 0
    reason: str = ""


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    text = str(value)
    try:
        return bytes.fromhex(text)
    except ValueError:
        return base64.b64decode(text)


def leaf_hash(leaf_data: str) -> bytes:
    return hashlib.sha256(b"\x00" + leaf_data.encode()).digest()


class KeyValue:
    """What the verifier needs from the device store (the outbox's kv table)."""

    def kv_get(self, key: str) -> str | None: ...

    def kv_set(self, key: str, value: str) -> None: ...


async def verify_entry(client: GraphQLClient, store: KeyValue, verifier_key: str, entry: dict[str, Any]) -> Outcome:
    """Check ``entry`` (a wallet history line with ``seq`` and ``leafData``) against the ledger."""
    from mobile import ledger_verify as lv

    seq = int(entry["seq"])
    try:
        proof = await client.call("LedgerInclusionProof", "ledgerInclusionProof", {"seq": seq})
    except Rejected as exc:
        if exc.typename == "ValidationFailed":
            return Outcome(NOT_YET, seq, reason=exc.message)
        raise
    try:
        checkpoint = lv.verify_checkpoint(proof["checkpointNote"], verifier_key)
        root = _bytes(checkpoint.root)
        if checkpoint.size != proof["treeSize"] or root != _bytes(proof["rootHash"]):
            raise lv.VerificationError("the proof does not belong to the signed checkpoint")
        mine = leaf_hash(entry["leafData"])
        if mine != _bytes(proof["leafHash"]) or mine.hex() != str(entry.get("leafHash", mine.hex())):
            raise lv.VerificationError("the entry's bytes do not hash to the proven leaf")
        lv.verify_inclusion(mine, seq, checkpoint.size, [_bytes(p) for p in proof["path"]], root)
        await _check_consistency(client, store, lv, checkpoint.origin, checkpoint.size, root)
    except lv.VerificationError as exc:
        return Outcome(FAILED, seq, reason=str(exc) or type(exc).__name__,
                       tree_size=int(proof.get("treeSize") or 0))
    return Outcome(VERIFIED, seq, origin=checkpoint.origin, tree_size=checkpoint.size)


async def _check_consistency(client: GraphQLClient, store: KeyValue, lv: Any, origin: str, size: int,
                             root: bytes) -> None:
    raw = store.kv_get(LAST_CHECKPOINT)
    last = json.loads(raw) if raw else None
    if last is not None:
        if last["origin"] != origin:
            raise lv.VerificationError(f"checkpoint origin changed from {last['origin']} to {origin}")
        old_size, old_root = int(last["size"]), bytes.fromhex(last["root"])
        if old_size == size and old_root != root:
            raise lv.VerificationError("two different roots for the same tree size")
        if old_size != size:
            small, big = sorted([(old_size, old_root), (size, root)])
            try:
                proof = await client.call("LedgerConsistencyProof", "ledgerConsistencyProof",
                                          {"fromSize": small[0], "toSize": big[0]})
            except Rejected as exc:
                raise lv.VerificationError(f"no consistency proof: {exc.message}") from exc
            lv.verify_consistency(small[0], big[0], [_bytes(p) for p in proof["path"]], small[1], big[1])
        if old_size >= size:
            return
    store.kv_set(LAST_CHECKPOINT, json.dumps({"origin": origin, "size": size, "root": root.hex()}))
