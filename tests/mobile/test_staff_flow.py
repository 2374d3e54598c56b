"""The real app against the real backend, in Korean: a teacher lands on the staff home and decides a
photo; an officer lands on the counter and redeems a student's code (typed, and as a QR photo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobile.widgets.qr import qr_png
from tests.mobile.driver import Driver, run_app
from tests.mobile.server import OFFICER, STUDENT2, TEACHER, Backend
from tests.mobile.test_student_flow import sign_in
from tests.mobile.tour import coin_code, give_coins

pytestmark = pytest.mark.slow

PHOTO_QUERY = "query($id: ID!){ photo(id: $id){ __typename ... on Photo { status statusReason } } }"
COINS_QUERY = "{ wallet { ... on Wallet { coins { won } } } }"


def test_teacher_rejects_a_photo_with_a_reason(backend: Backend, data_dir: Path) -> None:
    decided: dict[str, str] = {}

    async def scenario(d: Driver) -> None:
        await sign_in(d, TEACHER, "로그인")
        await d.wait_screen("staff")
        await d.wait(lambda: d.screen.loaded, 30, "the staff home")
        assert d.shown("확인할 사진") and d.shown("학급 순위"), d.texts()
        assert d.screen.photo_cards, "the demo's teacher has photos to check"
        photo_id, card = next(iter(d.screen.photo_cards.items()))
        assert any(t.startswith("신청: ") for t in d.texts()) and d.shown("자동 분류: "), d.texts()
        thumb = card.thumb
        await d.wait(lambda: thumb.texture is not None and thumb.texture.width > 0, 30, "the thumbnail")
        reject = [w for w in card.walk(restrict=True) if getattr(w, "text", None) == "거절"][0]
        reject.dispatch("on_release")  # no reason yet: refused on the phone, nothing sent
        await d.wait(lambda: d.screen.status_text == "거절 사유를 적어 주세요.", 10, "reason needed")
        card.reason.text = "사진에 불이 꺼져 있어요"
        reject.dispatch("on_release")
        await d.wait(lambda: d.screen.status_text == "거절했어요." and photo_id not in d.screen.photo_cards,
                     30, "the photo leaves the queue")
        decided["id"] = photo_id

    run_app(scenario, data_dir=data_dir, server=backend.url, lang="ko")
    photo = backend.graphql(PHOTO_QUERY, {"id": decided["id"]}, token=backend.token(TEACHER))["photo"]
    assert photo["status"] == "REJECTED", photo


def test_officer_redeems_a_students_code_typed_and_as_a_qr_photo(backend: Backend, data_dir: Path,
                                                                  tmp_path: Path) -> None:
    assert give_coins(backend, STUDENT2, 5000)
    student = backend.token(STUDENT2)
    before = sum(c["won"] for c in backend.graphql(COINS_QUERY, token=student)["wallet"]["coins"])
    typed = coin_code(backend, STUDENT2, 1200)
    photo = tmp_path / "qr.png"
    photo.write_bytes(qr_png(coin_code(backend, STUDENT2, 800)))

    async def scenario(d: Driver) -> None:
        await sign_in(d, OFFICER, "로그인")
        await d.wait_screen("counter")
        await d.wait(lambda: d.screen.loaded, 30, "the counter")
        assert d.shown("오늘 사용 처리 내역") and d.shown("지역화폐 사업") and d.shown("미사용 잔액"), d.texts()
        d.press("코드 확인")
        await d.wait_text("코드를 입력하거나 코드 사진을 골라 주세요.")
        d.screen.code_field.text = "not-a-code"
        d.press("코드 확인")
        await d.wait_text("지역화폐 코드가 아니에요")
        d.screen.code_field.text = typed.lower().replace("-", " ")  # as read aloud or typed sloppily
        d.screen.code_field.dispatch("on_text_validate")  # Enter checks it
        await d.wait_text("소지자 참조번호")
        assert d.shown("1,200원"), d.texts()
        d.press("확인: 1,200원 사용 처리")
        await d.wait_text("1,200원 사용 처리했어요.")
        assert d.shown("1건 사용 처리"), d.texts()
        d.screen.code_field.text = typed  # the same code again: already used
        d.press("코드 확인")
        await d.wait_text("이미 사용한 코드예요.")
        assert not any(t.startswith("확인: ") for t in d.texts())
        d.press("QR 코드 사진 고르기")
        popup = d.screen.chooser_popup
        assert popup.title == "QR 코드 사진" and popup.parent is not None
        popup.content.dispatch("on_submit", [str(photo)], None)  # the officer double-taps the file
        await d.wait(lambda: popup.parent is None, 10, "the chooser closed")
        await d.wait_text("확인: 800원 사용 처리")
        d.press("확인: 800원 사용 처리")
        await d.wait_text("800원 사용 처리했어요.")
        assert d.shown("2건 사용 처리, 합계 2,000원"), d.texts()

    run_app(scenario, data_dir=data_dir, server=backend.url, lang="ko")
    after = sum(c["won"] for c in backend.graphql(COINS_QUERY, token=student)["wallet"]["coins"])
    assert before - after == 2000
