"""Subscriptions (graphql-transport-ws on ``/graphql``): new and changed DR events for the
caller, and the live view of one event while it runs.

Each subscription polls the database every ``PVPP_DR_PUSH_SECONDS`` (events are rare and
indexed by ``changed_at``; the live view is a stored snapshot recomputed at most every
``PVPP_DR_LIVE_SECONDS`` whoever asks), so any API process can serve any subscriber and the
worker needs no channel to the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import strawberry

from backend import errors as domain
from backend.dr import service
from backend.dr.models import DrEvent as DrEventModel
from backend.dr.queries import DrLiveViewResult, live_for
from backend.dr.types import DrEvent
from backend.graphql.context import Info
from backend.graphql.errors import to_graphql_error
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal


@strawberry.type
class DrSubscriptions:
    @strawberry.subscription(permission_classes=[IsAuthenticated],
                             description="Every new or changed DR event the caller may see (households: events "
                                         "they take part in), from the moment of subscribing.")
    async def dr_events(self, info: Info) -> AsyncGenerator[DrEvent, None]:
        principal = require_principal(info)
        cursor = datetime.now(UTC)
        while True:
            for row in await service.visible_events(principal, upcoming=False, changed_after=cursor):
                cursor = max(cursor, row.changed_at)
                yield DrEvent.from_model(row, info)
            await asyncio.sleep(info.context.settings.dr_push_seconds)

    @strawberry.subscription(permission_classes=[IsAuthenticated],
                             description="The live view of one event, every few seconds; completes once the event "
                                         "is over.")
    async def dr_live_view(self, info: Info, event_id: strawberry.ID) -> AsyncGenerator[DrLiveViewResult, None]:
        try:
            event = await service.visible_event(require_principal(info), parse_id(event_id, "eventId"))
        except domain.DomainError as exc:
            yield to_graphql_error(exc)
            return
        while True:
            event = await DrEventModel.get(id=event.id)
            yield await live_for(info, event)
            if event.state in service.OVER_STATES:
                return
            await asyncio.sleep(info.context.settings.dr_push_seconds)
