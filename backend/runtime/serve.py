"""``pvpp serve``: the API under uvicorn."""

from __future__ import annotations

import uvicorn

from backend.app import redis_client
from backend.operations.logs import configure_logging
from backend.settings import Settings


def serve(settings: Settings, workers: int = 1) -> int:
    configure_logging(settings.log_level, settings.log_format)
    redis_client(settings)  # fail early, naming PVPP_REDIS_URL, before uvicorn starts
    uvicorn.run(
        "backend.app:app_factory", factory=True, host=settings.host, port=settings.port,
        workers=workers, log_config=None, access_log=False, proxy_headers=False,
    )
    return 0
