"""Drive the real app in a real (offscreen SDL) window: press widgets, read what is shown."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

SCREEN_ENV = ("PVPP_APP_DATA_DIR", "PVPP_APP_SERVER", "PVPP_APP_LANG", "PVPP_APP_VERIFIER_KEY",
              "PVPP_APP_SYNC_SECONDS")


class Driver:
    def __init__(self, app) -> None:
        self.app = app

    @property
    def screen(self):
        return self.app.sm.current_screen

    def widgets(self) -> list[Any]:
        return list(self.screen.walk(restrict=True))

    def texts(self) -> list[str]:
        return [w.text for w in self.widgets() if isinstance(getattr(w, "text", None), str) and w.text]

    def shown(self, fragment: str) -> bool:
        return any(fragment in t for t in self.texts())

    def small_targets(self) -> list[str]:
        """Buttons and inputs on screen that are less than 48 dp high or wide (touch targets)."""
        from kivy.metrics import dp
        from kivy.uix.button import Button
        from kivy.uix.textinput import TextInput

        return [f"{type(w).__name__} {getattr(w, 'text', '')!r} {w.width:.0f}x{w.height:.0f}px"
                for w in self.widgets() if isinstance(w, Button | TextInput) and w.opacity > 0 and not w.disabled
                and min(w.width, w.height) < dp(48) - 0.5]

    def gaps(self) -> list[str]:
        """Blank bands in vertical lists: neighbours further apart than the list's spacing (an
        empty heading or note that still took its place and spacing)."""
        from kivy.uix.boxlayout import BoxLayout

        found = []
        for box in self.widgets():
            if not isinstance(box, BoxLayout) or box.orientation != "vertical" or box.opacity == 0:
                continue
            shown = sorted((c for c in box.children if c.height > 0.5 and c.opacity > 0), key=lambda c: -c.y)
            for upper, lower in zip(shown, shown[1:]):
                gap = upper.y - lower.top
                if gap > box.spacing + 1:
                    found.append(f"{type(box).__name__} {gap:.0f}px above {getattr(lower, 'text', type(lower).__name__)!r}")
        return found

    def find(self, text: str, cls: type | None = None) -> Any:
        from kivy.uix.button import Button

        cls = cls or Button
        matches = [w for w in self.widgets() if isinstance(w, cls) and getattr(w, "text", None) == text]
        assert matches, f"no {cls.__name__} {text!r} on {self.screen.name}: {self.texts()}"
        return matches[0]

    def press(self, text: str) -> None:
        button = self.find(text)
        assert not button.disabled, f"{text!r} is disabled"
        from kivy.metrics import dp

        assert button.height >= dp(48) - 0.5, f"{text!r} is only {button.height}px high"
        button.dispatch("on_release")

    async def wait(self, predicate: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}; shown: {self.texts()}")
            await asyncio.sleep(0.05)

    async def wait_text(self, fragment: str, timeout: float = 30) -> None:
        await self.wait(lambda: self.shown(fragment), timeout, repr(fragment))

    async def wait_screen(self, name: str, timeout: float = 30) -> None:
        await self.wait(lambda: self.app.sm.current == name, timeout, f"screen {name}")

    async def wait_loaded(self, name: str, timeout: float = 30) -> None:
        """Wait until screen ``name`` is shown and has loaded what it shows from the server."""
        await self.wait(lambda: self.app.sm.current == name and self.screen.loaded, timeout, f"{name} loaded")

    async def settle(self) -> None:
        """Wait until no task of the app is running and two more frames were drawn."""
        from kivy.clock import Clock

        await self.wait(lambda: len(self.app._tasks) <= 1, 30, "the app's tasks")
        start = Clock.frames_displayed
        await self.wait(lambda: Clock.frames_displayed >= start + 2, 10, "frames")

    async def screenshot(self, path: Path, bottom: bool = False, show: Any = None) -> Path:
        """Write the window to ``path``: the top of the screen, its bottom, or scrolled to ``show``."""
        from kivy.clock import Clock
        from kivy.core.window import Window

        await self.settle()
        scroll = self.screen.ids.scroll
        if show is not None:
            scroll.scroll_to(show, padding=10, animate=False)
        else:
            scroll.scroll_y = 0 if bottom else 1
        start = Clock.frames_displayed
        await self.wait(lambda: Clock.frames_displayed >= start + 2, 10, "frames")
        path.parent.mkdir(parents=True, exist_ok=True)
        written = Window.screenshot(str(path))
        os.replace(written, path)
        return path


def run_app(scenario: Callable[[Driver], Awaitable[None]], *, data_dir: Path, server: str, lang: str = "ko",
            verifier_key: str = "", sync_seconds: float = 0.5) -> None:
    """Start the app, run ``scenario`` against it, stop it; an assertion in the scenario fails the test."""
    values = {"PVPP_APP_DATA_DIR": str(data_dir), "PVPP_APP_SERVER": server, "PVPP_APP_LANG": lang,
              "PVPP_APP_VERIFIER_KEY": verifier_key, "PVPP_APP_SYNC_SECONDS": str(sync_seconds)}
    saved = {k: os.environ.get(k) for k in SCREEN_ENV}
    os.environ.update(values)
    from mobile.app import PvppApp

    app = PvppApp()
    failures: list[BaseException] = []

    async def drive() -> None:
        try:
            await Driver(app).wait(lambda: app.sm is not None and app.sm.current_screen is not None, 30, "start")
            await scenario(Driver(app))
        except BaseException as exc:  # noqa: BLE001 - re-raised after the app stopped
            failures.append(exc)
        finally:
            app.stop()

    async def main() -> None:
        task = asyncio.get_event_loop().create_task(drive())
        await app.async_run(async_lib="asyncio")
        await task
        if app._client is not None:
            await app._client.aclose()

    try:
        asyncio.run(main())
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if failures:
        raise failures[0]
