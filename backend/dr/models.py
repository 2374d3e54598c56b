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
