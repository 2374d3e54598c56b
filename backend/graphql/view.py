"""The GraphQL HTTP endpoint: authentication, body limits and fitting HTTP statuses.

- a malformed body, syntax error, unknown field, wrong variable type or a query over the
  depth/alias/token limits answers 400 with GraphQL ``errors`` (no data);
- a bad, expired or revoked bearer token answers 401 with ``WWW-Authenticate``;
- a body over ``PVPP_MAX_REQUEST_BYTES`` answers 413;
- every HTTP-level failure is JSON ``{"errors": [{"message", "extensions": {"code"}}]}``.

Subscriptions use WebSockets on the same path (graphql-transport-ws). A browser cannot set
headers on a WebSocket, so the client sends the same bearer token in the ``connection_init``
payload (``{"authorization": "Bearer <access token>"}``); a missing or bad one closes the
connection with 4403 before any operation runs. While the connection is open its session is
checked every ``PVPP_WS_SESSION_CHECK_SECONDS``: once it ends (sign-out, consent withdrawn,
account deleted, role or scope changed) the connection is closed with 4403.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cross_web import HTTPException
from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET

from backend.accounts.service import authenticate, session_end_reason
from backend.errors import InvalidToken
from backend.graphql.context import Context
from backend.outages import SERVICE_UNAVAILABLE_MESSAGE, is_outage
from backend.settings import Settings

log = logging.getLogger("pvpp.graphql")

_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
          413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 500: "INTERNAL_SERVER_ERROR",
          503: "SERVICE_UNAVAILABLE"}
#: Seconds a client is asked to wait when PostgreSQL or Redis is unreachable.
RETRY_AFTER_SECONDS = 5


#: Room for the operations and map parts of a multipart request beside one photo.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
#: Deepest accepted JSON nesting of a request body (variables included); real ones need < 10.
MAX_JSON_DEPTH = 32


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def encode_json(data: object) -> bytes:
    """JSON as ASCII, so a lone surrogate echoed in a message is escaped rather than unencodable."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": _CODES.get(status, "ERROR")}}]}
    return Response(encode_json(body), status_code=status, headers=headers, media_type="application/json")


def json_depth(value: object) -> int:
    """Nesting depth of decoded JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in item)
    return deepest


@lru_cache(maxsize=1_000)
def operation_to_run(query: str, operation_name: str | None, max_tokens: int) -> OperationType | None:
    """The type of the operation a request would run; ``None`` when the document does not
    parse (the schema reports that). Raises HTTPError for a document that names no single
    operation."""
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return None
    except RecursionError:
        raise HTTPError(400, "The GraphQL document is nested too deeply.") from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) > 1:
            raise HTTPError(400, "The document has several operations: name one with operationName.")
        return operations[0].operation if operations else None
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation.operation
    raise HTTPError(400, f"The document has no operation named '{operation_name[:100]}'.")


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
        except StarletteHTTPException as e:  # e.g. Starlette's own multipart parse errors
            response = error_response(e.status_code if e.status_code < 500 else 400, str(e.detail))
        except Exception as e:
            if is_outage(e):  # e.g. the session lookup of the bearer token
                log.warning("service unavailable: %s", type(e).__name__)
                response = error_response(503, SERVICE_UNAVAILABLE_MESSAGE,
                                          {"Retry-After": str(RETRY_AFTER_SECONDS)})
            else:
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

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        return encode_json(data)

    def decode_json(self, data: str | bytes) -> object:
        """A JSON object (the body, or a multipart request's operations and map) of bounded depth."""
        try:
            value = json.loads(data)
        except RecursionError:
            raise HTTPError(400, "The request body is nested too deeply.") from None
        except ValueError:  # JSONDecodeError, or bytes that are not UTF-8
            raise HTTPError(400, "Unable to parse request body as JSON.") from None
        if not isinstance(value, dict):
            raise HTTPError(400, "A GraphQL request is a JSON object with a 'query'.")
        if json_depth(value) > MAX_JSON_DEPTH:
            raise HTTPError(400, f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.")
        return value

    async def parse_http_body(self, request: Any) -> Any:
        try:
            return await super().parse_http_body(request)
        except (HTTPError, HTTPException, StarletteHTTPException):
            raise
        except Exception as e:  # the multipart parser's and upload mapping's own failures
            log.info("unparsable GraphQL request body: %s", type(e).__name__)
            raise HTTPError(400, "Unable to parse the request body.") from None

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
        task = asyncio.get_running_loop().create_task(self._watch_session(context.request, context.principal))
        _watchdogs.add(task)
        task.add_done_callback(_watchdogs.discard)
        return UNSET

    async def _watch_session(self, websocket: WebSocket, principal: Any) -> None:
        """Close the connection (4403) within ``ws_session_check_seconds`` of the session
        ending: sign-out, consent withdrawn, account deleted, role or scope changed."""
        while _open(websocket):
            await asyncio.sleep(self.settings.ws_session_check_seconds)
            if not _open(websocket):
                return
            try:
                reason = await session_end_reason(self.settings, principal)
            except Exception as e:  # an outage: keep the connection, ask again next time
                log.warning("could not check a WebSocket session: %s", type(e).__name__)
                continue
            if reason is not None:
                log.info("closing a WebSocket whose session ended")
                try:
                    await websocket.close(code=4403, reason=reason[:120])
                except RuntimeError:  # closed meanwhile
                    pass
                return

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
        data = kwargs["request_data"]
        if isinstance(data.query, str):
            name = data.operation_name if isinstance(data.operation_name, str) else None
            if operation_to_run(data.query, name, self.settings.graphql_max_tokens) == OperationType.SUBSCRIPTION:
                raise HTTPError(400, "Subscriptions run over a WebSocket (graphql-transport-ws), not HTTP.")
        result = await super().execute_single(*args, **kwargs)
        kwargs["sub_response"].status_code = status_for(result)
        return result


#: Running session watchdogs (kept referenced until they finish).
_watchdogs: set[asyncio.Task] = set()


def _open(websocket: WebSocket) -> bool:
    return (websocket.client_state is not WebSocketState.DISCONNECTED
            and websocket.application_state is not WebSocketState.DISCONNECTED)


def status_for(result: ExecutionResult) -> int | None:
    """400 for a request that never ran, 401 when only sign-in was missing, 503 when only an
    outage stopped it, else 200."""
    if not result.errors:
        return None
    if all((e.extensions or {}).get("code") == "SERVICE_UNAVAILABLE" for e in result.errors):
        return 503
    if result.data is None and all(e.path is None for e in result.errors):
        return 400
    if all((e.extensions or {}).get("code") == "UNAUTHENTICATED" for e in result.errors):
        return 401
    return None
