"""On-device ledger verification against the real backend: an honest answer verifies, a tampered
server answer (proof, checkpoint, consistency) or a tampered entry fails, loudly."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest

from mobile import ledger_verify as lv
from mobile.api.client import GraphQLClient
from mobile.api.tokens import TokenStore
from mobile.outbox import Outbox
from mobile.verifying import FAILED, LAST_CHECKPOINT, VERIFIED, verify_entry
from tests.mobile.server import Backend


STUDENT2 = ("student2@demo.pvpp.kr", "demo-Student-2!")


class Tampering(httpx.AsyncBaseTransport):
    """Passes requests to the real server and rewrites the answer of one operation."""

    def __init__(self, operation: str, rewrite) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.operation, self.rewrite = operation, rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if self.operation.encode() in request.content:
            data = json.loads(body)
            self.rewrite(next(iter(data["data"].values())))
            body = json.dumps(data).encode()
        return httpx.Response(response.status_code, headers={"content-type": "application/json"}, content=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


def flip(hex_text: str) -> str:
    return hex_text[:-1] + ("0" if hex_text[-1] != "0" else "1")


async def award(client: GraphQLClient, kind: str, params: dict) -> None:
    import uuid

    await client.call("LogActivity", "logActivity", {"input": {
        "idempotencyKey": str(uuid.uuid4()), "activityType": kind, "occurredOn": date.today().isoformat(),
        "params": params}})


async def test_verified_tampered_and_consistency(backend: Backend, tmp_path: Path) -> None:
    tokens = TokenStore(tmp_path / "session.json")
    honest = GraphQLClient(backend.url, tokens)
    store = Outbox(tmp_path / "outbox.sqlite3")
    try:
        await honest.sign_in(*STUDENT2)
        await award(honest, "gaming_reduced", {"device": "console", "hours": "2"})
        backend.publish_checkpoint()
        key = backend.verifier_key()
        line = (await honest.call("Wallet", "wallet", {"historyLimit": 5}))["history"][0]

        ok = await verify_entry(honest, store, key, line)
        assert ok.state == VERIFIED, ok
        assert ok.origin == "peoples-vpp.local/ledger" and ok.tree_size >= line["seq"] + 1
        remembered = store.kv_get(LAST_CHECKPOINT)
        assert lv.verify_checkpoint(remembered, key).size == ok.tree_size

        bad_leaf = dict(line, leafData=line["leafData"].replace('"amount":', '"amount": 1'))
        assert (await verify_entry(honest, store, key, bad_leaf)).state == FAILED

        def bad_path(proof):
            proof["path"] = [flip(proof["path"][0]), *proof["path"][1:]] if proof["path"] else ["00" * 32]

        def bad_note(proof):
            proof["checkpointNote"] = proof["checkpointNote"].replace("\n", "\n ", 1)

        def bad_root(proof):
            proof["rootHash"] = flip(proof["rootHash"])

        for rewrite in (bad_path, bad_note, bad_root):
            tampered = GraphQLClient(backend.url, tokens, transport=Tampering("LedgerInclusionProof", rewrite))
            outcome = await verify_entry(tampered, store, key, line)
            await tampered.aclose()
            assert outcome.state == FAILED, (rewrite.__name__, outcome)

        other_key = key.split("+")[0] + "+" + key.split("+")[1] + "+" + "A" * 43 + "="
        assert (await verify_entry(honest, store, other_key, line)).state == FAILED

        # the ledger grows; a newer checkpoint must extend the remembered one
        await award(honest, "standby_unplugged", {"devices": 1, "hours": "5"})
        backend.publish_checkpoint()

        def bad_consistency(proof):
            proof["path"] = [flip(p) for p in proof["path"]] or ["00" * 32]

        tampered = GraphQLClient(backend.url, tokens, transport=Tampering("LedgerConsistencyProof", bad_consistency))
        outcome = await verify_entry(tampered, store, key, line)
        await tampered.aclose()
        assert outcome.state == FAILED and store.kv_get(LAST_CHECKPOINT) == remembered

        newer = await verify_entry(honest, store, key, line)
        assert newer.state == VERIFIED and newer.tree_size > lv.verify_checkpoint(remembered, key).size
        assert lv.verify_checkpoint(store.kv_get(LAST_CHECKPOINT), key).size == newer.tree_size

        # a line whose shown amount differs from its signed leaf fails, and so does another holder's entry
        assert (await verify_entry(honest, store, key, dict(line, amount=line["amount"] + 1))).state == FAILED
        assert (await verify_entry(honest, store, key, line, account="someone-else")).state == FAILED
    finally:
        store.close()
        await honest.aclose()
