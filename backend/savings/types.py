"""GraphQL types of the savings domain."""

from __future__ import annotations

import strawberry

from backend.graphql.access import public_type


@public_type
@strawberry.type(description="The cheapest window of whole hours to run an appliance, by the time-of-use table.")
class LaundryWindow:
    start_hour: int = strawberry.field(description="Local hour the cycle should start (0-23)")
    end_hour: int = strawberry.field(description="Local hour it ends (exclusive, 0-23)")
    cost_won: float = strawberry.field(description="Cost of the cycle at kwhPerHour in each hour")
    period: str = strawberry.field(description="The tariff period the window starts in, e.g. off_peak")
    tariff: str = strawberry.field(description="Which time-of-use table was used")
