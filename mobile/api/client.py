"""GraphQL client on ``httpx.AsyncClient``: operations from ``operations/*.graphql``, token refresh.

A request that answers 401, or a result that is ``InvalidToken``, refreshes the session once and
is sent again; if that fails too, :class:`SignInRequired`. Network trouble and 5xx are
:class:`NetworkError` / :class:`ServerError` (retry later); typed union errors are :class:`Rejected`.
"""

from __future__ import annotations

import asyncio
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

from mobile.api.errors import NetworkError, Rejected, ServerError, SignInRequired
from mobile.api.tokens import TokenStore

OPERATIONS = Path(__file__).parent / "operations"


@cache
def document(name: str) -> str:
    """The text of ``operations/<name>.graphql`` plus the fragments it names."""
    text = (OPERATIONS / f"{name}.graphql").read_text()
    for fragment in sorted(OPERATIONS.glob("_*.graphql")):
        spread = "..." + fragment.stem.lstrip("_")
        if spread in text:
            text += "\n" + fragment.read_text()
    return text


def _typed_error(result: Any) -> Rejected | None:
    if isinstance(result, dict) and "message" in result and "__typename" in result:
        details = {k: v for k, v in result.items() if k not in ("__typename", "message")}
        return Rejected(result["__typename"], result["message"], details)
    return None


class GraphQLClient:
    def __init__(self, base_url: str, tokens: TokenStore, timeout: float = 15.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        import httpx  # imported with the first client, not at start-up (it costs a few hundred ms)

        self._httpx = httpx
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, trust_env=False)
        self._refresh_lock = asyncio.Lock()

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/graphql"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, name: str, variables: dict[str, Any], files: dict[str, Any] | None,
                    auth: bool) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.tokens.tokens.access}"} if auth and self.tokens.tokens.access else {}
        payload = {"query": document(name), "variables": variables, "operationName": None}
        try:
            if files:
                ops = dict(payload, variables={**variables, **{k: None for k in files}})
                mapping = {str(i): [f"variables.{k}"] for i, k in enumerate(files)}
                parts = {str(i): files[k] for i, k in enumerate(files)}
                return await self._http.post(self.endpoint, headers=headers, files=parts,
                                             data={"operations": json.dumps(ops), "map": json.dumps(mapping)})
            return await self._http.post(self.endpoint, headers=headers, json=payload)
        except (self._httpx.TransportError, OSError) as exc:
            raise NetworkError(str(exc) or type(exc).__name__) from exc

    def _data(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 500:
            raise ServerError(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise ServerError(f"HTTP {response.status_code}: not JSON") from None
        if response.status_code != 200:
            message = (body.get("errors") or [{}])[0].get("message", "") if isinstance(body, dict) else ""
            raise Rejected(f"HTTP{response.status_code}", message or f"HTTP {response.status_code}")
        if body.get("errors") or body.get("data") is None:
            raise ServerError("; ".join(e.get("message", "") for e in body.get("errors") or []) or "no data")
        return body["data"]

    async def refresh(self) -> None:
        """Swap the refresh token for new tokens; SignInRequired when refused."""
        token = self.tokens.tokens.refresh
        if not token:
            raise SignInRequired("not signed in")
        async with self._refresh_lock:
            if self.tokens.tokens.refresh != token:  # another request refreshed meanwhile
                return
            response = await self._post("RefreshSession", {"refreshToken": token}, None, auth=False)
            result = self._data(response)["refreshSession"]
            if result["__typename"] != "AuthPayload":
                self.tokens.clear()
                raise SignInRequired(result.get("message", "session ended"))
            self.tokens.save(result["accessToken"], result["refreshToken"])

    async def execute(self, name: str, variables: dict[str, Any] | None = None,
                      files: dict[str, Any] | None = None, auth: bool = True) -> dict[str, Any]:
        """Run an operation; refresh once on 401 or an ``InvalidToken`` result; raise typed errors."""
        variables = variables or {}
        for attempt in (1, 2):
            response = await self._post(name, variables, files, auth)
            if response.status_code == 401 and auth:
                if attempt == 2:
                    self.tokens.clear()
                    raise SignInRequired("the server refused the session")
                await self.refresh()
                continue
            data = self._data(response)
            invalid = any(isinstance(v, dict) and v.get("__typename") == "InvalidToken" for v in data.values())
            if invalid and auth and attempt == 1 and name != "RefreshSession":
                await self.refresh()
                continue
            return data
        raise SignInRequired("the server refused the session")

    async def call(self, name: str, field: str, variables: dict[str, Any] | None = None,
                   files: dict[str, Any] | None = None, auth: bool = True) -> dict[str, Any]:
        """Run an operation and return its ``field``; a typed union error raises :class:`Rejected`."""
        result = (await self.execute(name, variables, files, auth))[field]
        if (error := _typed_error(result)) is not None:
            raise error
        return result

    async def fetch(self, path: str) -> bytes:
        """GET a path of the server (a signed photo URL); NetworkError / ServerError / Rejected."""
        url = path if "://" in path else f"{self.base_url}{path}"
        try:
            response = await self._http.get(url)
        except (self._httpx.TransportError, OSError) as exc:
            raise NetworkError(str(exc) or type(exc).__name__) from exc
        if response.status_code >= 500:
            raise ServerError(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise Rejected(f"HTTP{response.status_code}", f"HTTP {response.status_code}")
        return response.content

    async def sign_in(self, email: str, password: str) -> dict[str, Any]:
        result = await self.call("SignIn", "signIn", {"email": email, "password": password}, auth=False)
        self.tokens.save(result["accessToken"], result["refreshToken"])
        return result["user"]

    async def sign_out(self) -> None:
        try:
            if self.tokens.tokens.access:
                await self.execute("SignOut")
        finally:
            self.tokens.clear()
