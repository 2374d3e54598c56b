"""DR settlement jobs: settle ended events into points (and restate them), choose baselines.

Both are idempotent: a settled household is skipped under the ledger lock, a restated version
is written only by the worker that still sees the version it measured, and a baseline choice is
a new history row (the latest one made before an event is the one used).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from backend.dr import choice, settlement
from backend.settings import get_settings


async def settle_dr_events(ctx: dict[str, Any]) -> dict[str, int]:
    """Settle every ended event whose data is complete (or waited for long enough), then restate
    recent settlements whose readings changed."""
    settings = ctx.get("settings") or get_settings()
    return asdict(await settlement.settle_due(settings))


async def choose_baselines(ctx: dict[str, Any], household_ids: Sequence[int] | None = None) -> dict[str, int]:
    """Re-evaluate the baseline method of the given households (default: every household with
    plugs). Runs monthly; enqueue it with ids to re-evaluate on demand."""
    settings = ctx.get("settings") or get_settings()
    return asdict(await choice.evaluate(settings, list(household_ids) if household_ids is not None else None))
