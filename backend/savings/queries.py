"""Queries of the savings domain: e-Brain advice."""

from __future__ import annotations


import strawberry

from backend.errors import ValidationFailed as ValidationFailedError
from backend.graphql.context import Info
from backend.graphql.errors import ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import returns_errors
from backend.savings import ebrain
from backend.savings.types import LaundryWindow

LaundryWindowResult = result_union("LaundryWindowResult", LaundryWindow, ValidationFailed)


@strawberry.type
class SavingsQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="When to run the laundry: the cheapest window of `hours` whole hours.")
    @returns_errors
    async def laundry_window(self, info: Info, hours: int = 2, kwh_per_hour: float = 1.0) -> LaundryWindowResult:
        if not 1 <= hours <= 12:
            raise ValidationFailedError("hours", "A cycle lasts 1 to 12 hours.")
        if not 0 < kwh_per_hour <= 10:
            raise ValidationFailedError("kwhPerHour", "Give the appliance's use per hour, above 0 and at most 10 kWh.")
        name, table = ebrain.tou_table(info.context.settings.tou_table_path)
        window = ebrain.laundry_window(hours, table, kwh_per_hour)
        return LaundryWindow(start_hour=window.start_hour, end_hour=window.end_hour,
                             cost_won=round(window.cost_won, 1), period=table.period_at(window.start_hour),
                             tariff=name)
