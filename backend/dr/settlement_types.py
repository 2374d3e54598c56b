"""GraphQL types of DR settlements, disputes and team pooling.

They are reached only through ``drSettlement``, ``drDisputes``, ``drTeamDelivery`` and the
dispute mutations, which check who may see what (backend/dr/explain.py,
backend/dr/pooling_service.py), so their fields are visible to whoever receives them.
"""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from backend.dr.explain import DisplayStatus, SettlementView
from backend.dr.models import DrDispute as DrDisputeModel
from backend.dr.models import DrSettlementAdjustment as AdjustmentModel
from backend.dr.pooling_service import TeamDelivery
from backend.graphql.access import public_type
from backend.graphql.scalars import to_display

DrSettlementStatus = strawberry.enum(
    DisplayStatus, name="DrSettlementStatus",
    description="pending_data (not settled yet: figures provisional), settled, insufficient_data (no baseline: no "
                "points, no penalty), forgiven (the platform let the household down: never penalised), disputed "
                "(a dispute is open), adjusted (changed after settlement: see adjustments)")


def _day(text: str) -> date:
    return date.fromisoformat(text)


@public_type
@strawberry.type(description="A day's use in kWh (over the event hours, or in one hour)")
class DrDayValue:
    day: date
    kwh: float


@public_type
@strawberry.type(description="A day before the event that was not used in the baseline, and why: weekend, holiday, "
                             "event_day (an earlier event of this household), working_day (for a weekend event), "
                             "insufficient_data (an hour of the day was missing)")
class DrExcludedDay:
    day: date
    reason: str


@public_type
@strawberry.type(description="One event hour: baseline, actual use and reduction")
class DrSettlementHour:
    hour: int = strawberry.field(description="Local clock hour (0-23)")
    baseline_kwh: float | None = strawberry.field(description="Null when the baseline was refused")
    unadjusted_kwh: float | None = strawberry.field(description="Before the in-day adjustment")
    actual_kwh: float | None = strawberry.field(description="Null when the hour's readings are missing")
    coverage: float = strawberry.field(description="Lowest share of the hour covered by any of the plugs")
    missing: bool = strawberry.field(description="Missing hours add no saving")
    reduction_kwh: float
    kept: list[DrDayValue] = strawberry.field(description="Days whose values were averaged for this hour")
    dropped: list[DrDayValue] = strawberry.field(description="Days whose values were dropped for this hour")


@public_type
@strawberry.type(description="A reading of a baseline day-hour used: the household's kWh and its coverage")
class DrBaselineReading:
    day: date
    hour: int
    kwh: float
    coverage: float


@public_type
@strawberry.type(description="The in-day adjustment (UK DFS): the window before the event, what was seen in it "
                             "and what was applied")
class DrInDayAdjustment:
    window_start: datetime
    window_end: datetime
    observed_kwh_per_hour: float | None
    typical_kwh_per_hour: float | None
    raw_kwh_per_hour: float | None
    applied_kwh_per_hour: float
    cap_kwh_per_hour: float
    capped: bool
    upward_refused: bool = strawberry.field(description="Use in the window was far above usual: the upward "
                                                        "adjustment was refused (a guard against gaming)")


@public_type
@strawberry.type
class DrBaselineWarning:
    code: str
    description: str


@public_type
@strawberry.type(description="A change after settlement: new readings (restatement) or an accepted dispute")
class DrSettlementChange:
    version: int
    cause: str = strawberry.field(description="restatement or dispute")
    reduction_kwh_before: float
    reduction_kwh_after: float
    points_before: int
    points_after: int
    points_delta: int
    note: str
    created_at: datetime

    @classmethod
    def from_model(cls, a: AdjustmentModel, tz: str) -> DrSettlementChange:
        return cls(version=a.version, cause=a.cause.value, reduction_kwh_before=a.reduction_kwh_before,
                   reduction_kwh_after=a.reduction_kwh_after, points_before=a.points_before,
                   points_after=a.points_after, points_delta=a.points_after - a.points_before, note=a.note,
                   created_at=to_display(a.created_at, tz))


