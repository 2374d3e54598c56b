"""Local day and month bounds find rows stored in UTC on both databases, across the date line."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from backend.municipalities.models import Municipality
from backend.rewards.models import RedemptionCode
from backend.rewards.programmes import local_day_bounds, local_month_bounds


async def _redeemed_at(at: datetime) -> None:
    town, _ = await Municipality.get_or_create(code="46170", defaults={"name": "Naju-si"})
    await RedemptionCode.create(nonce=uuid.uuid4().hex, holder=uuid.uuid4(), municipality=town, amount_won=1_000,
                                created_at=at, expires_at=at + timedelta(minutes=5), redeemed_at=at)


async def test_a_local_day_after_utc_midnight_finds_its_rows(db) -> None:
    # 00:30 on 4 December in Seoul is 15:30 on 3 December in UTC: the dates differ
    await _redeemed_at(datetime(2026, 12, 3, 15, 30, tzinfo=UTC))
    await _redeemed_at(datetime(2026, 12, 3, 14, 30, tzinfo=UTC))  # 23:30 on 3 December in Seoul
    since, until = local_day_bounds(date(2026, 12, 4), "Asia/Seoul")
    assert await RedemptionCode.filter(redeemed_at__gte=since, redeemed_at__lt=until).count() == 1
    since, until = local_day_bounds(date(2026, 12, 3), "Asia/Seoul")
    assert await RedemptionCode.filter(redeemed_at__gte=since, redeemed_at__lt=until).count() == 1


async def test_a_local_month_starts_at_local_midnight(db) -> None:
    await _redeemed_at(datetime(2026, 11, 30, 15, 30, tzinfo=UTC))  # 1 December, 00:30 in Seoul
    since, until = local_month_bounds(2026, 12, "Asia/Seoul")
    assert await RedemptionCode.filter(redeemed_at__gte=since, redeemed_at__lt=until).count() == 1
    since, until = local_month_bounds(2026, 11, "Asia/Seoul")
    assert await RedemptionCode.filter(redeemed_at__gte=since, redeemed_at__lt=until).count() == 0
