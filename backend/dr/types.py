"""GraphQL types of DR events.

Events are reached only through ``drEvents``/``drEvent``/the subscriptions, which return just
the events the caller may see (managers, and members of households taking part), so their
fields are visible to whoever receives them. A household sees only its own participation
(``myParticipation``); the live view it gets holds aggregates only, and no counts at all when
too few households take part for an aggregate to hide one of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry

from backend.accounts.models import Role
from backend.dr import live, rules
from backend.dr.models import DrEvent as DrEventModel
from backend.dr.models import DrParticipation as DrParticipationModel
from backend.dr.models import DrScope, DrState
from backend.graphql.access import public_type
from backend.graphql.context import Info
from backend.graphql.scalars import to_display

DrEventScope = strawberry.enum(DrScope, name="DrEventScope")
DrEventState = strawberry.enum(DrState, name="DrEventState",
                               description="scheduled → notified → running → ended, or cancelled")


def _tz(info: Info) -> str:
    return info.context.settings.display_timezone


@public_type
@strawberry.type(description="A household's part in a DR event: when it was told, its choice, what was switched "
                             "and whether it is forgiven (no penalty) because the platform let it down.")
class DrParticipation:
    id: strawberry.ID
    household_id: strawberry.ID
    notified_at: datetime
    opted_in: bool
    opted_out_at: datetime | None
    switched_at: datetime | None = strawberry.field(description="When the household's DR plugs were switched off")
    restored_at: datetime | None = strawberry.field(description="When switching them back on was requested")
    commands_issued: int
    commands_failed: int
    forgiven: bool
    forgiven_reason: str | None = strawberry.field(
        description="short_notice, late_notice, switch_failed or restore_failed")

    @classmethod
    def from_model(cls, p: DrParticipationModel, tz: str) -> DrParticipation:
        return cls(id=strawberry.ID(str(p.id)), household_id=strawberry.ID(str(p.household_id)),
                   notified_at=to_display(p.notified_at, tz), opted_in=not p.opted_out,
                   opted_out_at=to_display(p.opted_out_at, tz), switched_at=to_display(p.switched_at, tz),
                   restored_at=to_display(p.restored_at, tz), commands_issued=p.commands_issued,
                   commands_failed=p.commands_failed, forgiven=p.forgiven_reason is not None,
                   forgiven_reason=p.forgiven_reason)


@public_type
@strawberry.type(description="A demand-response event: a window in which households of a scope cut load together.")
class DrEvent:
    id: strawberry.ID
    title: str
    scope: DrEventScope  # type: ignore[valid-type]
    municipality_id: strawberry.ID | None
    school_id: strawberry.ID | None
    starts_at: datetime
    ends_at: datetime
    target_kw: float
    short_notice: bool = strawberry.field(description="Announced with less than the minimum notice: every "
                                                      "household is forgiven automatically")
    state: DrEventState  # type: ignore[valid-type]
    opt_out_until: datetime = strawberry.field(description="Households may opt out until then")
    created_at: datetime
    notified_at: datetime | None
    cancelled_at: datetime | None
    model: strawberry.Private[DrEventModel]

    @classmethod
    def from_model(cls, e: DrEventModel, info: Info) -> DrEvent:
        tz = _tz(info)
        grace = timedelta(minutes=info.context.settings.dr_opt_out_grace_minutes)
        return cls(id=strawberry.ID(str(e.id)), title=e.title, scope=DrEventScope(e.scope.value),
                   municipality_id=strawberry.ID(str(e.municipality_id)) if e.municipality_id else None,
                   school_id=strawberry.ID(str(e.school_id)) if e.school_id else None,
                   starts_at=to_display(e.starts_at, tz), ends_at=to_display(e.ends_at, tz), target_kw=e.target_kw,
                   short_notice=e.short_notice, state=DrEventState(e.state.value),
                   opt_out_until=to_display(rules.opt_out_deadline(e.starts_at, grace), tz),
                   created_at=to_display(e.created_at, tz), notified_at=to_display(e.notified_at, tz),
                   cancelled_at=to_display(e.cancelled_at, tz), model=e)

    @strawberry.field(description="The caller's household's participation; null for staff and for households "
                                  "not taking part.")
    async def my_participation(self, info: Info) -> DrParticipation | None:
        principal = info.context.principal
        if principal is None or principal.household_id is None or principal.role not in (Role.PARENT, Role.STUDENT):
            return None
        row = await DrParticipationModel.get_or_none(event_id=self.model.id, household_id=principal.household_id)
        return DrParticipation.from_model(row, _tz(info)) if row else None


@public_type
@strawberry.type
class DrEventList:
    items: list[DrEvent]


@public_type
@strawberry.type(description="The event as one power plant: reduction against the target. Staff who manage the "
                             "event see every count; a household sees only the target and, when at least "
                             "PVPP_DR_MIN_AGGREGATE_HOUSEHOLDS households take part, the total reduction and "
                             "how many take part (other fields are null for them).")
class DrLiveView:
    event_id: strawberry.ID
    state: DrEventState  # type: ignore[valid-type]
    target_kw: float
    reduction_kw: float | None = strawberry.field(
        description="Sum over opted-in households' plugs of reference power minus current power (kW)")
    detailed: bool = strawberry.field(description="Whether the counts below are filled (staff only)")
    households_participating: int | None
    households_opted_out: int | None
    households_forgiven: int | None
    plugs_counted: int | None = strawberry.field(description="Plugs with enough history and a fresh reading")
    plugs_skipped: int | None = strawberry.field(description="Plugs left out: too little history or no fresh reading")
    plugs_switched_off: int | None
    plugs_confirmed: int | None
    plugs_failed: int | None
    updated_at: datetime

    @classmethod
    def full(cls, event: DrEventModel, view: live.LiveView, tz: str) -> DrLiveView:
        return cls(event_id=strawberry.ID(str(event.id)), state=DrEventState(event.state.value),
                   target_kw=view.target_kw, reduction_kw=view.reduction_kw, detailed=True,
                   households_participating=view.households_participating,
                   households_opted_out=view.households_opted_out, households_forgiven=view.households_forgiven,
                   plugs_counted=view.plugs_counted, plugs_skipped=view.plugs_skipped,
                   plugs_switched_off=view.plugs_switched_off, plugs_confirmed=view.plugs_confirmed,
                   plugs_failed=view.plugs_failed, updated_at=to_display(view.updated_at, tz))

    @classmethod
    def for_household(cls, event: DrEventModel, view: live.HouseholdLiveView, tz: str) -> DrLiveView:
        return cls(event_id=strawberry.ID(str(event.id)), state=DrEventState(event.state.value),
                   target_kw=view.target_kw, reduction_kw=view.reduction_kw, detailed=False,
                   households_participating=view.households_participating, households_opted_out=None,
                   households_forgiven=None, plugs_counted=None, plugs_skipped=None, plugs_switched_off=None,
                   plugs_confirmed=None, plugs_failed=None, updated_at=to_display(view.updated_at, tz))
