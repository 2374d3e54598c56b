"""The App: settings, session, outbox, sync loop and navigation between role-specific screens."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from mobile import bootstrap

bootstrap.configure()

from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.core.text import LabelBase  # noqa: E402
from kivy.lang import Builder  # noqa: E402
from kivy.properties import DictProperty, NumericProperty, StringProperty  # noqa: E402
from kivy.uix.screenmanager import NoTransition, ScreenManager  # noqa: E402

from mobile import i18n  # noqa: E402
from mobile.api.client import GraphQLClient  # noqa: E402
from mobile.api.errors import NetworkError, Rejected, ServerError, SignInRequired  # noqa: E402
from mobile.api.tokens import TokenStore  # noqa: E402
from mobile.i18n import _  # noqa: E402
from mobile.outbox import Outbox  # noqa: E402
from mobile.screens import SCREENS  # noqa: E402
from mobile.settings import AppSettings  # noqa: E402

LabelBase.register(bootstrap.FONT_NAME, bootstrap.font_path())
Builder.load_file(str(Path(__file__).parent / "widgets" / "common.kv"))

STUDENT_ROLES = {"STUDENT"}
HOME_BY_ROLE = {"STUDENT": "home", "TEACHER": "staff", "SCHOOL_ADMIN": "staff", "OFFICER": "counter"}


class PvppApp(App):
    title = "People's VPP"
    user = DictProperty({})
    waiting = NumericProperty(0)
    connection = StringProperty("")  # "", "offline", "server_error"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tasks: set[asyncio.Task] = set()
        self._stopping = False
        self.storage_problem = ""
        self.first_frame_at: float | None = None
        self.activity_types: list[dict[str, Any]] = []

    # storage ---------------------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        """The app's data directory; if it cannot be written, a temporary one (and say so)."""
        if getattr(self, "_data_dir", None) is None:
            path = Path(os.environ.get("PVPP_APP_DATA_DIR") or self.user_data_dir)
            try:
                path.mkdir(parents=True, exist_ok=True)
                probe = path / ".write-test"
                probe.write_text("ok")
                probe.unlink()
            except OSError as exc:
                import tempfile

                self.storage_problem = f"{path}: {exc.strerror or exc}"
                path = Path(tempfile.mkdtemp(prefix="pvpp-app-"))
            self._data_dir = path
        return self._data_dir

    def build(self):
        self.settings_path = self.data_dir / "settings.json"
        self.app_settings = AppSettings.load(self.settings_path)
        i18n.set_language(self.app_settings.language or i18n.device_language())
        self.tokens = TokenStore(self.data_dir / "session.json")
        self.outbox = Outbox(self.data_dir / "outbox.sqlite3")
        self._client: GraphQLClient | None = None
        self.sm = ScreenManager(transition=NoTransition())
        self.waiting = self.outbox.waiting_count()
        return self.sm

    @property
    def client(self) -> GraphQLClient:
        """Made on first use, so the sign-in screen is drawn before httpx is imported."""
        if self._client is None:
            self._client = GraphQLClient(self.app_settings.server_url, self.tokens)
        return self._client

    def on_start(self) -> None:
        from kivy.core.window import Window

        Window.clearcolor = (0.97, 0.98, 0.97, 1)
        Window.bind(on_flip=self._first_flip)
        self.go("home" if self.tokens.signed_in else "signin")
        self.spawn(self._sync_loop())

    def _first_flip(self, *_: Any) -> None:
        if self.first_frame_at is None:
            self.first_frame_at = time.perf_counter()

    def on_stop(self) -> None:
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        self.outbox.close()

    # navigation ------------------------------------------------------------------------------------
    def screen(self, name: str):
        if not self.sm.has_screen(name):
            module, cls = SCREENS[name].split(":")
            self.sm.add_widget(getattr(importlib.import_module(module), cls)(name=name))
        return self.sm.get_screen(name)

    def go(self, name: str) -> None:
        screen = self.screen(name)
        if self.sm.current == name:
            screen.on_pre_enter()
        else:
            self.sm.current = name

    def home_screen(self) -> str:
        if not self.tokens.signed_in:
            return "signin"
        return HOME_BY_ROLE.get(self.user.get("role", "STUDENT"), "family")

    @property
    def is_student(self) -> bool:
        return self.user.get("role") in STUDENT_ROLES

    # async work ------------------------------------------------------------------------------------
    def spawn(self, coro: Coroutine) -> asyncio.Task | None:
        """Run ``coro`` on the UI loop; its expected failures become states (offline, sign-in)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self._stopping:
            coro.close()
            return None
        task = loop.create_task(self._guard(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _task: coro.close())  # a task cancelled before it ran
        return task

    async def _guard(self, coro: Coroutine) -> Any:
        try:
            result = await coro
            if self.connection:
                self.connection = ""
            return result
        except SignInRequired:
            self.user = {}
            self.go("signin")
        except NetworkError:
            self.connection = "offline"
        except ServerError:
            self.connection = "server_error"
        except Rejected as exc:
            self.toast(exc.message)
        return None

    def toast(self, text: str) -> None:
        screen = self.sm.current_screen
        if screen is not None:
            screen.status_text = text
            Clock.schedule_once(lambda *_: setattr(screen, "status_text", self.sync_line()), 6)

    def sync_line(self) -> str:
        if self.storage_problem:
            return _("This phone's storage cannot be written: unsent actions are lost when the app closes.")
        if self.connection == "offline":
            return _("Offline: {n} waiting to send").format(n=self.waiting) if self.waiting else _("Offline")
        if self.connection == "server_error":
            return _("The server has a problem; trying again soon")
        if self.waiting:
            return _("{n} waiting to send").format(n=self.waiting)
        return ""

    def on_waiting(self, *_: Any) -> None:
        self._show_sync()

    def on_connection(self, *_: Any) -> None:
        self._show_sync()

    def _show_sync(self) -> None:
        if self.sm and self.sm.current_screen is not None:
            self.sm.current_screen.status_text = self.sync_line()

    # session and data ------------------------------------------------------------------------------
    async def sign_in(self, email: str, password: str) -> None:
        await self.client.sign_in(email, password)
        await self.load_me()
        self.go(self.home_screen())

    async def load_me(self) -> dict[str, Any]:
        me = (await self.client.execute("Me"))["me"]
        self.user = me
        return me

    async def sign_out(self) -> None:
        try:
            await self.client.sign_out()
        finally:
            self.user = {}
            self.go("signin")

    async def types(self) -> list[dict[str, Any]]:
        """The activity catalogue: from the server, else the copy kept on the device (offline)."""
        if not self.activity_types:
            try:
                self.activity_types = (await self.client.execute("ActivityTypes"))["activityTypes"]
                self.outbox.kv_set("activity_types", json.dumps(self.activity_types))
            except (NetworkError, ServerError):
                cached = self.outbox.kv_get("activity_types")
                if cached is None:
                    raise
                self.activity_types = json.loads(cached)
        return self.activity_types

    def set_server(self, url: str) -> None:
        self.app_settings.server_url = url.strip().rstrip("/")
        self.app_settings.save(self.settings_path)
        old, self._client = self._client, None
        if old is not None:
            self.spawn(old.aclose())

    def set_language(self, lang: str) -> None:
        self.app_settings.language = lang
        self.app_settings.save(self.settings_path)
        i18n.set_language(lang)
        self.go(self.sm.current)

    # the outbox ------------------------------------------------------------------------------------
    def queued(self) -> None:
        """Call after adding to the outbox: show it as waiting and try to send at once."""
        self.waiting = self.outbox.waiting_count()
        self.spawn(self.sync(force=True))

    async def sync(self, force: bool = False) -> None:
        if not self.tokens.signed_in or (not force and not self.outbox.waiting_count()):
            return
        report = await self.outbox.flush(self.client, force=force)
        self.waiting = self.outbox.waiting_count()
        if report.stopped_by == "NetworkError":
            self.connection = "offline"
        elif report.stopped_by == "ServerError":
            self.connection = "server_error"
        elif report.sent or report.rejected:
            self.connection = ""
            current = self.sm.current_screen
            if current is not None and getattr(current, "refresh_after_sync", False):
                self.spawn(current._load())

    async def _sync_loop(self) -> None:
        await asyncio.sleep(0.5 if self.tokens.signed_in else 2)  # after the first screen is drawn
        while True:
            await self._guard(self.sync())
            await asyncio.sleep(self.app_settings.sync_seconds)


def main() -> None:
    app = PvppApp()
    asyncio.run(app.async_run(async_lib="asyncio"))
