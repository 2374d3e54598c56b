"""Appending to the ledger, balances, and the entries a verifier or a proof needs.

Every write goes through :func:`ledger_transaction`: one database transaction that first locks
the single ``ledger_head`` row, so entries get dense, gap-free sequence numbers (the Merkle leaf
index) and balance checks see every earlier write. Entries are never updated or deleted; a
correction is a new ``reversal`` or ``adjustment`` entry.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from backend.ledger import nodes
from backend.ledger.entries import Asset, EntryKind, EntryRecord, entry_leaf_hash
from backend.ledger.models import Balance, LedgerEntry, LedgerHead
from backend.ledger.tree import TreeState

TXN_NAMESPACE = uuid.UUID("6f1c2a52-52f4-4b57-9d0e-0d5e4b1f7a10")
HEAD_ID = 1
BalanceKey = tuple[UUID, Asset, str]


def txn_for(ref: str) -> UUID:
    """A transaction id derived from its reference, so a rerun job writes identical entries."""
    return uuid.uuid5(TXN_NAMESPACE, ref)


def is_postgres(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


@dataclass
class LedgerWriter:
    """Collects the legs of one locked ledger transaction; :func:`ledger_transaction` writes them."""

    conn: BaseDBAsyncClient
    size: int
    now: datetime
    tree: TreeState | None = None  # the head's compact range; None until the nodes are built
    pending: list[tuple[EntryRecord, str]] = field(default_factory=list)
    deltas: dict[BalanceKey, int] = field(default_factory=lambda: defaultdict(int))
    _refs: set[str] = field(default_factory=set)
    _txn: UUID | None = None

    def add(self, kind: EntryKind, account: UUID, asset: Asset, amount: int, ref: str, *,
            scope: str = "", memo: str = "", txn: UUID | None = None, at: datetime | None = None) -> EntryRecord:
        if amount == 0:
            raise ValueError("a ledger leg must move a non-zero amount")
        if ref in self._refs:
            raise ValueError(f"duplicate ref in one transaction: {ref}")
        if txn is None:  # legs of one writer share a transaction id unless told otherwise
            txn = self._txn = self._txn or txn_for(ref)
        record = EntryRecord(
            seq=self.size + len(self.pending), txn=txn, kind=kind, account=account,
            asset=asset, scope=scope, amount=int(amount), ref=ref, at=at or self.now,
        )
        self.pending.append((record, memo[:200]))
        self.deltas[(account, asset, scope)] += int(amount)
        self._refs.add(ref)
        return record

    async def balance(self, account: UUID, asset: Asset, scope: str = "") -> int:
        """The balance including legs added in this transaction but not yet written."""
        row = await Balance.filter(account=account, asset=asset, scope=scope).using_db(self.conn).first()
        return (row.amount if row else 0) + self.deltas.get((account, asset, scope), 0)

    async def balances(self, keys: Iterable[BalanceKey]) -> dict[BalanceKey, int]:
        """Balances of many keys in one query per asset (for batch jobs)."""
        keys = list(keys)
        out = {k: self.deltas.get(k, 0) for k in keys}
        by_asset: dict[tuple[Asset, str], list[UUID]] = defaultdict(list)
        for account, asset, scope in keys:
            by_asset[(asset, scope)].append(account)
        for (asset, scope), accounts in by_asset.items():
            if is_postgres(self.conn):  # one array parameter: no per-value query building
                _, rows = await self.conn.execute_query(
                    "SELECT account, amount FROM ledger_balance WHERE asset = $1 AND scope = $2 "
                    "AND account = ANY($3::uuid[])", [str(asset), scope, accounts])
                rows = [tuple(row) for row in rows]
            else:
                rows = []
                for start in range(0, len(accounts), 5_000):
                    rows += await Balance.filter(
                        account__in=accounts[start:start + 5_000], asset=asset, scope=scope
                    ).using_db(self.conn).values_list("account", "amount")
            for account, amount in rows:
                key = (_uuid(account), asset, scope)
                out[key] = out.get(key, 0) + amount
        return out

    async def period_sum(self, account: UUID, asset: Asset, since: datetime, until: datetime, *,
                         scope: str = "", kind: EntryKind | None = None) -> int:
        """Sum of an account's credits (positive legs) of one asset in ``[since, until)``,
        including legs added in this transaction: the basis of per-day and per-month caps."""
        query = LedgerEntry.filter(account=account, asset=asset, scope=scope, amount__gt=0,
                                   recorded_at__gte=since, recorded_at__lt=until)
        if kind is not None:
            query = query.filter(kind=kind)
        total = sum(await query.using_db(self.conn).values_list("amount", flat=True))
        for record, _ in self.pending:
            if (record.account == account and record.asset == asset and record.scope == scope
                    and record.amount > 0 and since <= record.at < until
                    and (kind is None or record.kind == kind)):
                total += record.amount
        return int(total)

    async def existing_refs(self, refs: Iterable[str]) -> set[str]:
        refs = list(refs)
        if is_postgres(self.conn):
            _, rows = await self.conn.execute_query("SELECT ref FROM ledger_entry WHERE ref = ANY($1::text[])", [refs])
            return {row[0] for row in rows}
        found: set[str] = set()
        for start in range(0, len(refs), 5_000):
            found.update(await LedgerEntry.filter(ref__in=refs[start:start + 5_000])
                         .using_db(self.conn).values_list("ref", flat=True))
        return found

    async def flush(self) -> None:
        if not self.pending:
            return
        hashes = [entry_leaf_hash(r) for r, _ in self.pending]
        await _insert_entries(self.conn, self.pending, hashes)
        await _apply_deltas(self.conn, {k: v for k, v in self.deltas.items() if v})
        if self.tree is None:
            self.tree = await nodes.build_nodes(self.conn, self.size)
        await nodes.insert_nodes(self.conn, self.tree.append(hashes))
        self.size += len(self.pending)
        await LedgerHead.filter(id=HEAD_ID).using_db(self.conn).update(
            size=self.size, peaks=nodes.peaks_json(self.tree))
        self.pending.clear()
        self.deltas.clear()
        self._refs.clear()
        self._txn = None


@asynccontextmanager
async def ledger_transaction(now: datetime | None = None) -> AsyncIterator[LedgerWriter]:
    """Lock the ledger head, yield a writer, and write its legs when the block ends without error."""
    async with in_transaction() as conn:
        head = await lock_head(conn)
        writer = LedgerWriter(conn=conn, size=head.size, now=now or datetime.now(UTC),
                              tree=nodes.state_of(head.size, head.peaks))
        yield writer
        await writer.flush()


async def ensure_nodes() -> tuple[int, bool]:
    """Build the stored Merkle nodes of a ledger that has none, under the head lock.

    Returns ``(ledger size, whether they were built now)``; a no-op when they exist.
    """
    async with in_transaction() as conn:
        head = await lock_head(conn)
        if head.peaks is not None:
            return head.size, False
        state = await nodes.build_nodes(conn, head.size)
        await LedgerHead.filter(id=HEAD_ID).using_db(conn).update(peaks=nodes.peaks_json(state))
        return head.size, True


async def lock_head(conn: BaseDBAsyncClient) -> LedgerHead:
    head = await LedgerHead.filter(id=HEAD_ID).select_for_update().using_db(conn).first()
    if head is None:
        await LedgerHead.bulk_create([LedgerHead(id=HEAD_ID, size=0, peaks=[])], ignore_conflicts=True, using_db=conn)
        head = await LedgerHead.filter(id=HEAD_ID).select_for_update().using_db(conn).get()
    return head


async def _insert_entries(conn: BaseDBAsyncClient, pending: list[tuple[EntryRecord, str]],
                         hashes: list[bytes]) -> None:
    rows = [
        (r.seq, r.txn, str(r.kind), r.account, str(r.asset), r.scope, r.amount, r.ref, r.at, h.hex(), memo)
        for (r, memo), h in zip(pending, hashes, strict=True)
    ]
    columns = ("seq", "txn", "kind", "account", "asset", "scope", "amount", "ref", "recorded_at",
               "leaf_hash", "memo")
    if is_postgres(conn):
        async with conn.acquire_connection() as raw:
            await raw.copy_records_to_table("ledger_entry", records=rows, columns=columns)
        return
    sql = f"INSERT INTO ledger_entry ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    await conn.execute_many(sql, [
        (seq, str(txn), kind, str(account), asset, scope, amount, ref, at.astimezone(UTC).isoformat(" "), h, memo)
        for seq, txn, kind, account, asset, scope, amount, ref, at, h, memo in rows
    ])


async def _apply_deltas(conn: BaseDBAsyncClient, deltas: dict[BalanceKey, int]) -> None:
    if not deltas:
        return
    if is_postgres(conn):
        sql = ("INSERT INTO ledger_balance (account, asset, scope, amount) "
               "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[]) "
               "ON CONFLICT (account, asset, scope) DO UPDATE SET amount = ledger_balance.amount + EXCLUDED.amount")
        keys = list(deltas)
        await conn.execute_query(sql, [
            [k[0] for k in keys], [str(k[1]) for k in keys], [k[2] for k in keys], [deltas[k] for k in keys]
        ])
        return
    sql = ("INSERT INTO ledger_balance (account, asset, scope, amount) VALUES (?, ?, ?, ?) "
           "ON CONFLICT (account, asset, scope) DO UPDATE SET amount = ledger_balance.amount + excluded.amount")
    await conn.execute_many(sql, [(str(a), str(asset), scope, d) for (a, asset, scope), d in deltas.items()])


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


# --------------------------------------------------------------------------- reading


def record_of(row: LedgerEntry) -> EntryRecord:
    return EntryRecord(
        seq=row.seq, txn=_uuid(row.txn), kind=EntryKind(row.kind), account=_uuid(row.account),
        asset=Asset(row.asset), scope=row.scope, amount=row.amount, ref=row.ref, at=row.recorded_at,
    )


async def ledger_size() -> int:
    head = await LedgerHead.filter(id=HEAD_ID).first()
    return head.size if head else 0


async def balances_of(account: UUID) -> dict[tuple[Asset, str], int]:
    rows = await Balance.filter(account=account).values_list("asset", "scope", "amount")
    return {(Asset(asset), scope): amount for asset, scope, amount in rows}


async def leaf_hashes(start: int, end: int, batch: int = 50_000) -> list[bytes]:
    """Stored leaf hashes of entries ``start <= seq < end``, in order."""
    out: list[bytes] = []
    for lo in range(start, end, batch):
        hi = min(end, lo + batch)
        rows = await LedgerEntry.filter(seq__gte=lo, seq__lt=hi).order_by("seq").values_list("leaf_hash", flat=True)
        out.extend(bytes.fromhex(h) for h in rows)
    return out
