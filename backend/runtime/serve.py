"""``pvpp serve``: the API under uvicorn."""

from __future__ import annotations

import os

import uvicorn

from backend.app import redis_client
from backend.operations.logs import configure_logging
from backend.settings import Settings


def default_workers(settings: Settings) -> int:
    """One worker process per core on PostgreSQL; one on SQLite (a single writer)."""
    if settings.resolved_database_url.startswith("sqlite"):
        return 1
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def serve(settings: Settings, workers: int | None = None) -> int:
    workers = workers or default_workers(settings)
    configure_logging(settings.log_level, settings.log_format)
    redis_client(settings)  # fail early, naming PVPP_REDIS_URL, before uvicorn starts
    uvicorn.run(
        "backend.app:app_factory", factory=True, host=settings.host, port=settings.port,
        workers=workers, log_config=None, access_log=False, proxy_headers=False,
    )
    return 0
