"""Demand-response events: the event, one participation row per household in scope, and
one row per plug the event switched off (so exactly those plugs are switched back on)."""

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class DrScope(StrEnum):
    NATIONAL = "national"
    MUNICIPALITY = "municipality"
    SCHOOL = "school"


class DrState(StrEnum):
    SCHEDULED = "scheduled"  # created; households not yet notified
    NOTIFIED = "notified"    # participation rows written (households told)
    RUNNING = "running"      # the window has started; opted-in DR plugs switched off
    ENDED = "ended"          # the window is over; switched plugs are restored
    CANCELLED = "cancelled"  # cancelled by its creator (or an operator); plugs restored


class DrEvent(Model):
    """A window in which households in a scope cut load together against a target."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=80)
    scope = fields.CharEnumField(DrScope, max_length=16)
    municipality = fields.ForeignKeyField("pvpp.Municipality", related_name="dr_events", null=True,
                                          on_delete=fields.RESTRICT)
    school = fields.ForeignKeyField("pvpp.School", related_name="dr_events", null=True, on_delete=fields.RESTRICT)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    target_kw = fields.FloatField()
    short_notice = fields.BooleanField(default=False)
    state = fields.CharEnumField(DrState, max_length=12, default=DrState.SCHEDULED)
    created_by = fields.ForeignKeyField("pvpp.User", related_name="dr_events", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    notified_at = fields.DatetimeField(null=True)
    started_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    settled_at = fields.DatetimeField(null=True)  # every DR command of the event finished (or given up)
    live = fields.JSONField(null=True)  # the latest live-view snapshot (aggregates only)
    live_at = fields.DatetimeField(null=True)
    changed_at = fields.DatetimeField()  # set on every change households should hear about

    class Meta:
        table = "dr_event"
        indexes = (Index(fields=("state", "starts_at")), Index(fields=("changed_at",)))


class DrParticipation(Model):
    """One household's part in one event: when it was told, its choice, what was switched."""

    id = fields.IntField(primary_key=True)
    event = fields.ForeignKeyField("pvpp.DrEvent", related_name="participations", on_delete=fields.CASCADE)
    household = fields.ForeignKeyField("pvpp.Household", related_name="dr_participations",
                                       on_delete=fields.CASCADE)
    notified_at = fields.DatetimeField()
    opted_out = fields.BooleanField(default=False)
    opted_out_at = fields.DatetimeField(null=True)
    decided_by = fields.ForeignKeyField("pvpp.User", related_name="dr_decisions", null=True,
                                        on_delete=fields.SET_NULL)
    switched_at = fields.DatetimeField(null=True)   # the household's DR plugs were handled at the start
    restored_at = fields.DatetimeField(null=True)   # restores were queued for every plug switched off
    commands_issued = fields.IntField(default=0)
    commands_failed = fields.IntField(default=0)
    forgiven_reason = fields.CharField(max_length=24, null=True)
    forgiven_at = fields.DatetimeField(null=True)

    class Meta:
        table = "dr_participation"
        unique_together = (("event", "household"),)
        indexes = (Index(fields=("household_id", "event_id")),)


class DrSwitch(Model):
    """A plug the event switched off, the command that did it and the one that restores it."""

    id = fields.IntField(primary_key=True)
    participation = fields.ForeignKeyField("pvpp.DrParticipation", related_name="switches",
                                           on_delete=fields.CASCADE)
    plug = fields.ForeignKeyField("pvpp.Plug", related_name="dr_switches", on_delete=fields.CASCADE)
    off_command = fields.ForeignKeyField("pvpp.PlugCommand", related_name="dr_off", null=True,
                                         on_delete=fields.SET_NULL)
    restore_command = fields.ForeignKeyField("pvpp.PlugCommand", related_name="dr_restore", null=True,
                                             on_delete=fields.SET_NULL)
    restore_skipped = fields.CharField(max_length=60, null=True)  # why no restore was sent
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "dr_switch"
        unique_together = (("participation", "plug"),)


# -- measured savings: baseline choice, settlement, restatement, disputes (docs/dr.md "Settlement")
class BaselineChoice(Model):
    """One evaluation of which baseline method fits a household best, kept as history.

    ``method`` is the method settlements use from ``evaluated_at`` on; when the history was too
    thin to choose, it is the default method and ``insufficient_reason`` says why.
    """

    id = fields.IntField(primary_key=True)
    household = fields.ForeignKeyField("pvpp.Household", related_name="baseline_choices", on_delete=fields.CASCADE)
    method = fields.CharField(max_length=16)
    evaluated_at = fields.DatetimeField()
    scores = fields.JSONField(default=dict)  # method -> {"rrmse": float | None, "bias": float | None}
    days_used = fields.IntField(default=0)  # pseudo-event days all methods were scored on
    insufficient_reason = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "dr_baseline_choice"
        indexes = (Index(fields=("household_id", "evaluated_at")),)


