"""Visit every screen of the app as a student, a parent, a teacher, a school admin and an officer,
optionally writing screenshots.

``python -m tests.mobile.tour docs/app`` starts a private backend (demo data), runs the tour in
Korean and English and writes ``docs/app/<lang>-<role>-<screen>.png``; ``--staff`` writes only the
teacher's, school admin's and officer's screens, on the small demo (``--full``: the default demo).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from tests.mobile.driver import Driver, run_app
from tests.mobile.server import FULL_DEMO, OFFICER, SMALL_DEMO, PARENT, STUDENT, STUDENT2, TEACHER, Backend

SIGN_IN = {"ko": "로그인", "en": "Sign in"}
ADMIN = ("schooladmin@demo.pvpp.kr", "demo-Admin-1!")
NOMINATION_CATEGORY = {"ko": "saving", "en": "waste_reporting"}


class Tour:
    def __init__(self, lang: str, out: Path | None, coins: bool = False) -> None:
        self.lang, self.out, self.seen, self.coins = lang, out, [], coins
        self.small_targets: list[tuple[str, str, list[str]]] = []
        self.gaps: list[tuple[str, str, list[str]]] = []
        self.backend: Backend | None = None
        self.redemption_code = ""

    async def shot(self, d: Driver, role: str, name: str, bottom: bool = False, show=None) -> None:
        await d.settle()
        self.seen.append((role, name, d.texts()))
        if small := d.small_targets():
            self.small_targets.append((role, name, small))
        if gaps := d.gaps():
            self.gaps.append((role, name, gaps))
        if self.out is not None:
            await d.screenshot(self.out / f"{self.lang}-{role}-{name}.png", bottom=bottom, show=show)

    async def student(self, d: Driver) -> None:
        await d.wait_screen("signin")
        await d.wait(lambda: hasattr(d.screen, "email"), 10, "form")
        await self.shot(d, "any", "signin")
        d.screen.email.text, d.screen.password.text = STUDENT
        d.press(SIGN_IN[self.lang])
        await d.wait_screen("home")
        await d.wait(lambda: d.app.sm.current == "home" and d.screen.loaded, 30, "home")
        await self.shot(d, "student", "home")
        d.app.go("log")
        await d.wait(lambda: getattr(d.screen, "type_buttons", None), 30, "types")
        await self.shot(d, "student", "log")
        d.screen.choose("gaming_reduced")
        await self.shot(d, "student", "log-form")
        from kivy.uix.togglebutton import ToggleButton

        [w for w in d.widgets() if isinstance(w, ToggleButton)][0].state = "down"
        d.screen.inputs["hours"].text = "1"
        d.screen.save()
        await d.wait(lambda: d.app.outbox.waiting_count() == 0, 30, "sent")
        self.backend.publish_checkpoint()
        for name in ("history", "wallet", "dr", "settings"):
            d.app.go(name)
            await d.wait(lambda n=name: d.app.sm.current == n and d.screen.loaded, 30, name)
            if name == "wallet" and self.coins:
                d.screen.amount_field.text = "1000"
                await d.screen.make_code()
                await d.wait(lambda: d.shown("1,000"), 30, "code")
                await self.shot(d, "student", "coin-code")
            if name == "wallet":
                checks = [w for w in d.widgets() if getattr(w, "text", "") in ("확인", "Check")]
                if checks and d.app.app_settings.verifier_key:
                    checks[0].dispatch("on_release")
                    await d.wait(lambda: d.shown("검증됨") or d.shown("Verified"), 120, "verification")
            checked = d.screen.wallet["history"][0]["seq"] if name == "wallet" and d.screen.wallet["history"] else None
            await self.shot(d, "student", name, show=d.screen.results[checked].parent if checked else None)
        await d.app.sign_out()
        await d.wait_screen("signin")

    async def parent(self, d: Driver) -> None:
        await d.wait(lambda: hasattr(d.screen, "email"), 10, "form")
        d.screen.email.text, d.screen.password.text = PARENT
        d.press(SIGN_IN[self.lang])
        await d.wait_screen("family")
        await d.wait(lambda: d.app.sm.current == "family" and d.screen.loaded, 30, "family")
        await self.shot(d, "parent", "family")
        withdraw, give = {"ko": ("동의 철회", "동의하기"), "en": ("Withdraw consent", "Give consent")}[self.lang]
        d.press(withdraw)
        await d.wait(lambda: d.app.outbox.waiting_count() == 0, 30, "consent withdrawn")
        await d.app.sign_out()
        await d.wait(lambda: d.app.sm.current == "signin" and d.screen.loaded, 30, "signin")
        d.screen.email.text, d.screen.password.text = STUDENT
        d.press(SIGN_IN[self.lang])
        await d.wait(lambda: d.shown("동의를 기다리고") or d.shown("waiting for your guardian"), 30, "consent note")
        await self.shot(d, "student", "signin-waiting-for-consent")
        d.screen.email.text, d.screen.password.text = PARENT
        d.press(SIGN_IN[self.lang])
        await d.wait_screen("family")
        await d.wait(lambda: d.screen.loaded, 30, "family")
        d.press(give)
        await d.wait(lambda: d.app.outbox.waiting_count() == 0, 30, "consent given")
        for name in ("plugs", "dr", "wallet"):
            d.app.go(name)
            await d.wait(lambda n=name: d.app.sm.current == n and d.screen.loaded, 30, name)
            await self.shot(d, "parent", name)
            if name == "dr":
                d.press({"ko": "이번 행사에 참여하지 않기", "en": "Opt out of this event"}[self.lang])
                await d.wait(lambda: d.app.outbox.waiting_count() == 0, 30, "opt-out sent")
                await d.wait_text({"ko": "참여하지 않기로 했어요", "en": "opted out"}[self.lang])
                await self.shot(d, "parent", "dr-opted-out")
        await d.app.sign_out()

    async def sign_in(self, d: Driver, who: tuple[str, str], home: str) -> None:
        await d.wait(lambda: hasattr(d.screen, "email"), 10, "form")
        d.screen.email.text, d.screen.password.text = who
        d.press(SIGN_IN[self.lang])
        await d.wait(lambda: d.app.sm.current == home and d.screen.loaded, 30, home)

    async def teacher(self, d: Driver) -> None:
        await self.sign_in(d, TEACHER, "staff")
        thumbs = [card.thumb for card in d.screen.photo_cards.values()]
        await d.wait(lambda: all(t.texture is not None for t in thumbs), 30, "thumbnails")
        await self.shot(d, "teacher", "staff")
        await self.shot(d, "teacher", "staff-scoreboard", bottom=True)
        d.app.go("students")
        await d.wait(lambda: d.app.sm.current == "students" and d.screen.loaded, 30, "students")
        await self.shot(d, "teacher", "students")
        me = self.backend.graphql("{ me { id displayName } }", token=self.backend.token(STUDENT2))["me"]
        card = d.screen.student_cards[me["id"]]
        d.screen.open_form("STUDENT", me["id"], me["displayName"])
        for tb in d.screen.category_buttons:  # one award per nominee, category and month: a category per run
            tb.state = "down" if tb.slug == NOMINATION_CATEGORY[self.lang] else "normal"
        d.screen.reason.text = {"ko": "한 달 동안 매일 저녁 대기전력 플러그를 뽑고 사진으로 기록했어요.",
                                "en": "Unplugged the standby chargers every evening this month and "
                                      "photographed it."}[self.lang]
        await self.shot(d, "teacher", "nominate")
        d.press({"ko": "추천 보내기", "en": "Send the nomination"}[self.lang])
        await d.wait(lambda: d.screen.reason.parent.parent is None, 30, "the nomination sent")  # form closed
        [w for w in card.walk() if getattr(w, "text", "") in ("확인서", "Certificate")][0].dispatch("on_release")
        await d.wait(lambda: hasattr(card, "certificate"), 30, "certificate")
        await self.shot(d, "teacher", "certificate", show=card)
        await d.app.sign_out()

    async def admin(self, d: Driver) -> None:
        await self.sign_in(d, ADMIN, "staff")
        d.press({"ko": "시상", "en": "Awards"}[self.lang])
        await d.wait(lambda: d.app.sm.current == "awards" and d.screen.loaded, 30, "awards")
        d.screen.budget_name.text = {"ko": "12월 절약상", "en": "December saving prize"}[self.lang]
        d.screen.budget_amount.text = "1000"
        d.press({"ko": "포인트 예산 만들기", "en": "Fund a points budget"}[self.lang])
        await d.wait(lambda: d.screen.loaded and d.screen.budgets, 30, "budget")
        await d.wait(lambda: d.screen.message.text != "", 30, "budget message")
        card = next(iter(d.screen.nomination_cards.values()))
        card.amount.text = "300"
        await self.shot(d, "admin", "awards")
        [w for w in card.walk() if getattr(w, "text", "") in ("포인트 상 주기", "Award points")][0].dispatch("on_release")
        await d.wait(lambda: "300" in d.screen.message.text, 30, "awarded")
        await self.shot(d, "admin", "awards-decided")
        for name in ("school_board", "school_dr"):
            d.app.go(name)
            await d.wait(lambda n=name: d.app.sm.current == n and d.screen.loaded, 30, name)
            await self.shot(d, "admin", name.replace("_", "-"))
        await d.app.sign_out()

    async def winner(self, d: Driver) -> None:
        """Student2, whom the teacher nominated and the admin awarded: the award on their home screen."""
        await self.sign_in(d, STUDENT2, "home")
        await d.wait(lambda: any(hasattr(w, "award_id") for w in d.widgets()), 30, "the award")
        await self.shot(d, "student", "home-award")
        await d.app.sign_out()

    async def officer(self, d: Driver) -> None:
        await self.sign_in(d, OFFICER, "counter")
        await self.shot(d, "officer", "counter")
        d.screen.code_field.text = self.redemption_code
        d.press({"ko": "코드 확인", "en": "Check the code"}[self.lang])
        confirm = {"ko": "확인: 1,500원 사용 처리", "en": "Confirm: redeem 1,500 won"}[self.lang]
        await d.wait_text(confirm)
        await self.shot(d, "officer", "counter-preview")
        d.press(confirm)
        await d.wait_text({"ko": "1,500원 사용 처리했어요.", "en": "Redeemed 1,500 won."}[self.lang])
        await self.shot(d, "officer", "counter-redeemed")
        await d.app.sign_out()


def give_coins(backend: Backend, holder: tuple[str, str] = STUDENT, won: int = 5000) -> bool:
    """An operator credits a demo student ``won`` of local coins, so a coin code can be made."""
    import uuid

    operator = backend.token(("operator@demo.pvpp.kr", "demo-Operator-1!"))
    student = backend.graphql("{ me { id household { municipality { code } } } }", token=backend.token(holder))["me"]
    code = ((student["household"] or {}).get("municipality") or {}).get("code")
    if not code:
        return False
    result = backend.graphql(
        "mutation($k:String!,$u:ID!,$s:String!,$a:Int!){ adjustBalance(idempotencyKey:$k, userId:$u,"
        " asset: COINS_WON, amount: $a, reason: \"demo coins\", scope: $s){ __typename } }",
        {"k": str(uuid.uuid4()), "u": student["id"], "s": code, "a": won}, token=operator)
    return result["adjustBalance"]["__typename"] == "BalanceAdjusted"


def coin_code(backend: Backend, holder: tuple[str, str], won: int) -> str:
    """A redemption code the holder makes, as the wallet screen does (createRedemptionCode)."""
    token = backend.token(holder)
    me = backend.graphql("{ me { household { municipality { id } } } }", token=token)["me"]
    result = backend.graphql(
        "mutation($m:ID!,$a:Int!){ createRedemptionCode(municipalityId:$m, amountWon:$a){ __typename"
        " ... on RedemptionCodeIssued { code } ... on Error { message } } }",
        {"m": me["household"]["municipality"]["id"], "a": won}, token=token)["createRedemptionCode"]
    assert result["__typename"] == "RedemptionCodeIssued", result
    return result["code"]


def announce_dr_event(backend: Backend, title: str, hours_ahead: int) -> None:
    """An operator announces a national one-hour power-saving event ``hours_ahead`` from now."""
    from datetime import UTC, datetime, timedelta

    operator = backend.token(("operator@demo.pvpp.kr", "demo-Operator-1!"))
    start = (datetime.now(UTC) + timedelta(hours=hours_ahead)).replace(minute=0, second=0, microsecond=0)
    result = backend.graphql(
        "mutation($i: CreateDrEventInput!){ createDrEvent(input: $i){ __typename ... on Error { message } } }",
        {"i": {"title": title, "scope": "NATIONAL", "startsAt": start.isoformat(),
               "endsAt": (start + timedelta(hours=1)).isoformat(), "targetKw": 5.0}}, token=operator)
    assert result["createDrEvent"]["__typename"] == "DrEvent", result


def run_tour(backend: Backend, lang: str, device: Path, out: Path | None) -> Tour:
    tour = Tour(lang, out, coins=give_coins(backend))
    tour.backend = backend
    announce_dr_event(backend, {"ko": "학교와 함께하는 절전 행사", "en": "Power-saving event with your school"}[lang],
                      {"ko": 2, "en": 4}[lang])
    backend.publish_checkpoint()
    key = backend.verifier_key()
    run_app(tour.student, data_dir=device / "student", server=backend.url, lang=lang, verifier_key=key)
    run_app(tour.parent, data_dir=device / "parent", server=backend.url, lang=lang, verifier_key=key)
    run_staff(tour, backend, device)
    return tour


def run_staff(tour: Tour, backend: Backend, device: Path) -> None:
    """The teacher's home, students (a nomination, a certificate), the school admin's awards, school
    scoreboard and events, the award on the winner's home, and the officer's counter (redeeming a
    code student2 made)."""
    tour.backend = backend
    give_coins(backend, STUDENT2, 1500)
    tour.redemption_code = coin_code(backend, STUDENT2, 1500)
    run_app(tour.teacher, data_dir=device / "teacher", server=backend.url, lang=tour.lang)
    run_app(tour.admin, data_dir=device / "admin", server=backend.url, lang=tour.lang)
    run_app(tour.winner, data_dir=device / "winner", server=backend.url, lang=tour.lang)
    run_app(tour.officer, data_dir=device / "officer", server=backend.url, lang=tour.lang)


def main(argv: list[str]) -> int:
    """``[out] [--staff] [--full]``: with ``--staff`` only the staff screens, on the small demo (quick)
    or with ``--full`` on the default demo (classes large enough to show their figures)."""
    staff_only, full = "--staff" in argv, "--full" in argv
    argv = [a for a in argv if a not in ("--staff", "--full")]
    out = Path(argv[0] if argv else "docs/app")
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="pvpp-kivy-"))
    os.environ["TZ"] = "Asia/Seoul"  # times as a phone in Korea shows them
    time.tzset()
    with tempfile.TemporaryDirectory() as tmp:
        backend = Backend(Path(tmp) / "server").setup(SMALL_DEMO if staff_only and not full else FULL_DEMO)
        try:
            for lang in ("ko", "en"):
                if staff_only:
                    tour = Tour(lang, out)
                    announce_dr_event(backend, {"ko": "학교와 함께하는 절전 행사",
                                                "en": "Power-saving event with your school"}[lang], {"ko": 2, "en": 4}[lang])
                    run_staff(tour, backend, Path(tmp) / lang)
                else:
                    tour = run_tour(backend, lang, Path(tmp) / lang, out)
                print(f"{lang}: {len(tour.seen)} screens written to {out}")
        finally:
            backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
