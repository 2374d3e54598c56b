"""Household models."""

from tortoise import fields
from tortoise.models import Model


class Household(Model):
    """A family home. Members join it with its invite code."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    invite_code = fields.CharField(max_length=16, unique=True)
    municipality = fields.ForeignKeyField(
        "pvpp.Municipality", related_name="households", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "household"
