"""The real app in an offscreen window against a real backend: a student signs in, logs a saving
from the catalogue-generated form, sees it waiting and then accepted, and verifies the award."""

from __future__ import annotations

import pytest

from tests.mobile.driver import Driver, run_app
from tests.mobile.server import STUDENT, Backend

pytestmark = pytest.mark.slow


async def sign_in(d: Driver, who: tuple[str, str], button: str) -> None:
    await d.wait_screen("signin")
    await d.wait(lambda: hasattr(d.screen, "email"), 10, "the sign-in form")
    d.screen.email.text, d.screen.password.text = who
    d.press(button)


def test_student_logs_a_saving_in_korean_and_verifies_it(backend: Backend, data_dir) -> None:
    async def scenario(d: Driver) -> None:
        await sign_in(d, STUDENT, "로그인")
        await d.wait_loaded("home")
        assert d.shown("이번 달")
        assert d.shown("아낀 전기") and d.shown("포인트") and d.shown("NEIS 봉사시간")
        d.press("절약 기록하기")
        await d.wait_loaded("log")
        assert d.shown("무엇을 했나요?")
        d.press("게임 시간 줄이기")  # the Korean name from the server's catalogue
        await d.wait_text("하루 최대 1번")
        d.press("저장")
        assert d.shown("필수 항목이에요"), d.texts()  # nothing chosen yet: not queued
        assert d.app.outbox.waiting_count() == 0
        d.find("컴퓨터", cls=__import__("kivy.uix.togglebutton", fromlist=["ToggleButton"]).ToggleButton).state = "down"
        d.screen.inputs["hours"].text = "9"
        d.press("저장")
        assert d.shown("0에서 4 사이로 입력해 주세요"), d.texts()
        d.screen.inputs["hours"].text = "1.5"
        d.press("저장")
        await d.wait_screen("history")
        # the demo's older reports are shown accepted at once: wait for this one to be sent
        await d.wait(lambda: d.app.outbox.waiting_count() == 0, 30, "the report sent")
        await d.wait_text("인정됨", timeout=30)
        d.app.go("wallet")
        await d.wait_loaded("wallet")
        assert d.shown("내역")
        await d.settle()

    run_app(scenario, data_dir=data_dir, server=backend.url, lang="ko")

    backend.publish_checkpoint()
    key = backend.verifier_key()

    async def verify(d: Driver) -> None:
        await d.wait_screen("home")
        d.app.go("wallet")
        await d.wait_loaded("wallet")
        assert d.shown("내역")
        await d.settle()
        checks = [w for w in d.widgets() if getattr(w, "text", None) == "확인"]
        assert checks, d.texts()
        checks[0].dispatch("on_release")
        await d.wait_text("검증됨", timeout=30)
        assert d.shown("peoples-vpp.local/ledger"), d.texts()

    run_app(verify, data_dir=data_dir, server=backend.url, lang="ko", verifier_key=key)


def test_an_unwritable_data_directory_still_starts_and_says_so(backend: Backend, tmp_path) -> None:
    """Most field crashes of Kivy apps were an unwritable data directory: the app must still start."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")

    async def scenario(d: Driver) -> None:
        await d.wait(lambda: d.screen.loaded, 30, "sign-in")
        assert d.app.storage_problem and d.app.data_dir != blocker / "data"
        await d.wait_text("저장 공간에 쓸 수 없어요")
        await sign_in(d, STUDENT, "로그인")
        await d.wait_screen("home")

    run_app(scenario, data_dir=blocker / "data", server=backend.url, lang="ko")
