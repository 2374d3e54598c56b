"""The ASGI application: explicit routes, middleware and lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route, WebSocketRoute

from backend.db import close_db, init_db
from backend.graphql.schema import schema_for
from backend.graphql.view import GraphQLView, error_response
from backend.ledger.http import checkpoint_endpoint, verifier_key_endpoint
from backend.operations.health import healthz
from backend.operations.logs import configure_logging
from backend.operations.metrics import MetricsMiddleware, metrics_endpoint
from backend.photos.http import photo_file_endpoint
from backend.schools.verify_page import verify_page
from backend.settings import Settings, SettingsError, get_settings


def redis_client(settings: Settings) -> Redis:
    if not settings.redis_url:
        raise SettingsError("PVPP_REDIS_URL is not set (use 'pvpp run' for an embedded Redis)")
    # bounded waits: a Redis that hangs must become ServiceUnavailable, not a stuck request
    return Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)


async def _root(request: Request) -> RedirectResponse:
    return RedirectResponse("/graphql")


async def _not_found(request: Request, exc: Exception):
    return error_response(getattr(exc, "status_code", 404), "Not found.")


def create_app(settings: Settings | None = None, *, manage_db: bool = True) -> Starlette:
    """Build the app. ``manage_db=False`` leaves Tortoise start-up to the caller (tests)."""
    settings = settings or get_settings()
    redis = redis_client(settings)
    view = GraphQLView(schema_for(settings), settings, redis)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_db:
            await init_db(settings)
        try:
            yield
        finally:
            await redis.aclose()
            if manage_db:
                await close_db()

    app = Starlette(
        routes=[
            Route("/", _root),
            Route("/graphql", view),
            WebSocketRoute("/graphql", view),  # subscriptions (graphql-transport-ws)
            Route("/healthz", healthz),
            Route("/metrics", metrics_endpoint),
            Route("/ledger/checkpoint", checkpoint_endpoint),
            Route("/ledger/verifier-key", verifier_key_endpoint),
            Route("/photos/{photo_id:int}/{variant:str}", photo_file_endpoint),  # signed URLs only
            Route("/certificates/verify", verify_page),  # what a certificate's QR code opens
        ],
        middleware=[Middleware(MetricsMiddleware)],
        exception_handlers={404: _not_found, 405: _not_found},
        lifespan=lifespan,
    )
    app.state.redis = redis
    app.state.settings = settings
    return app


def app_factory() -> Starlette:
    """Entry point for uvicorn's ``--factory``."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
