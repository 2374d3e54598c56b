"""Switching the language in Settings relabels what is on screen at once (no restart): the settings
screen itself, its title, and the screens already built (their kv labels), and the choice is kept."""

from __future__ import annotations

import pytest

from tests.mobile.driver import Driver, run_app
from tests.mobile.server import STUDENT, Backend
from tests.mobile.test_student_flow import sign_in

pytestmark = pytest.mark.slow


def labels(screen) -> set[str]:
    return {w.text for w in screen.walk(restrict=True) if isinstance(getattr(w, "text", None), str) and w.text}


def test_switching_language_relabels_the_screens_live(backend: Backend, data_dir) -> None:
    async def scenario(d: Driver) -> None:
        await sign_in(d, STUDENT, "Sign in")
        await d.wait(lambda: d.app.sm.current == "home" and d.screen.loaded, 60, "home")
        home = d.screen
        assert {"This month", "Log a saving", "Electricity saved"} <= labels(home)
        d.press("Settings")
        await d.wait(lambda: d.app.sm.current == "settings" and d.screen.loaded, 30, "settings")
        assert {"Language", "Server address", "Sign out"} <= labels(d.screen) and d.screen.title == "Settings"

        d.press("한국어")
        await d.wait(lambda: d.screen.loaded and "언어" in labels(d.screen), 10, "settings in Korean")
        shown = labels(d.screen)
        assert {"서버 주소", "로그아웃"} <= shown and not {"Language", "Server address", "Sign out"} & shown, shown
        assert d.screen.title == "설정" and d.app.sm.current == "settings"
        # the home screen built before the switch is relabelled too, before it is shown again
        assert {"이번 달", "절약 기록하기"} <= labels(home) and "Log a saving" not in labels(home)
        assert d.app.app_settings.language == "ko"

        d.screen.back()  # home, with its figures in Korean as well
        await d.wait(lambda: d.app.sm.current == "home" and d.screen.loaded, 30, "home")
        assert {"이번 달", "아낀 전기", "포인트"} <= labels(d.screen), labels(d.screen)
        assert not {"This month", "Electricity saved", "Points"} & labels(d.screen)

        d.press("설정")
        await d.wait(lambda: d.app.sm.current == "settings" and d.screen.loaded, 30, "settings")
        d.press("English")
        await d.wait(lambda: "Language" in labels(d.screen), 10, "settings in English")
        assert d.screen.title == "Settings" and "Log a saving" in labels(home)

    run_app(scenario, data_dir=data_dir, server=backend.url, lang="en")


def test_labels_of_screens_that_are_gone_are_forgotten() -> None:
    """A relabel skips (and drops) the kv bindings of widgets that no longer exist."""
    import gc

    import mobile.app  # noqa: F401 - the font and the shared kv rules
    from mobile import i18n
    from mobile.i18n.live import tr
    from mobile.screens.home import HomeScreen

    i18n.set_language("en")
    screen = HomeScreen(name="gone")
    kept = HomeScreen(name="kept")
    before = len(tr._observers)
    del screen
    gc.collect()
    i18n.set_language("ko")
    assert len(tr._observers) < before
    assert "이번 달" in {w.text for w in kept.walk() if isinstance(getattr(w, "text", None), str)}