@public_type
@strawberry.type(description="A parent's dispute of a settlement and the operator's decision")
class DrDispute:
    id: strawberry.ID
    event_id: strawberry.ID
    household_id: strawberry.ID
    status: str = strawberry.field(description="open, accepted or rejected")
    reason: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    adjusted_kwh: float | None = strawberry.field(description="The reduction the operator accepted")

    @classmethod
    def from_model(cls, d: DrDisputeModel, event_id: int, household_id: int, tz: str) -> DrDispute:
        return cls(id=strawberry.ID(str(d.id)), event_id=strawberry.ID(str(event_id)),
                   household_id=strawberry.ID(str(household_id)), status=d.status.value, reason=d.reason,
                   created_at=to_display(d.created_at, tz), resolved_at=to_display(d.resolved_at, tz),
                   resolution=d.resolution, adjusted_kwh=d.adjusted_kwh)


@public_type
@strawberry.type
class DrDisputeList:
    items: list[DrDispute]


def _hours(explanation: dict) -> list[DrSettlementHour]:
    out = []
    for a in explanation.get("actual", []):
        out.append(DrSettlementHour(
            hour=a["hour"], baseline_kwh=a.get("baseline_kwh"), unadjusted_kwh=a.get("unadjusted_kwh"),
            actual_kwh=a.get("kwh"), coverage=a.get("coverage", 0.0), missing=a.get("missing", True),
            reduction_kwh=a.get("reduction_kwh", 0.0),
            kept=[DrDayValue(day=_day(v["day"]), kwh=v["kwh"]) for v in a.get("kept", [])],
            dropped=[DrDayValue(day=_day(v["day"]), kwh=v["kwh"]) for v in a.get("dropped", [])]))
    return out


def _adjustment(data: dict | None) -> DrInDayAdjustment | None:
    if not data:
        return None
    return DrInDayAdjustment(
        window_start=datetime.fromisoformat(data["window_start"]), window_end=datetime.fromisoformat(data["window_end"]),
        observed_kwh_per_hour=data["observed_kwh_per_hour"], typical_kwh_per_hour=data["typical_kwh_per_hour"],
        raw_kwh_per_hour=data["raw_kwh_per_hour"], applied_kwh_per_hour=data["applied_kwh_per_hour"],
        cap_kwh_per_hour=data["cap_kwh_per_hour"], capped=data["capped"], upward_refused=data["upward_refused"])


@public_type
@strawberry.type(description="Why a household got what it got for a DR event: the baseline method, the days used "
                             "and excluded (and why), the readings, actual use, reduction, points and every "
                             "change since. Pseudonymous: no person is named.")
