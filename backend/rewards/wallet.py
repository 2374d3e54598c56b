"""A holder's wallet: balances derived from the ledger, checked against the materialised ones."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from uuid import UUID

from backend.ledger.entries import Asset, encode_leaf
from backend.ledger.models import LedgerEntry
from backend.ledger.service import balances_of, record_of


@dataclass(frozen=True)
class WalletView:
    balances: dict[tuple[Asset, str], int]
    balances_match_ledger: bool
    history: list[tuple[LedgerEntry, str]]  # (row, leaf data)

    def amount(self, asset: Asset, scope: str = "") -> int:
        return self.balances.get((asset, scope), 0)

    @property
    def coins(self) -> dict[str, int]:
        return {scope: v for (asset, scope), v in sorted(self.balances.items()) if asset is Asset.COINS_WON}


async def wallet_of(account: UUID, history_limit: int = 100) -> WalletView:
    """Balances are the sum of the holder's entries; the materialised table must agree."""
    sums: dict[tuple[Asset, str], int] = defaultdict(int)
    for asset, scope, amount in await LedgerEntry.filter(account=account).values_list("asset", "scope", "amount"):
        sums[(Asset(asset), scope)] += amount
    materialised = await balances_of(account)
    match = {k: v for k, v in sums.items() if v} == {k: v for k, v in materialised.items() if v}
    rows = await LedgerEntry.filter(account=account).order_by("-seq").limit(history_limit)
    return WalletView(dict(sums), match, [(r, encode_leaf(record_of(r)).decode()) for r in rows])
