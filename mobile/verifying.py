"""Verify one wallet entry on the device: inclusion in a signed checkpoint, consistency with the last.

This module only fetches: the inclusion proof, and a consistency proof from the last checkpoint
this device verified to the new one. Every check (signature against the pinned key, canonical
leaf, the shown fields against the signed leaf, inclusion, consistency) is in
:func:`mobile.ledger_verify.verify_entry`. The last checkpoint is kept as its signed note and
verified again when read. A failure is reported loudly and never retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mobile import ledger_verify as lv
from mobile.api.client import GraphQLClient
from mobile.api.errors import Rejected

LAST_CHECKPOINT = "ledger.last_checkpoint_note"
VERIFIED, FAILED, NOT_YET = "verified", "failed", "not_yet"


@dataclass
class Outcome:
    state: str
    seq: int
    origin: str = ""
    tree_size: int = 0
    reason: str = ""


class KeyValue:
    """What the verifier needs from the device store (the outbox's kv table)."""

    def kv_get(self, key: str) -> str | None: ...

    def kv_set(self, key: str, value: str) -> None: ...


def _remembered(store: KeyValue, verifier_key: str) -> lv.Checkpoint | None:
    """The last verified checkpoint, or None; a stored note that no longer verifies is a failure."""
    note = store.kv_get(LAST_CHECKPOINT)
    return lv.verify_checkpoint(note, verifier_key) if note else None


async def _consistency(client: GraphQLClient, remembered: lv.Checkpoint | None,
                       inclusion: dict[str, Any], verifier_key: str) -> dict[str, Any] | None:
    """The consistency proof between the remembered checkpoint and the proof's one, when needed."""
    if remembered is None:
        return None
    try:
        current = lv.verify_checkpoint(inclusion["checkpointNote"], verifier_key)
    except (lv.VerificationError, KeyError, TypeError):
        return None  # verify_entry reports the bad checkpoint itself
    if current.size == remembered.size:
        return None
    small, big = sorted((remembered.size, current.size))
    try:
        return await client.call("LedgerConsistencyProof", "ledgerConsistencyProof",
                                 {"fromSize": small, "toSize": big})
    except Rejected:
        return None  # verify_entry then fails with "no consistency proof"


async def verify_entry(client: GraphQLClient, store: KeyValue, verifier_key: str, entry: dict[str, Any],
                       account: str | None = None) -> Outcome:
    """Check ``entry`` (a wallet history line with ``seq`` and ``leafData``) against the ledger."""
    seq = int(entry["seq"])
    try:
        inclusion = await client.call("LedgerInclusionProof", "ledgerInclusionProof", {"seq": seq})
    except Rejected as exc:
        if exc.typename == "ValidationFailed":
            return Outcome(NOT_YET, seq, reason=exc.message)
        raise
    try:
        remembered = _remembered(store, verifier_key)
    except lv.VerificationError as exc:
        return Outcome(FAILED, seq, reason=f"the checkpoint this device remembered no longer verifies: {exc}")
    consistency = await _consistency(client, remembered, inclusion, verifier_key)
    result = lv.verify_entry(entry, inclusion, verifier_key, remembered=remembered,
                             consistency=consistency, account=account)
    if result.pending:
        return Outcome(NOT_YET, seq, reason=result.reason)
    if not result.verified:
        return Outcome(FAILED, seq, origin=result.origin or "", tree_size=result.tree_size or 0,
                       reason=result.reason)
    if result.remember is not None and result.remember is not remembered:
        store.kv_set(LAST_CHECKPOINT, result.remember.note)
    return Outcome(VERIFIED, seq, origin=result.origin or "", tree_size=result.tree_size or 0)
