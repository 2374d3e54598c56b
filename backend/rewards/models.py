"""Programmes (a municipality's year of rules and coin budget), school enrolment, redemption codes."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Programme(Model):
    """A municipality's saving programme for one year.

    ``rules_year`` selects the conversion rules file (a new year may keep last year's rules until
    new ones are published). ``coins_issued_won`` is the materialised sum of
    the coins the ledger issued under this programme, never more than ``coin_budget_won``.
    """

    id = fields.IntField(primary_key=True)
    municipality = fields.ForeignKeyField(
        "pvpp.Municipality", related_name="programmes", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=120)
    year = fields.SmallIntField()
    rules_year = fields.SmallIntField(description="Year of the conversion rules file it follows")
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    coin_budget_won = fields.BigIntField()
    coins_issued_won = fields.BigIntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "programme"
        unique_together = (("municipality", "year"),)


class ProgrammeEnrolment(Model):
    """A school taking part in a programme: its students may earn volunteer hours through it."""

    id = fields.IntField(primary_key=True)
    programme = fields.ForeignKeyField("pvpp.Programme", related_name="enrolments", on_delete=fields.CASCADE)
    school = fields.ForeignKeyField("pvpp.School", related_name="enrolments", on_delete=fields.CASCADE)
    enrolled_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "programme_enrolment"
        unique_together = (("programme", "school"),)


class RedemptionCode(Model):
    """A one-time code a holder shows an officer. The nonce is burned when it is redeemed."""

    id = fields.IntField(primary_key=True)
    nonce = fields.CharField(max_length=32, unique=True)
    holder = fields.UUIDField(description="Pseudonym of the holder")
    municipality = fields.ForeignKeyField(
        "pvpp.Municipality", related_name="redemption_codes", on_delete=fields.CASCADE
    )
    amount_won = fields.BigIntField()
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    redeemed_at = fields.DatetimeField(null=True)
    redeemed_by = fields.ForeignKeyField(
        "pvpp.User", related_name="redemptions", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "redemption_code"
