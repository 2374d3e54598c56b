"""Shared conversions for the API: times are stored in UTC and shown in the display zone."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_display(dt: datetime | None, tz_name: str) -> datetime | None:
    return dt.astimezone(_zone(tz_name)) if dt else None