class DrSettlement:
    event_id: strawberry.ID
    household_id: strawberry.ID
    status: DrSettlementStatus  # type: ignore[valid-type]
    provisional: bool = strawberry.field(description="Not settled yet: the figures may still change")
    forgiven_reason: str | None
    method: str | None = strawberry.field(description="The baseline method used (kpx_mid_6_10, kpx_max_4_5, uk_dfs, "
                                                      "ohmconnect)")
    requested_method: str | None = strawberry.field(description="The household's recorded method choice")
    method_choice: str | None = strawberry.field(description="Where the method came from")
    fallback: str | None = strawberry.field(description="Why another method than the household's was used")
    day_type: str | None = strawberry.field(description="working or non_working")
    insufficient_reason: str | None
    insufficient_detail: str | None
    event_day: date | None
    baseline_kwh: float | None = strawberry.field(description="Baseline over the event hours")
    actual_kwh: float | None = strawberry.field(description="Actual use over the covered event hours")
    reduction_kwh: float = strawberry.field(description="Baseline minus actual over covered hours; missing hours "
                                                        "count 0")
    contracted_kwh: float = strawberry.field(description="The household's share of the event target")
    points: int = strawberry.field(description="Points given for this event so far (all versions)")
    points_reason: str | None
    rules_year: int | None
    recipients: int = strawberry.field(description="How many household members share the points equally")
    version: int
    coverage: float | None = strawberry.field(description="Share of hourly readings present in the 15 days before")
    hours: list[DrSettlementHour]
    missing_hours: list[int]
    used_days: list[date]
    excluded_days: list[DrExcludedDay]
    dropped_days: list[DrDayValue] = strawberry.field(description="Whole days dropped (KPX Max 4/5)")
    earlier_event_days: list[date]
    readings: list[DrBaselineReading]
    adjustment: DrInDayAdjustment | None
    warnings: list[DrBaselineWarning]
    adjustments: list[DrSettlementChange]
    disputes: list[DrDispute] = strawberry.field(description="Shown to the household and operators")
    settled_at: datetime | None
    computed_at: datetime | None

    @classmethod
    def from_view(cls, v: SettlementView, tz: str) -> DrSettlement:
        e = v.explanation
        insufficient = e.get("insufficient") or {}
        return cls(
            event_id=strawberry.ID(str(v.event_id)), household_id=strawberry.ID(str(v.household_id)),
            status=DrSettlementStatus(v.status.value), provisional=v.provisional, forgiven_reason=v.forgiven_reason,
            method=v.method, requested_method=e.get("requested_method"), method_choice=e.get("method_choice"),
            fallback=e.get("fallback"), day_type=e.get("day_type"), insufficient_reason=insufficient.get("reason"),
            insufficient_detail=insufficient.get("detail"),
            event_day=_day(e["event_day"]) if e.get("event_day") else None, baseline_kwh=e.get("baseline_kwh"),
            actual_kwh=e.get("actual_kwh"), reduction_kwh=v.reduction_kwh, contracted_kwh=v.contracted_kwh,
            points=v.points, points_reason=e.get("points_reason"), rules_year=e.get("rules_year"),
            recipients=v.recipients, version=v.version, coverage=e.get("coverage"), hours=_hours(e),
            missing_hours=e.get("missing_hours", []), used_days=[_day(d) for d in e.get("used_days", [])],
            excluded_days=[DrExcludedDay(day=_day(x["day"]), reason=x["reason"]) for x in e.get("excluded_days", [])],
            dropped_days=[DrDayValue(day=_day(x["day"]), kwh=x["kwh"]) for x in e.get("dropped_days", [])],
            earlier_event_days=[_day(d) for d in e.get("earlier_event_days", [])],
            readings=[DrBaselineReading(day=_day(r["day"]), hour=r["hour"], kwh=r["kwh"], coverage=r["coverage"])
                      for r in e.get("readings", [])],
            adjustment=_adjustment(e.get("adjustment")),
            warnings=[DrBaselineWarning(code=w["code"], description=w["description"]) for w in e.get("warnings", [])],
            adjustments=[DrSettlementChange.from_model(a, tz) for a in v.adjustments],
            disputes=[DrDispute.from_model(d, v.event_id, v.household_id, tz) for d in v.disputes],
            settled_at=to_display(v.settled_at, tz), computed_at=to_display(v.computed_at, tz))


@public_type
@strawberry.type(description="A class's delivery in an event against its contracted capacity, before and after "
                             "pooling (over-performers cover shortfalls). Aggregates only.")
class DrTeamDelivery:
    event_id: strawberry.ID
    class_id: strawberry.ID
    households_pooled: int = strawberry.field(description="Settled households of the class with a figure")
    households_forgiven: int = strawberry.field(description="Left out: forgiven households owe nothing")
    households_insufficient: int = strawberry.field(description="Left out: no baseline (insufficient data)")
    contracted_kwh: float
    delivered_kwh: float
    credited_before_kwh: float
    credited_after_kwh: float
    surplus_kwh: float
    shortfall_kwh: float
    transferred_kwh: float
    rate_before: float | None = strawberry.field(description="Delivery rate without pooling (1.0 = 100%)")
    rate_after: float | None = strawberry.field(description="Delivery rate with pooling")

    @classmethod
    def from_result(cls, t: TeamDelivery) -> DrTeamDelivery:
        r = t.result
        return cls(
            event_id=strawberry.ID(str(t.event_id)), class_id=strawberry.ID(str(t.class_id)),
            households_pooled=t.households_pooled, households_forgiven=t.households_forgiven,
            households_insufficient=t.households_insufficient,
            contracted_kwh=r.contracted_kwh if r else 0.0,
            delivered_kwh=sum(m.delivered_kwh for m in r.members) if r else 0.0,
            credited_before_kwh=sum(m.credited_before_kwh for m in r.members) if r else 0.0,
            credited_after_kwh=sum(m.credited_after_kwh for m in r.members) if r else 0.0,
            surplus_kwh=r.surplus_kwh if r else 0.0, shortfall_kwh=r.shortfall_kwh if r else 0.0,
            transferred_kwh=r.transferred_kwh if r else 0.0, rate_before=r.rate_before if r else None,
            rate_after=r.rate_after if r else None)
