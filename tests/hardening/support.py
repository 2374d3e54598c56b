"""Helpers for hostile requests: JSON bodies with escapes httpx would refuse to encode."""

from __future__ import annotations

import json
from typing import Any

import httpx


async def post_json(client: httpx.AsyncClient, body: Any, token: str | None = None) -> httpx.Response:
    """POST ``body`` as ASCII JSON, so lone surrogates travel as ``\\ud800`` escapes."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return await client.post("/graphql", content=json.dumps(body, ensure_ascii=True).encode(), headers=headers)
