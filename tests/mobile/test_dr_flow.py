"""Power-saving events in the real app against a real backend: the notice of an announced event
(a parent opts out of it), the live view of a running one, and the household's own result with its
baseline in words and a chart, as the parent (Korean) and the student (English) see them.

The events are created by an operator through the API and moved along by the DR worker's own job
(``drive``), at the real time for the start and at a later time for the end and settlement, as
the demo data does for its past events. Such a new event has no plug readings of its own hours
here (no simulator runs), so its result is whatever the server settles (usually the "not enough
data" words); the measured wording — baseline, actual use and the days it was taken from — is
required on one of the demo's past events, settled over 35 days of the demo's plug history."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from mobile import formats, i18n
from tests.mobile.driver import Driver, run_app
from tests.mobile.server import PARENT, STUDENT, Backend
from tests.mobile.test_student_flow import sign_in

pytestmark = pytest.mark.slow

OPERATOR = ("operator@demo.pvpp.kr", "demo-Operator-1!")
EVENT = "{ id title state startsAt endsAt targetKw }"


@pytest.fixture(scope="module")
def dr_backend(tmp_path_factory: pytest.TempPathFactory):
    # one household is enough to see the event's total (the demo has three)
    server = Backend(tmp_path_factory.mktemp("dr-backend"), PVPP_DR_MIN_AGGREGATE_HOUSEHOLDS="1")
    try:
        # 35 days: enough complete days before one of the demo's past events for a KPX baseline
        yield server.setup(("--households", "3", "--days", "35"))  # stopped below even when it does not come up
    finally:
        server.close()


def create_event(backend: Backend, title: str, starts: datetime, minutes: int, short_notice: bool) -> dict:
    result = backend.graphql(
        "mutation($i: CreateDrEventInput!){ createDrEvent(input: $i){ __typename ... on DrEvent " + EVENT
        + " ... on Error { message } } }",
        {"i": {"title": title, "scope": "NATIONAL", "startsAt": starts.isoformat(), "shortNotice": short_notice,
               "endsAt": (starts + timedelta(minutes=minutes)).isoformat(), "targetKw": 2.0}},
        token=backend.token(OPERATOR))["createDrEvent"]
    assert result["__typename"] == "DrEvent", result
    return result


def server_view(backend: Backend, who: tuple[str, str], event_id: str) -> tuple[dict, dict | None]:
    """What the server says to ``who`` about the event: its live view and the household's settlement."""
    token = backend.token(who)
    household = backend.graphql("{ me { household { id } } }", token=token)["me"]["household"]["id"]
    live = backend.graphql("query($e:ID!){ drLiveView(eventId:$e){ ... on DrLiveView { targetKw reductionKw"
                           " updatedAt } } }", {"e": event_id}, token=token)["drLiveView"]
    settled = backend.graphql(
        "query($e:ID!,$h:ID!){ drSettlement(eventId:$e, householdId:$h){ ... on DrSettlement { status"
        " baselineKwh actualKwh reductionKwh points usedDays hours { hour baselineKwh actualKwh } } } }",
        {"e": event_id, "h": household}, token=token)["drSettlement"]
    return live, settled or None


def measured_demo_event(backend: Backend, exclude: set[str]) -> tuple[str, dict]:
    """One of the demo's past events that the parent's household was measured in (a baseline)."""
    token = backend.token(PARENT)
    events = backend.graphql("{ drEvents(upcoming: false) { items { id state } } }", token=token)["drEvents"]["items"]
    for event in events:
        if event["state"] in ("ENDED", "SETTLED") and event["id"] not in exclude:
            _, settled = server_view(backend, PARENT, event["id"])
            if settled and settled["baselineKwh"] is not None:
                return event["id"], settled
    raise AssertionError(f"no demo event was measured for the parent's household: {events}")


def card_texts(card) -> list[str]:
    return [w.text for w in card.walk(restrict=True) if isinstance(getattr(w, "text", None), str) and w.text]


def opt_out_buttons(card, text: str) -> list:
    return [w for w in card.walk(restrict=True) if getattr(w, "text", "") == text]


def expected_result(settlement: dict, lang: str) -> list[str]:
    """Fragments the result must show, from the server's figures in ``lang``'s formats."""
    i18n.set_language(lang)
    if settlement["baselineKwh"] is None:
        return [{"ko": "평소 사용량을 알 수 없어요", "en": "not enough data before the event"}[lang]]
    return [formats.kwh(settlement["baselineKwh"]), formats.kwh(settlement["actualKwh"] or 0),
            formats.kwh(settlement["reductionKwh"]), str(len(settlement["usedDays"]))]


