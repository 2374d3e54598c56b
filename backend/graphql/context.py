"""The typed per-request context: who is asking, their loaders and shared services."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as _Info

from backend.accounts.principal import Principal
from backend.graphql.loaders import Loaders
from backend.settings import Settings


@dataclass
class Context:
    request: Request
    response: Response
    settings: Settings
    redis: Redis
    principal: Principal | None
    loaders: Loaders = field(default_factory=Loaders)

    @property
    def client_address(self) -> str:
        return self.request.client.host if self.request.client else "unknown"


Info = _Info[Context, None]
