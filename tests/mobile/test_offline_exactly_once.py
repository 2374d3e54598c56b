"""Offline first, exactly once: actions queued with the server down, the app killed after the
server committed (before the app heard), the server back, the app restarted: one activity, one
photo and one ledger award each."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from mobile.api.tokens import TokenStore
from mobile.outbox import Outbox
from tests.mobile.driver import Driver, run_app
from tests.mobile.proxy import HoldingProxy
from tests.mobile.server import REPO_ROOT, STUDENT, Backend

pytestmark = pytest.mark.slow

ACTIVITIES = "{ activities(limit: 200) { ... on ActivityList { items { id activityType status points } } } }"
WALLET = "{ wallet(historyLimit: 500) { ... on Wallet { points history { seq kind amount asset } } } }"


@pytest.fixture
def own_backend(tmp_path: Path):
    server = Backend(tmp_path / "server").setup()
    try:
        yield server
    finally:
        server.close()


def photo(path: Path) -> Path:
    image = Image.new("RGB", (640, 480))
    for x in range(0, 640, 40):
        for y in range(0, 480, 40):
            image.paste(((x * 7) % 255, (y * 3) % 255, (x + y) % 255), (x, y, x + 40, y + 40))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    path.write_bytes(buf.getvalue())
    return path


def start_app(data_dir: Path, server: str, log: Path) -> subprocess.Popen:
    env = dict(os.environ, PVPP_APP_DATA_DIR=str(data_dir), PVPP_APP_SERVER=server, PVPP_APP_LANG="ko",
               PVPP_APP_SYNC_SECONDS="0.3")
    with log.open("ab") as sink:
        return subprocess.Popen([sys.executable, "-m", "mobile"], cwd=REPO_ROOT, env=env,
                                stdout=sink, stderr=subprocess.STDOUT)


def waiting(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "outbox.sqlite3") as db:
        return db.execute("SELECT count(*) FROM actions WHERE state = 'waiting'").fetchone()[0]


def test_killed_mid_send_gives_exactly_one_of_each(own_backend: Backend, data_dir: Path, tmp_path: Path) -> None:
    server = own_backend
    token = server.token(STUDENT)
    before = server.graphql(WALLET, token=token)["wallet"]
    earlier = {a["id"] for a in server.graphql(ACTIVITIES, token=token)["activities"]["items"]}  # demo history
    photo_file = photo(tmp_path / "evidence.jpg")

    # 1. Signed in, then the server goes away; the student logs two savings, one with a photo.
    async def sign_in(d: Driver) -> None:
        await d.wait(lambda: hasattr(d.screen, "email"), 10, "form")
        d.screen.email.text, d.screen.password.text = STUDENT
        d.press("로그인")
        await d.wait_screen("home")
        await d.app.types()

    run_app(sign_in, data_dir=data_dir, server=server.url)
    server.stop()

    async def offline(d: Driver) -> None:
        d.app.go("log")
        await d.wait_loaded("log")
        d.press("스마트폰 충전 줄이기")
        d.screen.inputs["charges"].text = "1"
        d.press("저장")
        await d.wait_screen("history")
        d.app.go("log")
        await d.wait_loaded("log")
        d.press("전기 낭비 현장 찾기(인증 사진)")
        from kivy.uix.togglebutton import ToggleButton

        d.find("켜 둔 기기", cls=ToggleButton).state = "down"
        d.screen.photo.text = str(photo_file)
        d.press("저장")
        await d.wait_screen("history")
        await d.wait(lambda: d.app.connection == "offline", 20, "offline")
        await d.wait_text("전송 대기 중")
        assert d.app.outbox.waiting_count() == 3

    run_app(offline, data_dir=data_dir, server=server.url)
    stored = list((data_dir / "outbox_photos").iterdir())
    assert len(stored) == 1  # the photo stays on the device until acknowledged

    server.start()
    log = tmp_path / "app.log"
    # 2. The app sends the first report; the server commits it; the app is killed before the answer.
    for hold in (b"LogActivity", b"UploadActivityPhoto"):
        with HoldingProxy(server.port, hold) as proxy:
            app = start_app(data_dir, proxy.url, log)
            try:
                assert proxy.held.wait(60), log.read_text()[-3000:]
                time.sleep(0.2)
            finally:
                app.send_signal(signal.SIGKILL)
                app.wait(10)

    assert waiting(data_dir) >= 1

    # 3. Restarted against the server: everything is sent, replays are recognised.
    app = start_app(data_dir, server.url, log)
    try:
        deadline = time.monotonic() + 60
        while waiting(data_dir):
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
    finally:
        app.send_signal(signal.SIGTERM)
        app.wait(10)

    outbox = Outbox(data_dir / "outbox.sqlite3")
    try:
        states = [(a.kind, a.state) for a in outbox.actions()]
        assert states == [("log_activity", "done"), ("log_activity", "done"), ("upload_photo", "done")], states
        replays = [a.result.get("replayed") for a in outbox.actions()]
    finally:
        outbox.close()
    assert True in replays  # at least one action's first answer was lost and replayed
    assert not list((data_dir / "outbox_photos").iterdir())  # deleted only after the acknowledgement

    items = [a for a in server.graphql(ACTIVITIES, token=token)["activities"]["items"] if a["id"] not in earlier]
    kinds = sorted(a["activityType"] for a in items)
    assert kinds.count("phone_charging_reduced") == 1 and kinds.count("waste_found") == 1, kinds
    after = server.graphql(WALLET, token=token)["wallet"]
    new_lines = [line for line in after["history"] if line["seq"] not in {x["seq"] for x in before["history"]}]
    charging = next(a for a in items if a["activityType"] == "phone_charging_reduced")
    assert [line["amount"] for line in new_lines if line["asset"] == "points"] == [charging["points"]], new_lines
    assert after["points"] == before["points"] + charging["points"]
    waste = next(a for a in items if a["activityType"] == "waste_found")
    with sqlite3.connect(server.var_dir / "pvpp.sqlite3") as db:
        photos = db.execute("SELECT count(*) FROM photo WHERE activity_id = ?", (int(waste["id"]),)).fetchone()[0]
    assert photos == 1