def test_dr_notice_live_view_and_own_result(dr_backend: Backend, data_dir, tmp_path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    notice = create_event(dr_backend, "Evening peak notice", (now + timedelta(hours=3)).replace(minute=0, second=0),
                          60, short_notice=False)
    running = create_event(dr_backend, "Surprise peak", now + timedelta(seconds=30), 30, short_notice=True)
    time.sleep(max(0.0, (datetime.fromisoformat(running["startsAt"]) - datetime.now(UTC)).total_seconds() + 1))
    dr_backend.drive_dr()  # notifies both, starts the surprise event
    live, _ = server_view(dr_backend, PARENT, running["id"])
    assert live["reductionKw"] is not None, live  # the household may see the total (one household is enough)

    async def parent_sees_notice_and_live_view(d: Driver) -> None:
        await sign_in(d, PARENT, "로그인")
        await d.wait(lambda: d.app.sm.current == "family" and d.screen.loaded, 60, "family")
        d.press("절전 행사 (국민DR)")
        await d.wait(lambda: d.app.sm.current == "dr" and d.screen.loaded, 30, "events")
        i18n.set_language("ko")
        announced = card_texts(d.screen.cards[notice["id"]])
        assert "Evening peak notice" in announced
        assert any(formats.moment(notice["startsAt"]) in t and formats.clock(notice["endsAt"]) in t
                   for t in announced), announced
        assert "우리 집이 참여해요." in announced, announced
        now_card = card_texts(d.screen.cards[running["id"]])
        assert any(t.startswith("진행 중 ·") for t in now_card), now_card
        together = f"함께 {formats.number(max(0.0, live['reductionKw']), 1)} kW 줄였어요 (목표 2.0 kW)"
        assert any(together in t for t in now_card), (together, now_card)
        assert d.screen.cards[running["id"]].live_share == pytest.approx(min(1.0, max(0.0, live["reductionKw"]) / 2))
        # opting out of the announced event goes through the outbox and shows at once, then from the server
        buttons = opt_out_buttons(d.screen.cards[notice["id"]], "이번 행사에 참여하지 않기")
        assert buttons and not buttons[0].disabled and buttons[0].height >= 48
        buttons[0].dispatch("on_release")
        await d.wait(lambda: d.app.outbox.waiting_count() == 0, 30, "opt-out sent")
        await d.wait(lambda: "우리 집은 참여하지 않기로 했어요." in card_texts(d.screen.cards[notice["id"]]), 30,
                     "opted out")
        assert all(w.hidden and w.height == 0 for w in opt_out_buttons(d.screen.cards[notice["id"]], "이번 행사에 참여하지 않기"))

    run_app(parent_sees_notice_and_live_view, data_dir=data_dir / "parent", server=dr_backend.url, lang="ko")

    ends = datetime.fromisoformat(running["endsAt"])
    dr_backend.drive_dr(ends)
    dr_backend.drive_dr(ends + timedelta(minutes=10))  # restored and settled, as the worker would later
    _, parent_result = server_view(dr_backend, PARENT, running["id"])
    _, student_result = server_view(dr_backend, STUDENT, running["id"])
    assert parent_result and parent_result == student_result  # one household
    assert parent_result["hours"], parent_result
    print(f"settlement of the surprise event: {parent_result['status']}, baseline {parent_result['baselineKwh']}")

    def check_result(d: Driver, lang: str) -> None:
        card = d.screen.cards[running["id"]]
        texts = card_texts(card)
        for fragment in expected_result(parent_result, lang):
            assert any(fragment in t for t in texts), (fragment, texts)
        assert i18n._("Points: {n}").format(n=formats.number(parent_result["points"])) in texts, texts
        charts = card.ids.chart.children
        assert len(charts) == 1, texts
        bars = charts[0].bars.series
        assert bars == [[h["baselineKwh"] for h in parent_result["hours"]],
                        [h["actualKwh"] for h in parent_result["hours"]]]
        labels = [w.text for w in charts[0].walk(restrict=True) if getattr(w, "text", None)]
        assert [str(h["hour"]) for h in parent_result["hours"]] == labels[:len(parent_result["hours"])]

    measured = measured_demo_event(dr_backend, exclude={notice["id"], running["id"]})

    async def parent_sees_result(d: Driver) -> None:
        await d.wait(lambda: d.app.sm.current == "family" and d.screen.loaded, 60, "family")
        d.press("절전 행사 (국민DR)")
        await d.wait(lambda: d.app.sm.current == "dr" and d.screen.loaded, 30, "events")
        assert any(t.startswith("끝남 ·") for t in card_texts(d.screen.cards[running["id"]]))
        check_result(d, "ko")
        event_id, settlement = measured
        texts = card_texts(d.screen.cards[event_id])
        words = expected_result(settlement, "ko")
        assert len(words) == 4 and all(any(w in t for t in texts) for w in words), (words, texts)
        assert any(f"비슷한 이전 {len(settlement['usedDays'])}일 동안" in t for t in texts), texts

    run_app(parent_sees_result, data_dir=data_dir / "parent", server=dr_backend.url, lang="ko")

    async def student_sees_result(d: Driver) -> None:
        await sign_in(d, STUDENT, "Sign in")
        await d.wait(lambda: d.app.sm.current == "home" and d.screen.loaded, 60, "home")
        d.press("Power-saving events")
        await d.wait(lambda: d.app.sm.current == "dr" and d.screen.loaded, 30, "events")
        opt_outs = [w for w in d.widgets() if getattr(w, "text", "") == "Opt out of this event"]
        assert opt_outs and all(w.hidden and w.disabled and w.height == 0 for w in opt_outs)  # parents decide
        check_result(d, "en")

    run_app(student_sees_result, data_dir=tmp_path / "student", server=dr_backend.url, lang="en")
