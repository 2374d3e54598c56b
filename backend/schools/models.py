"""School models."""

from tortoise import fields
from tortoise.models import Model


class School(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    municipality = fields.ForeignKeyField(
        "pvpp.Municipality", related_name="schools", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "school"


class SchoolClass(Model):
    """A class (반) of one school year. Students join it with its join code."""

    id = fields.IntField(primary_key=True)
    school = fields.ForeignKeyField("pvpp.School", related_name="classes", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=60)
    grade = fields.SmallIntField()
    year = fields.SmallIntField()
    join_code = fields.CharField(max_length=16, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "school_class"
        unique_together = (("school", "year", "name"),)
