"""The outbox and the client against the real backend: order, backoff on network errors and 5xx,
typed rejections recorded and never retried, one refresh on 401, photos waiting for their activity."""

from __future__ import annotations

import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mobile.api.client import GraphQLClient
from mobile.api.errors import SignInRequired
from mobile.api.tokens import TokenStore
from mobile.i18n import set_language
from mobile.messages import rejection
from mobile.outbox import DONE, REJECTED, WAITING, Outbox
from tests.mobile.server import STUDENT, Backend, free_port

TODAY = date.today().isoformat()


class Failing(BaseHTTPRequestHandler):
    """A real HTTP server that answers every POST with 503."""

    hits = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        type(self).hits += 1
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(503)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def failing_server():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def outbox(tmp_path: Path):
    box = Outbox(tmp_path / "outbox.sqlite3", retry_base=30)
    try:
        yield box
    finally:
        box.close()


async def signed_in(backend: Backend, tmp_path: Path) -> GraphQLClient:
    client = GraphQLClient(backend.url, TokenStore(tmp_path / "session.json"))
    await client.sign_in(*STUDENT)
    return client


async def test_typed_rejections_are_recorded_and_never_retried(backend: Backend, outbox: Outbox, tmp_path: Path) -> None:
    client = await signed_in(backend, tmp_path)
    try:
        bad = outbox.add("log_activity", {"activityType": "gaming_reduced", "occurredOn": TODAY,
                                          "params": {"device": "pc", "hours": "99"}})
        first = outbox.add("log_activity", {"activityType": "standby_unplugged", "occurredOn": TODAY,
                                            "params": {"devices": 2, "hours": "8"}})
        again = outbox.add("log_activity", {"activityType": "standby_unplugged", "occurredOn": TODAY,
                                            "params": {"devices": 3, "hours": "8"}})
        report = await outbox.flush(client)
        assert (report.sent, report.rejected) == (1, 2)
        assert outbox.get(bad).state == REJECTED and outbox.get(bad).last_error["typename"] == "ValidationFailed"
        assert outbox.get(first).state == DONE and outbox.get(first).result["replayed"] is False
        capped = outbox.get(again)
        assert capped.state == REJECTED and capped.last_error["details"]["limit"] == "daily_cap"
        set_language("ko")
        assert rejection(capped.last_error) == "오늘은 이 활동을 이미 최대한 기록했어요."
        set_language("en")
        assert rejection(capped.last_error) == "You already logged this as often as allowed today."
        assert (await outbox.flush(client, force=True)).sent == 0  # nothing is sent again
        assert outbox.waiting_count() == 0
    finally:
        await client.aclose()


async def test_network_errors_back_off_and_keep_the_order(backend: Backend, outbox: Outbox, tmp_path: Path) -> None:
    tokens = TokenStore(tmp_path / "session.json")
    down = GraphQLClient(f"http://127.0.0.1:{free_port()}", tokens)
    first = outbox.add("convert_points", {"target": "MILEAGE", "points": 1})
    second = outbox.add("convert_mileage", {})
    tokens.save("x", "y")
    report = await outbox.flush(down)
    assert report.stopped_by == "NetworkError" and report.sent == 0
    action = outbox.get(first)
    assert action.state == WAITING and action.attempts == 1 and action.next_attempt_at > time.time()
    assert outbox.get(second).attempts == 0  # the order is kept: the second waits for the first
    assert (await outbox.flush(down)).stopped_by == "backoff"  # not before its time
    assert outbox.get(first).attempts == 1
    await down.aclose()


async def test_server_errors_are_retried_later(failing_server: str, outbox: Outbox, tmp_path: Path) -> None:
    tokens = TokenStore(tmp_path / "session.json")
    tokens.save("access", "refresh")
    client = GraphQLClient(failing_server, tokens)
    key = outbox.add("convert_mileage", {})
    before = Failing.hits
    for expected in (1, 2):
        report = await outbox.flush(client, force=True)
        assert report.stopped_by == "ServerError"
        assert outbox.get(key).attempts == expected and outbox.get(key).state == WAITING
    assert Failing.hits == before + 2
    await client.aclose()


async def test_401_refreshes_once_then_asks_to_sign_in(backend: Backend, outbox: Outbox, tmp_path: Path) -> None:
    client = await signed_in(backend, tmp_path)
    try:
        refresh = client.tokens.tokens.refresh
        client.tokens.save("not-a-token", refresh)
        me = await client.execute("Me")
        assert me["me"]["displayName"]
        assert client.tokens.tokens.refresh != refresh  # rotated by the one refresh
        client.tokens.save("not-a-token", "not-a-refresh-token")
        with pytest.raises(SignInRequired):
            await client.execute("Me")
        assert not client.tokens.signed_in
        assert not (tmp_path / "session.json").exists()
    finally:
        await client.aclose()


async def test_a_photo_of_a_rejected_activity_is_not_sent_and_is_deleted(backend: Backend, outbox: Outbox,
                                                                         tmp_path: Path) -> None:
    client = await signed_in(backend, tmp_path)
    picture = tmp_path / "p.jpg"
    picture.write_bytes(b"\xff\xd8 not really a jpeg")
    try:
        key, photo_key = outbox.add_activity("waste_found", TODAY, {"waste_kind": "not_a_kind"}, picture)
        stored = Path(outbox.get(photo_key).file)
        assert stored.exists() and picture.exists()
        await outbox.flush(client)
        assert outbox.get(key).state == REJECTED
        assert outbox.get(photo_key).state == REJECTED
        assert outbox.get(photo_key).last_error["typename"] == "DependencyRejected"
        assert not stored.exists()
    finally:
        await client.aclose()
