"""The GraphQL HTTP endpoint: authentication, body limits and fitting HTTP statuses.

- a malformed body, syntax error, unknown field, wrong variable type or a query over the
  depth/alias/token limits answers 400 with GraphQL ``errors`` (no data);
- a bad, expired or revoked bearer token answers 401 with ``WWW-Authenticate``;
- a body over ``PVPP_MAX_REQUEST_BYTES`` answers 413;
- every HTTP-level failure is JSON ``{"errors": [{"message", "extensions": {"code"}}]}``.

Subscriptions use WebSockets on the same path (graphql-transport-ws). A browser cannot set
headers on a WebSocket, so the client sends the same bearer token in the ``connection_init``
payload (``{"authorization": "Bearer <access token>"}``); a missing or bad one closes the
connection with 4403 before any operation runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cross_web import HTTPException
from graphql import ExecutionResult
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET

from backend.accounts.service import authenticate
from backend.errors import InvalidToken
from backend.graphql.context import Context
from backend.settings import Settings

log = logging.getLogger("pvpp.graphql")

_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
          413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 500: "INTERNAL_SERVER_ERROR"}


#: Room for the operations and map parts of a multipart request beside one photo.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": _CODES.get(status, "ERROR")}}]}
    return JSONResponse(body, status_code=status, headers=headers)


@dataclass
class WebSocketContext(Context):
    """The context of one WebSocket connection; strawberry fills ``connection_params`` from
    ``connection_init`` and :meth:`GraphQLView.on_ws_connect` signs the principal in."""

    connection_params: dict[str, Any] | None = None


class GraphQLView(GraphQL):
    """strawberry's ASGI view with the platform's context and error handling."""

    def __init__(self, schema: Any, settings: Settings, redis: Any) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None,
                         multipart_uploads_enabled=True)  # photo uploads (GraphQL multipart request spec)
        self.settings = settings
        self.redis = redis

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        request = None
        try:
            receive = self._limit_body(scope, receive)
            request = Request(scope=scope, receive=receive)
            response = await self.run(request)
        except HTTPError as e:
            response = error_response(e.status, e.message, e.headers)
        except HTTPException as e:
            response = error_response(e.status_code, e.reason)
        except Exception:
            log.exception("unhandled error in GraphQL request")
            response = error_response(500, "Unexpected server error.")
        finally:
            if request is not None:
                await request.close()  # closes uploaded files' temporary files (multipart)
        await response(scope, receive, send)

    def _limit_body(self, scope: Scope, receive: Receive) -> Receive:
        limit = self.settings.max_request_bytes
        if any(name == b"content-type" and value.lower().startswith(b"multipart/form-data")
               for name, value in scope.get("headers", ())):
            limit = self.settings.photo_max_upload_bytes + MULTIPART_OVERHEAD_BYTES
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise HTTPError(400, "Invalid Content-Length header.") from None
                if declared > limit:
                    raise HTTPError(413, f"The request body is larger than {limit} bytes.")
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPError(413, f"The request body is larger than {limit} bytes.")
            return message

        return limited

    async def on_ws_connect(self, context: Context) -> Any:
        params = getattr(context, "connection_params", None) or {}
        header = params.get("authorization") or params.get("Authorization")
        scheme, _, token = str(header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ConnectionRejectionError({"message": "Send 'authorization: Bearer <access token>' in connection_init."})
        try:
            context.principal = await authenticate(self.settings, token.strip())
        except InvalidToken:
            raise ConnectionRejectionError({"message": "The access token is invalid, expired or revoked."}) from None
        if context.principal.user is not None:
            context.loaders.user.prime(context.principal.user_id, context.principal.user)
        return UNSET

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        if request.scope["type"] == "websocket":
            return WebSocketContext(request=request, response=response, settings=self.settings,
                                    redis=self.redis, principal=None)
        principal = None
        header = request.headers.get("authorization")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise HTTPError(401, "Use 'Authorization: Bearer <access token>'.",
                                {"WWW-Authenticate": 'Bearer error="invalid_request"'})
            try:
                principal = await authenticate(self.settings, token.strip())
            except InvalidToken as e:
                raise HTTPError(401, e.message, {"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
        request.state.principal = principal
        context = Context(request=request, response=response, settings=self.settings,
                          redis=self.redis, principal=principal)
        if principal is not None and principal.user is not None:
            context.loaders.user.prime(principal.user_id, principal.user)
        return context

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute_single(*args, **kwargs)
        kwargs["sub_response"].status_code = status_for(result)
        return result


def status_for(result: ExecutionResult) -> int | None:
    """400 for a request that never ran, 401 when only sign-in was missing, else 200."""
    if not result.errors:
        return None
    if result.data is None and all(e.path is None for e in result.errors):
        return 400
    if all((e.extensions or {}).get("code") == "UNAUTHENTICATED" for e in result.errors):
        return 401
    return None
