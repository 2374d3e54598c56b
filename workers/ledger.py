"""Ledger jobs: signing checkpoints."""

from __future__ import annotations

from typing import Any

from backend.ledger.checkpoints import publish_checkpoint as publish
from backend.settings import get_settings


async def publish_checkpoint(ctx: dict[str, Any]) -> int:
    """Sign a checkpoint of the ledger if it grew; returns the covered tree size. Idempotent."""
    checkpoint = await publish(ctx.get("settings") or get_settings())
    return checkpoint.tree_size if checkpoint else 0
