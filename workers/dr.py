"""DR job: move every event along the clock (notify, start, end, restore, tally).

Idempotent and safe with several workers: each transition is a conditional update and each
household is handled in its own locked transaction, so a run that dies half-way is finished
by the next one (which also runs at worker start-up).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from backend.dr import service
from backend.settings import get_settings


async def drive_dr_events(ctx: dict[str, Any]) -> dict[str, int]:
    """Do what is due for every DR event not yet settled; returns what was done."""
    settings = ctx.get("settings") or get_settings()
    return asdict(await service.drive(settings))