class SettlementStatus(StrEnum):
    SETTLED = "settled"
    INSUFFICIENT_DATA = "insufficient_data"  # the baseline was refused: no points, no penalty
    FORGIVEN = "forgiven"  # the platform let the household down: measured, never penalised


class DrSettlement(Model):
    """What one opted-in household delivered in one event, and the points it was given.

    The ``explanation`` holds the latest computation in full (days used and excluded, readings,
    per-hour figures); ``points`` is the current total, the sum of the ledger legs written for it.
    """

    id = fields.IntField(primary_key=True)
    participation = fields.OneToOneField("pvpp.DrParticipation", related_name="settlement", on_delete=fields.CASCADE)
    event = fields.ForeignKeyField("pvpp.DrEvent", related_name="settlements", on_delete=fields.CASCADE)
    household = fields.ForeignKeyField("pvpp.Household", related_name="dr_settlements", on_delete=fields.CASCADE)
    status = fields.CharEnumField(SettlementStatus, max_length=20)
    method = fields.CharField(max_length=16, null=True)
    contracted_kwh = fields.FloatField()  # the event target split evenly over its opted-in households
    reduction_kwh = fields.FloatField(default=0.0)  # baseline minus actual over covered event hours
    points = fields.IntField(default=0)
    version = fields.IntField(default=1)  # 1 at settlement, +1 for every adjustment
    recipients = fields.JSONField(default=list)  # pseudonyms (str) receiving equal shares, fixed at settlement
    plug_ids = fields.JSONField(default=list)  # the plugs whose rollups make up the household's load
    explanation = fields.JSONField(default=dict)
    computed_at = fields.DatetimeField()  # when the readings behind the explanation were read
    settled_at = fields.DatetimeField()

    class Meta:
        table = "dr_settlement"
        unique_together = (("event", "household"),)


class AdjustmentCause(StrEnum):
    RESTATEMENT = "restatement"  # readings arrived or changed after settlement
    DISPUTE = "dispute"  # an operator accepted a household's dispute


class DrSettlementAdjustment(Model):
    """A change of a settlement after the fact, written to the ledger as ADJUSTMENT legs."""

    id = fields.IntField(primary_key=True)
    settlement = fields.ForeignKeyField("pvpp.DrSettlement", related_name="adjustments", on_delete=fields.CASCADE)
    version = fields.IntField()
    cause = fields.CharEnumField(AdjustmentCause, max_length=12)
    reduction_kwh_before = fields.FloatField()
    reduction_kwh_after = fields.FloatField()
    points_before = fields.IntField()
    points_after = fields.IntField()
    note = fields.CharField(max_length=200, default="")
    previous_explanation = fields.JSONField(default=dict)  # the explanation this version replaced
    created_at = fields.DatetimeField()

    class Meta:
        table = "dr_settlement_adjustment"
        unique_together = (("settlement", "version"),)


class DisputeStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class DrDispute(Model):
    """A parent's objection to a settlement and an operator's answer.

    ``open_key`` is the settlement id while the dispute is open and null afterwards, so the
    database itself refuses a second open dispute of one settlement.
    """

    id = fields.IntField(primary_key=True)
    settlement = fields.ForeignKeyField("pvpp.DrSettlement", related_name="disputes", on_delete=fields.CASCADE)
    open_key = fields.IntField(null=True, unique=True)
    raised_by = fields.ForeignKeyField("pvpp.User", related_name="dr_disputes", null=True, on_delete=fields.SET_NULL)
    reason = fields.TextField()
    status = fields.CharEnumField(DisputeStatus, max_length=10, default=DisputeStatus.OPEN)
    created_at = fields.DatetimeField()
    resolved_by = fields.ForeignKeyField("pvpp.User", related_name="dr_resolutions", null=True,
                                         on_delete=fields.SET_NULL)
    resolved_at = fields.DatetimeField(null=True)
    resolution = fields.TextField(null=True)
    adjusted_kwh = fields.FloatField(null=True)

    class Meta:
        table = "dr_dispute"
