"""Settling ended DR events into points, and restating settlements when readings change.

An event is settled once it has ended, its DR commands were tallied (so forgiveness is final)
and its data is complete: every plug of every opted-in household covered each event hour, or
``PVPP_DR_SETTLE_AFTER_HOURS`` passed since the end (late readings are waited for that long;
hours still missing then add no saving and are flagged). Each household is written in its own
ledger transaction (the ledger head lock serialises writers), after checking under that lock
that no other worker settled it, so a retried job or two workers write each leg once; the
unique ledger refs ``dr:<event>:<household>:settle:<k>`` back this up.

Restatement: a settlement whose plugs' rollups were rewritten after it was computed is
measured again; a different result becomes version ``n+1`` with ADJUSTMENT legs
``dr:<event>:<household>:v<n+1>:<k>`` for the difference. Earlier entries are never edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from tortoise import Tortoise
from tortoise.expressions import Subquery

from backend.accounts.models import Role, User
from backend.dr.choice import event_days_of, method_for
from backend.dr.measure import (
    EventHours,
    Measured,
    event_hours,
    measure,
    points_for,
    split,
    utc_hours,
)
from backend.dr.models import (
    AdjustmentCause,
    DisputeStatus,
    DrDispute,
    DrEvent,
    DrParticipation,
    DrSettlement,
    DrSettlementAdjustment,
    DrState,
    SettlementStatus,
)
from backend.ledger.entries import Asset, EntryKind
from backend.ledger.service import LedgerWriter, ledger_transaction
from backend.plugs import store
from backend.plugs.models import Plug
from backend.rewards import formula
from backend.rewards.models import Programme
from backend.savings.calendar import korean_holidays
from backend.savings.household_load import MIN_COVERAGE, changed_plugs, load_households
from backend.savings.methods import DEFAULT_SETTINGS, Method
from backend.settings import Settings

HISTORY_DAYS = DEFAULT_SETTINGS.lookback_days + 2  # the baseline's lookback, and the adjustment window before it


@dataclass
class SettleReport:
    settled: int = 0
    pending_events: int = 0
    restated: int = 0


@dataclass(frozen=True)
class Outcome:
    """What a household gets for one event: status, reduction, points and the explanation."""

    status: SettlementStatus
    method: Method
    reduction_kwh: float
    points: int
    explanation: dict


def settle_after(settings: Settings) -> timedelta:
    return timedelta(hours=settings.dr_settle_after_hours)


async def event_plugs(event: DrEvent, household_ids: Sequence[int]) -> dict[int, list[int]]:
    """The plugs each household had paired during the event: its load in settlement."""
    out: dict[int, list[int]] = {h: [] for h in household_ids}
    rows = await Plug.filter(household_id__in=list(household_ids), paired_at__lt=event.ends_at).values_list(
        "id", "household_id", "unpaired_at")
    for plug_id, household_id, unpaired_at in rows:
        if unpaired_at is None or unpaired_at > event.starts_at:
            out[household_id].append(plug_id)
    return out


async def data_complete(event: DrEvent, plugs: Sequence[int], tz_name: str) -> bool:
    """Every plug covered at least MIN_COVERAGE of every event hour."""
    hours = event_hours(event.starts_at, event.ends_at, tz_name)
    if hours is None or not plugs:
        return True
    utc = utc_hours(hours, tz_name)
    rows = await store.hours_of(Tortoise.get_connection("default"), list(plugs), utc[0], utc[-1] + timedelta(hours=1))
    covered = {(r.plug_id, r.hour) for r in rows if r.covered_s / 3600.0 >= MIN_COVERAGE}
    return all((p, h) in covered for p in plugs for h in utc)


async def rules_for(household_id: int, hours: EventHours) -> formula.ConversionRules:
    """The conversion rules of the programme covering the household on the event day, else the
    latest rules published for that year or before."""
    programme = await Programme.filter(municipality__households__id=household_id, starts_on__lte=hours.day,
                                       ends_on__gte=hours.day).first()
    if programme is not None:
        return formula.load_rules(programme.rules_year)
    years = formula.available_years()
    return formula.load_rules(max((y for y in years if y <= hours.day.year), default=max(years)))


async def recipients_of(household_id: int) -> list[str]:
    """Pseudonyms of the household's parents and students, in a fixed order."""
    rows = await User.filter(household_id=household_id, role__in=(Role.PARENT, Role.STUDENT)).order_by(
        "id").values_list("pseudonym", flat=True)
    return [str(p) for p in rows]


