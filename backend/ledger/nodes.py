"""Reading and writing the stored Merkle nodes (``ledger_node``); the tree logic is in
:mod:`backend.ledger.tree`.

The writer appends the nodes its entries complete in the same transaction as the entries, from
the compact range kept on the locked ``ledger_head`` row. A ledger written before nodes existed
(``ledger_head.peaks`` null) gets them from :func:`build_nodes`, run by ``pvpp ledger build-nodes``
or by the next writer, under the head lock.
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from backend.ledger import tree
from backend.ledger.models import LedgerEntry, LedgerNode

_BATCH = 50_000


class LedgerDamaged(RuntimeError):
    """The entries needed to build the nodes are not dense (run ``pvpp ledger verify``)."""


def state_of(size: int, peaks: object) -> tree.TreeState | None:
    """The compact range stored on the head, or ``None`` when the nodes were never built."""
    if peaks is None:
        return None
    return tree.TreeState(size, [bytes.fromhex(p) for p in peaks])  # type: ignore[union-attr]


def peaks_json(state: tree.TreeState) -> list[str]:
    return [p.hex() for p in state.peaks]


async def insert_nodes(conn: BaseDBAsyncClient, nodes: Iterable[tuple[int, int, bytes]]) -> None:
    rows = [(tree.node_key(level, index), h) for level, index, h in nodes]
    if not rows:
        return
    if conn.capabilities.dialect == "postgres":
        async with conn.acquire_connection() as raw:
            await raw.copy_records_to_table("ledger_node", records=rows, columns=("id", "hash"))
        return
    await conn.execute_many("INSERT INTO ledger_node (id, hash) VALUES (?, ?)", rows)


async def build_nodes(conn: BaseDBAsyncClient, size: int) -> tree.TreeState:
    """(Re)build every stored node of the first ``size`` entries from their stored leaf hashes.

    Idempotent: nodes left by anything earlier are replaced. Call with the head locked.
    """
    await LedgerNode.all().using_db(conn).delete()
    state = tree.TreeState(0, [])
    for lo in range(0, size, _BATCH):
        hi = min(size, lo + _BATCH)
        rows = await (LedgerEntry.filter(seq__gte=lo, seq__lt=hi).order_by("seq")
                      .using_db(conn).values_list("seq", "leaf_hash"))
        if len(rows) != hi - lo or (rows and (rows[0][0] != lo or rows[-1][0] != hi - 1)):
            raise LedgerDamaged(f"entries {lo}..{hi - 1} are not all present; run `pvpp ledger verify`")
        await insert_nodes(conn, state.append(bytes.fromhex(h) for _, h in rows))
    return state


async def read_hashes(reads: tree.Reads) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """Leaf hashes by seq and node hashes by key: one statement each (none if not needed).

    Raw SQL (an array parameter on PostgreSQL): a proof's few hundred keys cost more to build
    into an ORM query than to read.
    """
    conn = connections.get("default")
    leaves: dict[int, bytes] = {}
    nodes: dict[int, bytes] = {}
    if reads.leaves:
        rows = await _select_in(conn, "SELECT seq, leaf_hash FROM ledger_entry WHERE seq", sorted(reads.leaves))
        leaves = {int(seq): bytes.fromhex(h) for seq, h in rows}
    if reads.nodes:
        rows = await _select_in(conn, "SELECT id, hash FROM ledger_node WHERE id", sorted(reads.nodes))
        nodes = {int(key): bytes(h) for key, h in rows}
    return leaves, nodes


async def _select_in(conn: BaseDBAsyncClient, head: str, keys: list[int]) -> list:
    if conn.capabilities.dialect == "postgres":
        _, rows = await conn.execute_query(f"{head} = ANY($1::bigint[])", [keys])
    else:
        _, rows = await conn.execute_query(f"{head} IN ({', '.join('?' * len(keys))})", keys)
    return [tuple(row) for row in rows]
