"""Verifying the stored ledger: stream every row into the pure :mod:`backend.ledger.audit`.

Rows are read with raw SQL in ``seq`` order, a batch at a time after the last ``seq`` seen, so
gaps and rows moved to any ``seq`` are read exactly once, and values an attacker wrote that the
ORM would refuse (an unknown kind, a malformed UUID) still reach the auditor as they are.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from tortoise import connections
from tortoise.exceptions import BaseORMException

from backend.db import close_db, init_db
from backend.ledger import signing
from backend.ledger.audit import (
    INFO_KINDS,
    AuditReport,
    LedgerAuditor,
    Finding,
    NodeAuditor,
    SignedCheckpoint,
    with_node_findings,
)
from backend.ledger.checkpoints import ledger_key
from backend.ledger.entries import Asset, EntryKind, EntryRecord
from backend.ledger.models import Checkpoint, LedgerHead
from backend.ledger.nodes import LedgerDamaged
from backend.ledger.service import HEAD_ID, ensure_nodes
from backend.ledger.tree import key_ranges
from backend.settings import Settings

Progress = Callable[[int, int], None]
_COLUMNS = "seq, txn, kind, account, asset, scope, amount, ref, recorded_at, leaf_hash"


async def verify_ledger(settings: Settings, progress: Progress | None = None, *,
                        key: tuple[str, Ed25519PublicKey] | None = None, batch: int = 20_000) -> AuditReport:
    """Audit every entry, checkpoint and balance; ``key`` defaults to the settings' ledger key.

    ``progress(entries_read, head_size)`` is called after each batch. Tortoise must be initialised.
    """
    if key is None:
        own = ledger_key(settings)
        key = (own.name, own.public_key)
    conn = connections.get("default")
    rows = await Checkpoint.all().order_by("tree_size").values_list("note", "tree_size", "root_hash", "peaks")
    head_row = await LedgerHead.filter(id=HEAD_ID).first()
    head = head_row.size if head_row else 0
    head_peaks = head_row.peaks if head_row else None
    auditor = LedgerAuditor([SignedCheckpoint(*row) for row in rows], *key, head_size=head)
    node_auditor = NodeAuditor(head) if head_peaks is not None else None
    node_findings: list[Finding] = []
    after = -1
    while True:
        _, rows = await conn.execute_query(
            f"SELECT {_COLUMNS} FROM ledger_entry WHERE seq > {int(after)} ORDER BY seq LIMIT {int(batch)}")
        for row in rows:
            seq, stored_hash = int(row[0]), str(row[9])
            try:
                record = _record(row)
            except (TypeError, ValueError) as exc:
                auditor.feed_unreadable(seq, str(exc))
                leaf: bytes | None = _UNREADABLE
            else:
                leaf = auditor.feed(seq, record, stored_hash)
            if node_auditor is not None and leaf is not None:
                node_auditor.append(seq, leaf)
        if node_auditor is not None:
            node_findings += await _compare_nodes(conn, node_auditor)
        if progress is not None:
            progress(auditor.entries, head)
        if len(rows) < batch:
            break
        after = int(rows[-1][0])
    if node_auditor is not None:
        node_auditor.fill()
        node_findings += await _compare_nodes(conn, node_auditor)
        inside = " OR ".join(f"(id >= {lo} AND id < {hi})" for lo, hi in key_ranges(head)) or "1 = 0"
        _, counted = await conn.execute_query(f"SELECT COUNT(*) FROM ledger_node WHERE NOT ({inside})")
        node_findings += node_auditor.finish(int(counted[0][0]), head_peaks)
    _, balances = await conn.execute_query("SELECT account, asset, scope, amount FROM ledger_balance")
    report = auditor.finish({(a, asset, scope): int(amount) for a, asset, scope, amount in balances})
    return with_node_findings(report, node_findings)


_UNREADABLE = bytes(32)


async def _compare_nodes(conn: Any, nodes: NodeAuditor) -> list[Finding]:
    """Compare the nodes completed so far with the stored ones (keys are integers we computed)."""
    keys = nodes.pending()
    stored: dict[int, bytes] = {}
    for start in range(0, len(keys), 5_000):
        chunk = ", ".join(str(int(k)) for k in keys[start:start + 5_000])
        _, rows = await conn.execute_query(f"SELECT id, hash FROM ledger_node WHERE id IN ({chunk})")
        stored.update((int(k), bytes(h)) for k, h in rows)
    return nodes.compare(stored)


def _record(row: Any) -> EntryRecord:
    """An entry from raw columns (SQLite returns text, PostgreSQL typed values)."""
    seq, txn, kind, account, asset, scope, amount, ref, at, _ = row
    if not isinstance(amount, int):
        raise TypeError(f"amount {amount!r} is not an integer")
    return EntryRecord(seq=int(seq), txn=_uuid(str(txn)), kind=_KINDS.get(kind, str(kind)),
                       account=_uuid(str(account)), asset=_ASSETS.get(asset, str(asset)), scope=str(scope),
                       amount=amount, ref=str(ref), at=_time(at))


_KINDS: dict[Any, Any] = {k.value: k for k in EntryKind}
_ASSETS: dict[Any, Any] = {a.value: a for a in Asset}


@functools.lru_cache(maxsize=1 << 16)
def _uuid(text: str) -> UUID | str:
    """The UUID, or the raw text when it is none: the leaf hash then fails, as it should."""
    try:
        return UUID(text)
    except ValueError:
        return text


def _time(value: Any) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def verify_ledger_cli(settings: Settings, verifier_key: str | None = None) -> int:
    """``pvpp ledger verify``: findings on stdout, progress on stderr; exit 0 clean, 1 found, 2 error."""
    try:
        key = signing.parse_verifier_key(verifier_key) if verifier_key else None
    except signing.CheckpointError as exc:
        print(f"pvpp: --verifier-key: {exc}", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(_verify_with_db(settings, key))
    except (BaseORMException, OSError) as exc:
        print(f"pvpp: cannot read the ledger: {exc}", file=sys.stderr)
        return 2
    for finding in report.findings:
        print(finding)
    if report.omitted:
        print(f"... and {report.omitted} more findings")
    problems = sum(n for kind, n in report.counts.items() if kind not in INFO_KINDS)
    print(f"{'OK' if report.ok else 'FAILED'}: {report.entries} entries and {report.checkpoints} checkpoints "
          f"checked in {report.seconds:.2f}s ({report.rate:,.0f} entries/s), {problems} problems")
    return 0 if report.ok else 1


async def _verify_with_db(settings: Settings, key: tuple[str, Ed25519PublicKey] | None) -> AuditReport:
    await init_db(settings)
    try:
        return await verify_ledger(settings, _ProgressPrinter(), key=key)
    finally:
        await close_db()


class _ProgressPrinter:
    """Prints ``read/total entries`` to stderr at most once a second, after the first second."""

    def __init__(self) -> None:
        self._started = self._last = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last >= 1.0:
            self._last = now
            rate = done / (now - self._started)
            print(f"verified {done:,}/{total:,} entries ({rate:,.0f}/s)", file=sys.stderr, flush=True)


def build_nodes_cli(settings: Settings) -> int:
    """``pvpp ledger build-nodes``: exit 0 when the nodes exist (now or already), 2 on an error."""
    async def run() -> tuple[int, bool]:
        await init_db(settings)
        try:
            return await ensure_nodes()
        finally:
            await close_db()

    started = time.monotonic()
    try:
        size, built = asyncio.run(run())
    except (BaseORMException, OSError, LedgerDamaged) as exc:
        print(f"pvpp: cannot build the ledger's Merkle nodes: {exc}", file=sys.stderr)
        return 2
    if built:
        print(f"built the Merkle nodes of {size} entries in {time.monotonic() - started:.1f}s")
    else:
        print(f"the Merkle nodes of the ledger ({size} entries) exist already")
    return 0