def contracted_kwh(event: DrEvent, opted_in: int) -> float:
    """The event target (kW over the event's duration) split evenly over its opted-in households."""
    hours = (event.ends_at - event.starts_at).total_seconds() / 3600.0
    return event.target_kw * hours / max(opted_in, 1)


async def measure_households(settings: Settings, event: DrEvent, participations: Sequence[DrParticipation],
                             *, methods: dict[int, Method] | None = None) -> dict[int, Outcome]:
    """Measure each household's part in an ended event (nothing is written)."""
    tz = settings.display_timezone
    household_ids = [p.household_id for p in participations]
    hours = event_hours(event.starts_at, event.ends_at, tz)
    out: dict[int, Outcome] = {}
    if hours is None:
        for p in participations:
            explanation = {"insufficient": {"reason": "not_applicable",
                                            "detail": "events across local midnight are not settled"},
                           "hours": [], "actual": [], "missing_hours": []}
            out[p.household_id] = Outcome(SettlementStatus.INSUFFICIENT_DATA, Method(settings.dr_default_baseline),
                                          0.0, 0, explanation)
        return out
    plugs = await event_plugs(event, household_ids)
    first = hours.day - timedelta(days=HISTORY_DAYS)
    loads = await load_households(plugs, first, hours.day, tz)
    holidays = korean_holidays(range(first.year, hours.day.year + 1))
    earlier = await event_days_of(household_ids, tz, before=event.starts_at, exclude_event=event.id)
    for p in participations:
        method = (methods or {}).get(p.household_id)
        choice_note = None
        if method is None:
            method, choice = await method_for(p.household_id, event.starts_at, settings.dr_default_baseline)
            choice_note = (f"chosen for this household on {choice.evaluated_at.date().isoformat()}"
                           + (f" (default: {choice.insufficient_reason})" if choice.insufficient_reason else "")
                           if choice else "no choice recorded yet: the default method")
        measured = measure(loads[p.household_id], hours, method, holidays=holidays,
                           event_days=earlier[p.household_id])
        out[p.household_id] = await _outcome(p, measured, hours, choice_note)
    return out


async def _outcome(p: DrParticipation, measured: Measured, hours: EventHours, choice_note: str | None) -> Outcome:
    explanation = dict(measured.explanation)
    if choice_note is not None:
        explanation["method_choice"] = choice_note
    if measured.refused:
        return Outcome(SettlementStatus.INSUFFICIENT_DATA, measured.method, 0.0, 0, explanation)
    rules = await rules_for(p.household_id, hours)
    points, reason = points_for(measured.reduction_kwh, rules)
    explanation.update(rules_year=rules.programme_year, points_reason=reason)
    status = SettlementStatus.FORGIVEN if p.forgiven_reason else SettlementStatus.SETTLED
    return Outcome(status, measured.method, measured.reduction_kwh, points, explanation)


def _legs(w: LedgerWriter, kind: EntryKind, recipients: list[str], amount: int, prefix: str, memo: str) -> None:
    for k, (account, share) in enumerate(zip(recipients, split(amount, len(recipients)), strict=True), 1):
        if share:
            w.add(kind, UUID(account), Asset.POINTS, share, f"{prefix}:{k}", memo=memo)


