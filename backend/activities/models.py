"""Activities: what a student or parent reported, with the idempotency key of the reporting device."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ActivityStatus(StrEnum):
    ACCEPTED = "accepted"  # points awarded
    PENDING_EVIDENCE = "pending_evidence"  # waits for its photo to be accepted
    REJECTED = "rejected"  # no points (or points reversed)


class Activity(Model):
    """One report. ``(user, idempotency_key)`` is unique so a retried or re-synced report counts once.

    ``payload_hash`` is the SHA-256 of the normalised report, to tell a replay from a conflict.
    """

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("pvpp.User", related_name="activities", on_delete=fields.CASCADE)
    household = fields.ForeignKeyField(
        "pvpp.Household", related_name="activities", null=True, on_delete=fields.SET_NULL
    )
    programme = fields.ForeignKeyField(
        "pvpp.Programme", related_name="activities", on_delete=fields.RESTRICT
    )
    idempotency_key = fields.CharField(max_length=64)
    payload_hash = fields.CharField(max_length=64)
    activity_type = fields.CharField(max_length=40)
    catalogue_version = fields.SmallIntField()
    params = fields.JSONField()
    occurred_on = fields.DateField()
    status = fields.CharEnumField(ActivityStatus, max_length=20)
    kwh = fields.DecimalField(max_digits=12, decimal_places=3)
    shifted_kwh = fields.DecimalField(max_digits=12, decimal_places=3)
    points = fields.BigIntField(default=0)
    status_reason = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "activity"
        unique_together = (("user", "idempotency_key"),)
        indexes = (("user_id", "activity_type", "occurred_on"),)
