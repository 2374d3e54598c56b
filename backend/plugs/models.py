"""Smart plug models: pairings, pairing codes, reject counters, switch commands.

Readings and hourly rollups are high-volume tables written with COPY and read with plain
SQL, so they are created by the migration and handled in ``backend.plugs.store``.
"""

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from backend.plugs.readings import Vendor


class Plug(Model):
    """One pairing of a device (vendor + device id) to a household. Unpairing sets
    ``unpaired_at`` and keeps the row and its readings: a device paired again, to the same
    or another household, gets a new row, so each household only ever sees its own data."""

    id = fields.IntField(primary_key=True)
    household = fields.ForeignKeyField("pvpp.Household", related_name="plugs", on_delete=fields.CASCADE)
    vendor = fields.CharEnumField(Vendor, max_length=16)
    device_id = fields.CharField(max_length=64)
    # the outlet or meter channel of a multi-channel device (0 for a single-outlet plug);
    # each channel the household pairs is a row of its own
    channel = fields.SmallIntField(default=0, db_default=0)
    # a whole-home meter channel (Shelly EM/3EM): no switch, not a plug load
    meter = fields.BooleanField(default=False, db_default=False)
    # MQTT plugs whose topics are not the vendor default: the device's topic layout chosen at
    # pairing (Tasmota FullTopic such as ``home/%topic%/%prefix%/``, a multi-level Gen2 prefix)
    topic_template = fields.CharField(max_length=120, null=True)
    name = fields.CharField(max_length=40)
    paired_by = fields.ForeignKeyField("pvpp.User", related_name="paired_plugs", null=True,
                                       on_delete=fields.SET_NULL)
    paired_at = fields.DatetimeField(auto_now_add=True)
    unpaired_at = fields.DatetimeField(null=True)
    token_hash = fields.CharField(max_length=64, null=True)
    # MQTT plugs: the broker account issued at pairing; the password only as its Mosquitto hash
    mqtt_username = fields.CharField(max_length=32, null=True)
    mqtt_password_hash = fields.CharField(max_length=200, null=True)
    online = fields.BooleanField(null=True)
    online_changed_at = fields.DatetimeField(null=True)
    relay_on = fields.BooleanField(null=True)
    relay_changed_at = fields.DatetimeField(null=True)
    # the device's clock as the bridge sees it: its zone offset (a Tasmota left at its default
    # zone reports local time of that zone) and whether it is off (unset, or wrong by minutes)
    clock_offset_min = fields.IntField(null=True)
    clock_off = fields.BooleanField(null=True)
    clock_changed_at = fields.DatetimeField(null=True)
    # feed-in (balcony solar): exporting now, ever exported (never earns savings), the device's
    # returned-energy counter (Gen2 ret_aenergy, Tasmota ExportActive) in Wh
    exporting = fields.BooleanField(null=True)
    feeds_in = fields.BooleanField(default=False, db_default=False)
    returned_wh = fields.FloatField(null=True)
    # a parent's consent that DR events may switch this plug off (never a fridge without it)
    dr_automation = fields.BooleanField(default=False, db_default=False)
    changed_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "plug"
        indexes = (Index(fields=("vendor", "device_id")), Index(fields=("household_id",)),
                   Index(fields=("changed_at",)))


class PairingCode(Model):
    """A short-lived, single-use code a parent creates so a plug can join the household."""

    id = fields.IntField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    household = fields.ForeignKeyField("pvpp.Household", related_name="pairing_codes",
                                       on_delete=fields.CASCADE)
    created_by = fields.ForeignKeyField("pvpp.User", related_name="pairing_codes", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    plug = fields.ForeignKeyField("pvpp.Plug", related_name="pairing_code", null=True,
                                  on_delete=fields.SET_NULL)

    class Meta:
        table = "plug_pairing_code"


class PushBatch(Model):
    """An HTTP push batch id already taken for a plug, so a replayed push is recognised."""

    id = fields.IntField(primary_key=True)
    plug = fields.ForeignKeyField("pvpp.Plug", related_name="push_batches", on_delete=fields.CASCADE)
    batch_id = fields.CharField(max_length=64)
    digest = fields.CharField(max_length=64)
    accepted = fields.IntField()
    rejected = fields.JSONField()
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "plug_push_batch"
        unique_together = (("plug", "batch_id"),)


class RejectCount(Model):
    """Rejected plug messages per UTC day, vendor and reason (summed over all bridges)."""

    id = fields.IntField(primary_key=True)
    day = fields.DateField()
    vendor = fields.CharField(max_length=16)
    reason = fields.CharField(max_length=24)
    count = fields.BigIntField(default=0)

    class Meta:
        table = "plug_reject_count"
        unique_together = (("day", "vendor", "reason"),)


class CommandStatus(StrEnum):
    PENDING = "pending"        # waiting for a bridge to publish it
    SENT = "sent"              # published; waiting for the device to report the new state
    CONFIRMED = "confirmed"    # the device reported the requested relay state
    FAILED = "failed"          # no confirmation after every attempt, or the plug cannot be switched
    SUPERSEDED = "superseded"  # a newer command for the same plug replaced it


class PlugCommand(Model):
    """A request to switch a plug's relay, kept as an outbox row: the API (or a DR event)
    writes it, a bridge publishes it and the device's own state report confirms it."""

    id = fields.IntField(primary_key=True)
    plug = fields.ForeignKeyField("pvpp.Plug", related_name="commands", on_delete=fields.CASCADE)
    switch_on = fields.BooleanField()
    purpose = fields.CharField(max_length=24, default="manual")
    requested_by = fields.ForeignKeyField("pvpp.User", related_name="plug_commands", null=True,
                                          on_delete=fields.SET_NULL)
    status = fields.CharEnumField(CommandStatus, max_length=12, default=CommandStatus.PENDING)
    attempts = fields.SmallIntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    error = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "plug_command"
        indexes = (Index(fields=("status", "id")), Index(fields=("plug_id", "id")))