async def _write_settlement(event: DrEvent, p: DrParticipation, outcome: Outcome, contracted: float,
                            computed_at: datetime, now: datetime) -> bool:
    recipients = await recipients_of(p.household_id)
    async with ledger_transaction(now) as w:
        if await DrSettlement.filter(participation_id=p.id).using_db(w.conn).exists():
            return False  # another worker (or an earlier try) settled it
        await DrSettlement.create(
            participation_id=p.id, event_id=event.id, household_id=p.household_id, status=outcome.status,
            method=outcome.method.value, contracted_kwh=contracted, reduction_kwh=outcome.reduction_kwh,
            points=outcome.points, recipients=recipients, plug_ids=outcome.explanation.get("plug_ids", []),
            explanation=outcome.explanation,
            computed_at=computed_at, settled_at=now, using_db=w.conn)
        if outcome.points:
            _legs(w, EntryKind.AWARD, recipients, outcome.points, f"dr:{event.id}:{p.household_id}:settle",
                  f"DR event {event.id}: {outcome.reduction_kwh:.3f} kWh reduced")
    return True


async def settle_event(settings: Settings, event_id: int, now: datetime | None = None) -> int | None:
    """Settle the households of one event not settled yet; None while its data is pending."""
    now = now or datetime.now(UTC)
    event = await DrEvent.get(id=event_id)
    if event.state is not DrState.ENDED or event.settled_at is None:
        return None
    opted_in = await DrParticipation.filter(event_id=event.id, opted_out=False).order_by("id")
    done_ids = set(await DrSettlement.filter(event_id=event.id).values_list("participation_id", flat=True))
    todo = [p for p in opted_in if p.id not in done_ids]
    if not todo:
        return 0
    plugs = await event_plugs(event, [p.household_id for p in todo])
    complete = await data_complete(event, [i for ids in plugs.values() for i in ids], settings.display_timezone)
    if not complete and now < event.ends_at + settle_after(settings):
        return None
    contracted = contracted_kwh(event, len(opted_in))
    computed_at = datetime.now(UTC)  # the rollups read from here on: later rewrites are restatements
    done = 0
    for start in range(0, len(todo), 200):
        batch = todo[start:start + 200]
        outcomes = await measure_households(settings, event, batch)
        for p in batch:
            done += await _write_settlement(event, p, outcomes[p.household_id], contracted, computed_at, now)
    return done


async def write_version(settlement_id: int, expected_version: int, *, cause: AdjustmentCause, status: SettlementStatus,
                        reduction_kwh: float, points: int, explanation: dict, computed_at: datetime, note: str,
                        now: datetime) -> bool:
    """Record version n+1 of a settlement and the ADJUSTMENT legs for the change in points.
    False when the settlement moved on meanwhile (another worker wrote this version)."""
    async with ledger_transaction(now) as w:
        row = await DrSettlement.filter(id=settlement_id).using_db(w.conn).select_for_update().get()
        if row.version != expected_version:
            return False
        await add_version(w, row, cause=cause, status=status, reduction_kwh=reduction_kwh, points=points,
                          explanation=explanation, computed_at=computed_at, note=note)
    return True


async def add_version(w: LedgerWriter, row: DrSettlement, *, cause: AdjustmentCause, status: SettlementStatus,
                      reduction_kwh: float, points: int, explanation: dict, computed_at: datetime, note: str) -> int:
    """Inside a ledger transaction holding ``row`` locked: the next version and its legs."""
    version = row.version + 1
    delta = points - row.points
    if delta:
        _legs(w, EntryKind.ADJUSTMENT, row.recipients, delta, f"dr:{row.event_id}:{row.household_id}:v{version}",
              f"DR event {row.event_id}, {cause.value}: {row.points} -> {points} points")
    await DrSettlementAdjustment.create(
        settlement_id=row.id, version=version, cause=cause, reduction_kwh_before=row.reduction_kwh,
        reduction_kwh_after=reduction_kwh, points_before=row.points, points_after=points, note=note[:200],
        previous_explanation=row.explanation, created_at=w.now, using_db=w.conn)
    await DrSettlement.filter(id=row.id).using_db(w.conn).update(
        version=version, status=status, reduction_kwh=reduction_kwh, points=points, explanation=explanation,
        computed_at=computed_at)
    return version


