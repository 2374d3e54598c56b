"""``/healthz``: 200 when the database and Redis answer, 503 naming what does not."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import connections

CHECK_TIMEOUT_SECONDS = 2.0


async def _database() -> None:
    await connections.get("default").execute_query("SELECT 1")


async def healthz(request: Request) -> JSONResponse:
    checks = {"database": _database(), "redis": request.app.state.redis.ping()}
    results = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)
            results[name] = "ok"
        except Exception as exc:  # any failure means unhealthy; the reason is reported
            results[name] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in results.values())
    return JSONResponse({"status": "ok" if healthy else "unavailable", "checks": results},
                        status_code=200 if healthy else 503)
