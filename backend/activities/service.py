"""Logging activities: validation against the catalogue, idempotency, frequency caps and points.

A report carries a client-generated idempotency key. The same key with the same report returns
the first result (a phone that retried or synced twice); the same key with a different report
is an :class:`IdempotencyConflict`. Checks and the award run under the ledger lock, so two
reports sent at once cannot both slip under a daily cap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from backend.accounts.models import User
from backend.accounts.principal import HOUSEHOLD_ROLES, Principal
from backend.activities import catalogue as cat
from backend.activities.models import Activity, ActivityStatus
from backend.errors import (
    IdempotencyConflict,
    LimitReached,
    NotAllowed,
    ValidationFailed,
)
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.service import LedgerWriter, ledger_transaction
from backend.rewards import formula
from backend.rewards.programmes import local_date, programme_for_activity
from backend.rewards.service import check_idempotency_key
from backend.settings import Settings


@dataclass(frozen=True)
class Logged:
    activity: Activity
    replayed: bool


def payload_hash(type_key: str, occurred_on: date, params: dict[str, Any]) -> str:
    body = {"type": type_key, "on": occurred_on.isoformat(),
            "params": {k: str(v) if isinstance(v, Decimal) else v for k, v in sorted(params.items())}}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _raw_hash(type_key: str, occurred_on: date, params: Any) -> str:
    """Hash of the report as sent, for comparing a replay before validating it again."""
    try:
        text = json.dumps({"type": type_key, "on": occurred_on.isoformat(), "params": params},
                          sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        text = repr(params)
    return hashlib.sha256(text.encode()).hexdigest()


async def _existing(user_id: int, key: str, digest: str) -> Logged | None:
    row = await Activity.get_or_none(user_id=user_id, idempotency_key=key)
    if row is None:
        return None
    if row.payload_hash != digest:
        raise IdempotencyConflict("This idempotency key was already used for a different activity report.")
    return Logged(row, True)


_CAP_NAMES = {"alreadyToday": "daily_cap", "alreadyThisWeek": "weekly_cap", "alreadyThisMonth": "monthly_cap"}


def _week_bounds(day: date) -> tuple[date, date]:
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)


async def _check_frequency(w: LedgerWriter, user_id: int, at: cat.ActivityType, day: date) -> None:
    week_start, week_end = _week_bounds(day)
    month_start = day.replace(day=1)
    earliest = min(week_start, month_start)
    days = await Activity.filter(
        user_id=user_id, activity_type=at.key, occurred_on__gte=earliest,
        occurred_on__lte=max(week_end, day), status__not=ActivityStatus.REJECTED,
    ).using_db(w.conn).values_list("occurred_on", flat=True)
    try:
        cat.check_frequency(
            at,
            sum(d == day for d in days),
            sum(week_start <= d <= week_end for d in days),
            sum(d.year == day.year and d.month == day.month for d in days),
        )
    except ValidationFailed as exc:
        raise LimitReached(_CAP_NAMES[exc.field], exc.message) from None


async def log_activity(principal: Principal, settings: Settings, idempotency_key: str, type_key: str,
                       occurred_on: date, params: Any, now: datetime | None = None) -> Logged:
    """Record one report; award its points at once unless it waits for photo evidence."""
    if principal.role not in HOUSEHOLD_ROLES:
        raise NotAllowed("Only students and parents report activities.")
    key = check_idempotency_key(idempotency_key)
    digest = _raw_hash(type_key, occurred_on, params)
    if (done := await _existing(principal.user_id, key, digest)) is not None:
        return done
    now = now or datetime.now(UTC)
    today = local_date(now, settings.display_timezone)
    if occurred_on > today:
        raise ValidationFailed("occurredOn", "An activity cannot be dated in the future.")
    if occurred_on < today - timedelta(days=settings.activity_max_age_days):
        raise ValidationFailed("occurredOn", f"Activities older than {settings.activity_max_age_days} days"
                                             " can no longer be reported.")
    catalogue = cat.load_catalogue()
    activity_type = catalogue.get(type_key)
    kwh = cat.deemed_savings_kwh(activity_type, params)
    shifted = cat.load_shift_kwh(activity_type, params)
    normalised = cat.validate_params(activity_type, params)
    user = principal.user or await User.get(id=principal.user_id)
    programme = await programme_for_activity(user, occurred_on)
    rules = formula.load_rules(programme.rules_year)
    points = formula.kwh_to_points(kwh, activity_type.basis, False, rules)
    pending = activity_type.photo_required
    try:
        async with ledger_transaction(now) as w:
            if await Activity.filter(user_id=user.id, idempotency_key=key).using_db(w.conn).exists():
                raise IntegrityError("idempotency key taken while waiting for the ledger lock")
            await _check_frequency(w, user.id, activity_type, occurred_on)
            activity = await Activity.create(
                using_db=w.conn, user_id=user.id, household_id=user.household_id, programme=programme,
                idempotency_key=key, payload_hash=digest, activity_type=activity_type.key,
                catalogue_version=catalogue.version,
                params={k: str(v) if isinstance(v, Decimal) else v for k, v in normalised.items()},
                occurred_on=occurred_on,
                status=ActivityStatus.PENDING_EVIDENCE if pending else ActivityStatus.ACCEPTED,
                kwh=kwh, shifted_kwh=shifted, points=points.points,
                status_reason="waiting for the photo to be accepted" if pending else points.reason,
            )
            if not pending and points.points > 0:
                award(w, user, activity, f"{activity_type.name_en} on {occurred_on}")
    except IntegrityError:  # the same key arrived concurrently and won the insert
        if (done := await _existing(principal.user_id, key, digest)) is not None:
            return done
        raise
    return Logged(activity, False)


def award(w: LedgerWriter, user: User, activity: Activity, memo: str) -> None:
    w.add(EntryKind.AWARD, user.pseudonym, Asset.POINTS, activity.points, f"activity:{activity.id}:award", memo=memo)


DecisionHook = Callable[[BaseDBAsyncClient, Activity], Awaitable[None]]


async def decide_activity(activity_id: int, accepted: bool, reason: str, now: datetime | None = None,
                          *, hook: DecisionHook | None = None) -> Activity:
    """Accept a pending activity (award its points) or reject one (reversing points already awarded).

    Safe to repeat: the ledger refs of the award and the reversal are unique per activity.
    ``hook(conn, activity)`` runs first inside the same transaction (under the ledger lock), so
    the caller's own write (e.g. a photo's decision) commits or rolls back with the points; an
    exception from it cancels the decision.
    """
    async with ledger_transaction(now or datetime.now(UTC)) as w:
        activity = await Activity.filter(id=activity_id).using_db(w.conn).select_for_update().get_or_none()
        if activity is None:
            raise ValidationFailed("activityId", "No such activity.")
        if hook is not None:
            await hook(w.conn, activity)
        user = await User.get(id=activity.user_id).using_db(w.conn)
        refs = await w.existing_refs([f"activity:{activity.id}:award", f"activity:{activity.id}:reversal"])
        awarded = f"activity:{activity.id}:award" in refs and f"activity:{activity.id}:reversal" not in refs
        if accepted and activity.status is not ActivityStatus.ACCEPTED:
            if activity.points > 0 and not refs:
                award(w, user, activity, f"evidence accepted: {reason}"[:200])
            activity.status = ActivityStatus.ACCEPTED
        elif not accepted and activity.status is not ActivityStatus.REJECTED:
            if awarded:
                w.add(EntryKind.REVERSAL, user.pseudonym, Asset.POINTS, -activity.points,
                      f"activity:{activity.id}:reversal", memo=f"rejected: {reason}"[:200])
            activity.status = ActivityStatus.REJECTED
        else:
            return activity
        activity.status_reason = reason[:200]
        await activity.save(using_db=w.conn, update_fields=["status", "status_reason"])
    return activity

