"""GraphQL types of the activities domain: the catalogue and a person's reports."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from backend.activities import catalogue as cat
from backend.activities.models import Activity as ActivityModel
from backend.graphql.access import public_type, visible
from backend.graphql.context import Info
from backend.graphql.scalars import to_display


@strawberry.enum
class ActivityStatus(Enum):
    ACCEPTED = "accepted"
    PENDING_EVIDENCE = "pending_evidence"
    REJECTED = "rejected"


@public_type
@strawberry.type(description="One parameter a report of this type takes, with its plausibility limits.")
class ActivityParameter:
    name: str
    type: str
    required: bool
    min: str | None
    max: str | None
    unit: str
    choices: list[str]


@public_type
@strawberry.type(description="An assumption of the deemed-savings formula (a device's power, a fixed kWh) and its source.")
class SavingsAssumption:
    key: str
    value: str
    unit: str
    source: str


@public_type
@strawberry.type(description="A kind of activity from the versioned catalogue.")
class ActivityType:
    key: str
    name_ko: str
    name_en: str
    basis: str = strawberry.field(description="measured, deemed or none: how kWh become points")
    formula_kind: str
    formula_source: str
    photo_required: bool
    max_per_day: int
    max_per_week: int
    max_per_month: int | None
    parameters: list[ActivityParameter]
    assumptions: list[SavingsAssumption]
    catalogue_version: int

    @classmethod
    def from_catalogue(cls, t: cat.ActivityType, version: int) -> ActivityType:
        f = t.formula
        assumptions = [SavingsAssumption(key=o.key, value=str(o.value), unit="W", source=o.source) for o in f.devices]
        assumptions += [SavingsAssumption(key=o.key, value=str(o.value), unit="kWh", source=o.source) for o in f.variants]
        if f.power_w is not None:
            assumptions.append(SavingsAssumption(key="power", value=str(f.power_w), unit="W", source=f.source))
        for name, value in (("kwh_per_unit", f.kwh_per_unit), ("shift_kwh_per_unit", f.shift_kwh_per_unit)):
            if value is not None:
                assumptions.append(SavingsAssumption(key=name, value=str(value), unit="kWh", source=f.source))
        return cls(
            key=t.key, name_ko=t.name_ko, name_en=t.name_en, basis=t.basis, formula_kind=f.kind,
            formula_source=f.source, photo_required=t.photo_required, max_per_day=t.max_per_day,
            max_per_week=t.max_per_week, max_per_month=t.max_per_month, catalogue_version=version,
            parameters=[ActivityParameter(
                name=p.name, type=p.type, required=p.required, unit=p.unit, choices=list(p.choices),
                min=None if p.min is None else str(p.min), max=None if p.max is None else str(p.max),
            ) for p in t.params],
            assumptions=assumptions,
        )


@strawberry.type(description="One reported activity. Reachable only by the reporter, their guardians and operators.")
class Activity:
    id: strawberry.ID = visible()
    activity_type: str = visible()
    occurred_on: date = visible()
    status: ActivityStatus = visible()
    status_reason: str = visible()
    kwh: str = visible(description="Deemed kWh saved (0.001 kWh resolution)")
    shifted_kwh: str = visible(description="kWh moved out of peak hours")
    points: int = visible(description="Points this report earns (awarded once accepted)")
    params: strawberry.scalars.JSON = visible()
    model: strawberry.Private[ActivityModel]

    @classmethod
    def from_model(cls, a: ActivityModel) -> Activity:
        return cls(
            id=strawberry.ID(str(a.id)), activity_type=a.activity_type, occurred_on=a.occurred_on,
            status=ActivityStatus(a.status), status_reason=a.status_reason, kwh=str(a.kwh),
            shifted_kwh=str(a.shifted_kwh), points=a.points, params=a.params, model=a,
        )

    @visible()
    def created_at(self, info: Info) -> datetime | None:
        return to_display(self.model.created_at, info.context.settings.display_timezone)


@public_type
@strawberry.type
class ActivityLogged:
    activity: Activity
    replayed: bool = strawberry.field(description="True when this idempotency key was seen before")


@public_type
@strawberry.type
class ActivityList:
    items: list[Activity]
