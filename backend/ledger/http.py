"""Plain-text ledger endpoints for verifier tooling: the latest signed checkpoint and the key."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from backend.ledger.checkpoints import latest_checkpoint, ledger_key


async def checkpoint_endpoint(request: Request) -> PlainTextResponse:
    checkpoint = await latest_checkpoint()
    if checkpoint is None:
        return PlainTextResponse("no checkpoint has been published yet\n", status_code=404)
    return PlainTextResponse(checkpoint.note, headers={"Cache-Control": "no-cache"})


async def verifier_key_endpoint(request: Request) -> PlainTextResponse:
    return PlainTextResponse(ledger_key(request.app.state.settings).verifier_key + "\n")
