"""Municipality models."""

from tortoise import fields
from tortoise.models import Model


class Municipality(Model):
    """A local government (시·군·구) that runs a local-currency programme."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    code = fields.CharField(max_length=20, unique=True, description="Administrative code")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "municipality"


class MunicipalReport(Model):
    """A municipality's monthly report: the figures as computed (the PDF is rendered from them)."""

    id = fields.IntField(primary_key=True)
    municipality = fields.ForeignKeyField("pvpp.Municipality", related_name="reports", on_delete=fields.CASCADE)
    year = fields.SmallIntField()
    month = fields.SmallIntField()
    figures = fields.JSONField()
    generated_at = fields.DatetimeField()

    class Meta:
        table = "municipal_report"
        unique_together = (("municipality", "year", "month"),)
