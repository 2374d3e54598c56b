"""Conversions, coins, redemption and settlement through the services, on both backends."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from backend.errors import (
    IdempotencyConflict,
    InsufficientBalance,
    InvalidRedemptionCode,
    LimitReached,
    NotAllowed,
    ValidationFailed,
)
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.models import LedgerEntry
from backend.ledger.service import balances_of, ledger_transaction
from backend.rewards import formula
from backend.rewards.models import Programme, ProgrammeEnrolment, RedemptionCode
from backend.rewards.redemption import create_code, encode_code, redeem
from backend.rewards.service import (
    ConversionTarget,
    convert_mileage_to_coins,
    convert_points,
)
from backend.rewards.settlement import settle_month
from tests.builders import build_world, principal_of, start_programmes

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


@pytest.fixture
async def world(db):
    w = await build_world()
    w.programme_a, w.programme_b = await start_programmes(w, year=2026)
    return w


async def grant(user, asset: Asset, amount: int, scope: str = "", ref: str | None = None) -> None:
    async with ledger_transaction(NOW) as w:
        w.add(EntryKind.ADJUSTMENT, user.pseudonym, asset, amount, ref or f"grant:{user.id}:{asset}:{amount}:{scope}",
              scope=scope)


async def points_to(settings, user, target, points, key="conv-0000001", now=NOW):
    return await convert_points(await principal_of(user), settings, key, target, points, now=now)


async def test_points_become_volunteer_minutes_within_the_monthly_cap(world, db):
    student = world.family_a2.student
    await grant(student, Asset.POINTS, 20_000)
    first = await points_to(db, student, ConversionTarget.VOLUNTEER_MINUTES, 6_000)  # 150 min
    assert (first.debited, first.credited) == (6_000, 150)
    second = await points_to(db, student, ConversionTarget.VOLUNTEER_MINUTES, 6_000, key="conv-0000002")
    assert (second.debited, second.credited) == (3_600, 90)  # cap 240 min a month
    with pytest.raises(LimitReached) as exc:
        await points_to(db, student, ConversionTarget.VOLUNTEER_MINUTES, 40, key="conv-0000003")
    assert exc.value.limit == "monthly_cap"
    # a new month has room again
    december = await points_to(db, student, ConversionTarget.VOLUNTEER_MINUTES, 400, key="conv-0000004",
                               now=datetime(2026, 12, 2, 3, tzinfo=UTC))
    assert december.credited == 10
    assert (await balances_of(student.pseudonym))[(Asset.VOLUNTEER_MINUTES, "")] == 250


async def test_at_most_eight_hours_a_day(world, db, monkeypatch):
    generous = dataclasses.replace(formula.load_rules(2026), max_minutes_per_month=10_000)
    monkeypatch.setattr(formula, "load_rules", lambda year=None: generous)
    student = world.family_a2.student
    await grant(student, Asset.POINTS, 100_000)
    r = await points_to(db, student, ConversionTarget.VOLUNTEER_MINUTES, 30_000)  # 750 min wanted
    assert r.credited == 480
    with pytest.raises(LimitReached) as exc:
        await points_to(db, student, ConversionTarget.VOLUNTEER_MINUTES, 40, key="conv-0000002")
    assert exc.value.limit == "daily_cap"
    tomorrow = await points_to(db, student, ConversionTarget.VOLUNTEER_MINUTES, 400, key="conv-0000003",
                               now=NOW + timedelta(days=1))
    assert tomorrow.credited == 10


async def test_volunteer_hours_only_through_an_enrolled_school(world, db):
    await grant(world.family_b.student, Asset.POINTS, 1_000)
    await grant(world.family_a2.parent, Asset.POINTS, 1_000)
    with pytest.raises(NotAllowed, match="not enrolled"):
        await points_to(db, world.family_b.student, ConversionTarget.VOLUNTEER_MINUTES, 400)
    with pytest.raises(NotAllowed):
        await points_to(db, world.family_a2.parent, ConversionTarget.VOLUNTEER_MINUTES, 400)
    await ProgrammeEnrolment.create(programme=world.programme_b, school=world.school_b)
    assert (await points_to(db, world.family_b.student, ConversionTarget.VOLUNTEER_MINUTES, 400)).credited == 10


@pytest.mark.parametrize("points", [0, -5, 10**13, True])
async def test_bad_amounts_are_refused(world, db, points):
    with pytest.raises(ValidationFailed):
        await points_to(db, world.family_a2.student, ConversionTarget.MILEAGE, points)


async def test_conversion_beyond_the_balance_writes_nothing(world, db):
    await grant(world.family_a2.parent, Asset.POINTS, 100)
    with pytest.raises(InsufficientBalance) as exc:
        await points_to(db, world.family_a2.parent, ConversionTarget.MILEAGE, 101)
    assert (exc.value.available, exc.value.requested) == (100, 101)
    assert await LedgerEntry.all().count() == 1


async def test_mileage_conversion_is_idempotent_per_key(world, db):
    parent = world.family_a2.parent
    await grant(parent, Asset.POINTS, 1_010)
    first = await points_to(db, parent, ConversionTarget.MILEAGE, 1_010)
    assert (first.debited, first.credited, first.replayed) == (1_000, 650, False)
    again = await points_to(db, parent, ConversionTarget.MILEAGE, 1_010)
    assert again.replayed and again.seq == first.seq
    with pytest.raises(IdempotencyConflict):
        await points_to(db, parent, ConversionTarget.MILEAGE, 500)
    assert await balances_of(parent.pseudonym) == {(Asset.POINTS, ""): 10, (Asset.MILEAGE_WON, ""): 650}


async def coins(settings, user, key="coins-000001", now=NOW):
    return await convert_mileage_to_coins(await principal_of(user), settings, key, now=now)


async def test_coins_from_the_threshold_within_the_monthly_cap(world, db):
    parent = world.family_a2.parent
    await grant(parent, Asset.MILEAGE_WON, 4_999)
    with pytest.raises(LimitReached) as exc:
        await coins(db, parent)
    assert exc.value.limit == "below_threshold"
    await grant(parent, Asset.MILEAGE_WON, 20_001)
    r = await coins(db, parent, key="coins-000002")
    assert (r.credited, r.scope) == (10_000, "46170")  # monthly cap 10,000 won
    with pytest.raises(LimitReached) as exc:
        await coins(db, parent, key="coins-000003")
    assert exc.value.limit == "monthly_cap"
    assert (await Programme.get(id=world.programme_a.id)).coins_issued_won == 10_000


async def test_budget_exhaustion_under_concurrency(world, db):
    world.programme_a.coin_budget_won = 15_000
    await world.programme_a.save()
    people = [world.family_a1.parent, world.family_a1.student, world.family_a2.parent, world.family_a2.student]
    for person in people:
        await grant(person, Asset.MILEAGE_WON, 5_000)
    results = await asyncio.gather(*(coins(db, p) for p in people), return_exceptions=True)
    granted = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(granted) == 3 and len(refused) == 1
    assert isinstance(refused[0], LimitReached) and refused[0].limit == "budget"
    assert (await Programme.get(id=world.programme_a.id)).coins_issued_won == 15_000


async def test_redemption_code_is_one_time_and_municipal(world, db):
    parent = world.family_a2.parent
    await grant(parent, Asset.COINS_WON, 10_000, scope="46170")
    issued = await create_code(await principal_of(parent), db, world.muni_a.id, 5_000, now=NOW)
    with pytest.raises(NotAllowed):
        await redeem(await principal_of(world.officer_b), db, issued.code, now=NOW)
    with pytest.raises(NotAllowed):
        await redeem(await principal_of(world.teacher_a), db, issued.code, now=NOW)
    done = await redeem(await principal_of(world.officer_a), db, issued.code.lower().replace("-", " "), now=NOW)
    assert done.amount_won == 5_000
    with pytest.raises(InvalidRedemptionCode) as exc:
        await redeem(await principal_of(world.officer_a), db, issued.code, now=NOW)
    assert exc.value.reason == "already_used"
    assert await balances_of(parent.pseudonym) == {(Asset.COINS_WON, "46170"): 5_000}


async def test_forged_malformed_and_expired_codes(world, db):
    parent, officer = world.family_a2.parent, world.officer_a
    await grant(parent, Asset.COINS_WON, 10_000, scope="46170")
    issued = await create_code(await principal_of(parent), db, world.muni_a.id, 5_000, now=NOW)
    forged = encode_code(bytes.fromhex((await RedemptionCode.first()).nonce), "another-secret")
    cases = {"malformed": "1234", "forged": forged}
    flipped = issued.code[:-1] + ("0" if issued.code[-1] != "0" else "1")
    cases["forged "] = flipped
    for reason, code in cases.items():
        with pytest.raises(InvalidRedemptionCode) as exc:
            await redeem(await principal_of(officer), db, code, now=NOW)
        assert exc.value.reason == reason.strip()
    with pytest.raises(InvalidRedemptionCode) as exc:
        await redeem(await principal_of(officer), db, issued.code, now=NOW + timedelta(seconds=db.redemption_code_ttl_seconds))
    assert exc.value.reason == "expired"
    assert await balances_of(parent.pseudonym) == {(Asset.COINS_WON, "46170"): 10_000}


async def test_code_larger_than_the_balance_is_refused(world, db):
    parent = world.family_a2.parent
    await grant(parent, Asset.COINS_WON, 5_000, scope="46170")
    with pytest.raises(InsufficientBalance):
        await create_code(await principal_of(parent), db, world.muni_a.id, 5_001, now=NOW)


async def test_concurrent_redemptions_spend_exactly_the_balance(world, db):
    parent = world.family_a2.parent
    await grant(parent, Asset.COINS_WON, 50_000, scope="46170")
    codes = [await create_code(await principal_of(parent), db, world.muni_a.id, 5_000, now=NOW) for _ in range(100)]
    await grant(parent, Asset.COINS_WON, -50_000 + 12_000, scope="46170", ref="spent elsewhere")
    officer = await principal_of(world.officer_a)
    results = await asyncio.gather(*(redeem(officer, db, c.code, now=NOW) for c in codes), return_exceptions=True)
    ok = [r for r in results if not isinstance(r, Exception)]
    assert len(ok) == 2
    assert all(isinstance(r, InsufficientBalance) for r in results if isinstance(r, Exception))
    assert await balances_of(parent.pseudonym) == {(Asset.COINS_WON, "46170"): 2_000}
    assert await RedemptionCode.filter(redeemed_at__isnull=False).count() == 2


async def test_settlement_converts_and_is_idempotent(world, db):
    student, parent = world.family_a2.student, world.family_a2.parent
    await grant(student, Asset.POINTS, 12_345)
    await grant(parent, Asset.MILEAGE_WON, 7_000)
    report = await settle_month(db, world.programme_a.id, 2026, 11, batch_size=2)
    assert report.volunteer_minutes == 240 and report.coins_won == 5_000
    assert await balances_of(student.pseudonym) == {(Asset.POINTS, ""): 12_345 - 9_600, (Asset.VOLUNTEER_MINUTES, ""): 240}
    assert await balances_of(parent.pseudonym) == {(Asset.MILEAGE_WON, ""): 2_000, (Asset.COINS_WON, "46170"): 5_000}
    before = await LedgerEntry.all().order_by("seq").values_list("seq", "leaf_hash")
    again = await settle_month(db, world.programme_a.id, 2026, 11, batch_size=3)
    assert again.entries == 0 and again.skipped >= 2
    assert await LedgerEntry.all().order_by("seq").values_list("seq", "leaf_hash") == before
    last_second = (await LedgerEntry.filter(ref__startswith="settle:").first()).recorded_at
    assert last_second == datetime(2026, 11, 30, 14, 59, 59, tzinfo=UTC)
