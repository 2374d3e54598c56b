"""The record of a demo load: its size, seed and anchor day, and whether it finished.

The anchor ("today" of the first load) fixes the history's dates, so loading again on a later
day repeats the same plan instead of adding a shifted copy; a finished load of the same size
and seed is not run again at all.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class DemoLoad(Model):
    id = fields.IntField(primary_key=True)
    seed = fields.IntField()
    households = fields.IntField()
    days = fields.IntField()
    anchor = fields.DateField(description="local day the history ends before")
    started_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)
    summary = fields.JSONField(null=True)

    class Meta:
        table = "demo_load"
        unique_together = (("seed", "households", "days"),)
