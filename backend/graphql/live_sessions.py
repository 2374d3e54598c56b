"""Subscriptions deliver only while the subscriber's session lives.

Every subscription field is wrapped so each value is sent only after the session is checked
again (:func:`backend.accounts.service.session_end_reason`): after sign-out, consent
withdrawal, account deletion or a role change nothing more is delivered and the
subscription completes. The WebSocket itself is then closed by the view's session watchdog.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from graphql import GraphQLSchema

from backend.accounts.service import session_end_reason

log = logging.getLogger("pvpp.graphql")


async def _while_session_lives(stream: AsyncIterator[Any], info: Any) -> AsyncIterator[Any]:
    try:
        async for value in stream:
            principal = info.context.principal
            if principal is not None and await session_end_reason(info.context.settings, principal) is not None:
                log.info("subscription %s ended with its session", info.field_name)
                return
            yield value
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


def _guard(subscribe: Callable[..., Any]) -> Callable[..., Any]:
    async def subscribe_checked(source: Any, info: Any, **kwargs: Any) -> Any:
        stream = subscribe(source, info, **kwargs)
        if inspect.isawaitable(stream):
            stream = await stream
        if not hasattr(stream, "__aiter__"):
            return stream
        return _while_session_lives(stream, info)

    return subscribe_checked


def end_subscriptions_with_sessions(schema: GraphQLSchema) -> list[str]:
    """Wrap every subscription field; returns their names."""
    if schema.subscription_type is None:
        return []
    for field in schema.subscription_type.fields.values():
        if field.subscribe is not None:
            field.subscribe = _guard(field.subscribe)
    return list(schema.subscription_type.fields)
