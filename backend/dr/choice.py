"""Per-household choice of baseline method, recorded and re-evaluated (monthly and on demand).

Every working day of the last ``dr_choice_days`` that was not an event day of the household is a
pseudo-event over the whole day (00:00-24:00): each method builds its baseline as if an event
were called, and is compared with what the household used. The choice itself is made by
:func:`backend.savings.selection.rolling_choice` (lowest RRMSE, methods scored on the same
hours), the rule the accuracy study in docs/baselines.md evaluated. With fewer than
:data:`MIN_DAYS` comparable days the default method is recorded, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from backend.dr.models import BaselineChoice, DrParticipation
from backend.plugs.models import Plug
from backend.savings.accuracy import household_scores
from backend.savings.batch import batch_baseline
from backend.savings.calendar import DayType, calendar_mask, day_type, korean_holidays
from backend.savings.household_load import load_households
from backend.savings.methods import DEFAULT_SETTINGS, SPECS, Method
from backend.savings.selection import rolling_choice
from backend.settings import Settings

METHODS: tuple[Method, ...] = tuple(Method)
MIN_DAYS = 10
BATCH = 500


@dataclass
class ChoiceReport:
    households: int = 0
    chosen: int = 0
    insufficient: int = 0


async def event_days_of(household_ids: Sequence[int], tz_name: str, *, before: datetime | None = None,
                        exclude_event: int | None = None) -> dict[int, set[date]]:
    """Local dates of events each household took part in (opted in, event started)."""
    query = DrParticipation.filter(household_id__in=list(household_ids), opted_out=False,
                                   event__started_at__isnull=False)
    if before is not None:
        query = query.filter(event__starts_at__lt=before)
    if exclude_event is not None:
        query = query.exclude(event_id=exclude_event)
    tz = ZoneInfo(tz_name)
    out: dict[int, set[date]] = {h: set() for h in household_ids}
    for household_id, starts_at, ends_at in await query.values_list("household_id", "event__starts_at",
                                                                    "event__ends_at"):
        first, last = starts_at.astimezone(tz).date(), (ends_at - timedelta(microseconds=1)).astimezone(tz).date()
        out[household_id].update(first + timedelta(days=i) for i in range((last - first).days + 1))
    return out


async def method_for(household_id: int, at: datetime, default: str) -> tuple[Method, BaselineChoice | None]:
    """The method in force for a household at ``at``: its latest choice made before then."""
    choice = await BaselineChoice.filter(household_id=household_id, evaluated_at__lte=at).order_by(
        "-evaluated_at", "-id").first()
    return (Method(choice.method) if choice else Method(default)), choice


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def choose(kwh: np.ndarray, dates: list[date], event_days: Sequence[set[date]], holidays, n_targets: int,
           default: Method) -> list[tuple[Method, dict, int, str | None]]:
    """Pure core: per household (method, scores, days scored, reason if insufficient)."""
    n_house, n_days, _ = kwh.shape
    working = calendar_mask(dates, for_type=DayType.WORKING, holidays=holidays)
    own_events = np.array([[d in days for d in dates] for days in event_days], dtype=bool).reshape(n_house, n_days)
    eligible = working[None, :] & ~own_events
    targets = [t for t in range(max(n_days - n_targets, 1), n_days) if day_type(dates[t], holidays) is DayType.WORKING]
    predicted = np.full((len(METHODS), n_house, len(targets) + 1, 24), np.nan)
    for j, t in enumerate(targets):
        for m, method in enumerate(METHODS):
            spec = SPECS[method]
            predicted[m, :, j] = batch_baseline(kwh, t, 0, 24, spec, spec.days_for(DayType.WORKING), eligible,
                                                DEFAULT_SETTINGS).values
    actual = np.full((n_house, len(targets) + 1, 24), np.nan)
    if targets:
        actual[:, :-1] = np.where(own_events[:, targets, None], np.nan, kwh[:, targets, :])
    months = np.array([0] * len(targets) + [1])  # train on every target day, choose for "now"
    chosen = rolling_choice(predicted, actual, months, train_months=1).chosen[:, -1]
    common = np.isfinite(actual) & np.isfinite(predicted).all(axis=0)
    rrmse, bias = household_scores(predicted, actual, common)
    days = common.any(axis=2).sum(axis=1)
    out = []
    for h in range(n_house):
        scores = {m.value: {"rrmse": _finite(rrmse[i, h]), "bias": _finite(bias[i, h])} for i, m in enumerate(METHODS)}
        if days[h] < MIN_DAYS or chosen[h] < 0:
            reason = (f"only {int(days[h])} complete working days to compare the methods on in the last "
                      f"{n_targets} days; {MIN_DAYS} needed")
            out.append((default, scores, int(days[h]), reason))
        else:
            out.append((METHODS[int(chosen[h])], scores, int(days[h]), None))
    return out


async def evaluate(settings: Settings, household_ids: Sequence[int] | None = None,
                   now: datetime | None = None) -> ChoiceReport:
    """Re-evaluate and record the choice of the given households (default: all with plugs)."""
    now = now or datetime.now(UTC)
    if household_ids is None:
        household_ids = sorted(set(await Plug.filter(unpaired_at=None).values_list("household_id", flat=True)))
    report = ChoiceReport()
    tz = settings.display_timezone
    today = now.astimezone(ZoneInfo(tz)).date()
    last = today - timedelta(days=1)
    first = last - timedelta(days=settings.dr_choice_days + DEFAULT_SETTINGS.lookback_days)
    dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    holidays = korean_holidays(range(first.year, last.year + 1))
    default = Method(settings.dr_default_baseline)
    for start in range(0, len(household_ids), BATCH):
        ids = list(household_ids[start:start + BATCH])
        plugs: dict[int, list[int]] = {h: [] for h in ids}
        for plug_id, household_id in await Plug.filter(household_id__in=ids, unpaired_at=None).values_list(
                "id", "household_id"):
            plugs[household_id].append(plug_id)
        loads = await load_households(plugs, first, last, tz)
        kwh = np.stack([loads[h].kwh for h in ids])
        events = await event_days_of(ids, tz)
        results = choose(kwh, dates, [events[h] for h in ids], holidays, settings.dr_choice_days, default)
        await BaselineChoice.bulk_create([
            BaselineChoice(household_id=h, method=method.value, evaluated_at=now, scores=scores, days_used=days,
                           insufficient_reason=reason)
            for h, (method, scores, days, reason) in zip(ids, results, strict=True)])
        report.households += len(ids)
        report.insufficient += sum(1 for r in results if r[3] is not None)
        report.chosen += sum(1 for r in results if r[3] is None)
    return report