def _same(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


async def restate(settings: Settings, now: datetime | None = None) -> int:
    """Measure again every recent settlement whose readings changed; returns versions written.

    One query per event finds the plugs whose rollups were rewritten since the event's oldest
    computation; only households with such a plug are looked at more closely."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=settings.dr_restate_days)
    decided = Subquery(DrDispute.filter(status=DisputeStatus.ACCEPTED).values("settlement_id"))
    rows = await DrSettlement.filter(event__ends_at__gte=since).exclude(id__in=decided).order_by("id").values_list(
        "id", "event_id", "computed_at", "plug_ids")
    by_event: dict[int, list[tuple[int, datetime, list[int]]]] = {}
    for settlement_id, event_id, computed_at, plug_ids in rows:
        by_event.setdefault(event_id, []).append((settlement_id, computed_at, list(plug_ids or [])))
    written = 0
    for event_id, group in by_event.items():
        event = await DrEvent.get(id=event_id)
        start, end = event.starts_at - timedelta(days=HISTORY_DAYS + 1), event.ends_at + timedelta(hours=1)
        plugs = {p for _, _, ids in group for p in ids}
        if not plugs:
            continue
        changed = await changed_plugs(plugs, start, end, min(c for _, c, _ in group))
        for settlement_id, computed_at, ids in group:
            if changed.intersection(ids) and await changed_plugs(ids, start, end, computed_at):
                written += await _restate_one(settings, event, settlement_id, now)
    return written


async def _restate_one(settings: Settings, event: DrEvent, settlement_id: int, now: datetime) -> bool:
    row = await DrSettlement.get(id=settlement_id)
    computed_at = datetime.now(UTC)
    participation = await DrParticipation.get(id=row.participation_id)
    requested = Method(row.explanation.get("requested_method", row.method or settings.dr_default_baseline))
    outcome = (await measure_households(settings, event, [participation],
                                        methods={row.household_id: requested}))[row.household_id]
    outcome.explanation.setdefault("method_choice", row.explanation.get("method_choice"))
    if outcome.points == row.points and _same(outcome.reduction_kwh, row.reduction_kwh) and outcome.status is row.status:
        await DrSettlement.filter(id=row.id, version=row.version).update(computed_at=computed_at)
        return False
    return await write_version(
        row.id, row.version, cause=AdjustmentCause.RESTATEMENT, status=outcome.status,
        reduction_kwh=outcome.reduction_kwh, points=outcome.points, explanation=outcome.explanation,
        computed_at=computed_at, now=now,
        note=f"readings changed: {row.reduction_kwh:.3f} -> {outcome.reduction_kwh:.3f} kWh")


async def events_to_settle() -> list[int]:
    """Ended, tallied events with an opted-in household not settled yet."""
    settled = Subquery(DrSettlement.all().values("participation_id"))
    ids = await DrParticipation.filter(opted_out=False, event__state=DrState.ENDED,
                                       event__settled_at__isnull=False).exclude(id__in=settled).values_list(
        "event_id", flat=True)
    return sorted(set(ids))


async def settle_due(settings: Settings, now: datetime | None = None) -> SettleReport:
    """What the settlement job does each run: settle what is complete, then restate."""
    now = now or datetime.now(UTC)
    report = SettleReport()
    for event_id in await events_to_settle():
        done = await settle_event(settings, event_id, now)
        if done is None:
            report.pending_events += 1
        else:
            report.settled += done
    report.restated = await restate(settings, now)
    return report
