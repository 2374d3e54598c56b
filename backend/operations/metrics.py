"""Prometheus metrics: request counts and latencies per route, served at ``/metrics``."""

from __future__ import annotations

import time

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "pvpp_http_requests_total", "HTTP requests by route, method and status.",
    ["route", "method", "status"], registry=REGISTRY,
)
LATENCY = Histogram(
    "pvpp_http_request_duration_seconds", "HTTP request latency by route.", ["route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5), registry=REGISTRY,
)
access_log = structlog.get_logger("pvpp.access")
KNOWN_ROUTES = frozenset({"/graphql", "/healthz", "/metrics", "/"})


class MetricsMiddleware:
    """Counts and times every HTTP request, and writes one access-log line for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope["path"] if scope["path"] in KNOWN_ROUTES else "other"
            REQUESTS.labels(route, scope["method"], str(status)).inc()
            LATENCY.labels(route).observe(elapsed)
            principal = getattr(scope.get("state", {}).get("principal"), "pseudonym", None)
            if route != "/metrics":
                access_log.info(
                    "request", method=scope["method"], path=scope["path"], status=status,
                    duration_ms=round(elapsed * 1000, 2), user=str(principal) if principal else None,
                )


async def metrics_endpoint(request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
