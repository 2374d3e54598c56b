"""Report jobs: every municipality's monthly report on the 2nd (for the month before)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backend.municipalities.models import Municipality
from backend.reports.monthly import generate, previous_month
from backend.settings import get_settings


async def monthly_municipal_reports(ctx: dict[str, Any], year: int | None = None, month: int | None = None) -> int:
    """Generate (or regenerate) the month's report of every municipality; returns how many. Idempotent."""
    settings = ctx.get("settings") or get_settings()
    if year is None or month is None:
        year, month = previous_month(datetime.now(UTC), settings.display_timezone)
    count = 0
    for municipality_id in await Municipality.all().order_by("id").values_list("id", flat=True):
        await generate(municipality_id, year, month, settings.display_timezone,
                       settings.grid_emission_factor_t_per_mwh, settings.scoreboard_min_students)
        count += 1
    return count
