"""The frame every screen shares: a title bar with back, a scrolling content column, a sync line.

A screen's own kv rule (``screens/<name>.kv``) lists the widgets of its content column: children
declared there go into ``ids.content``, below the title bar, not on top of the frame.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from mobile.i18n import _
from mobile.widgets.common import Btn, Heading, Note, Para

_HERE = Path(__file__).parent


def load_kv(name: str) -> None:
    """Load ``screens/<name>.kv`` once."""
    path = str(_HERE / f"{name}.kv")
    if path not in Builder.files:
        Builder.load_file(path)


load_kv("base")


class BaseScreen(Screen):
    title = StringProperty("")
    status_text = StringProperty("")
    show_back = BooleanProperty(True)
    loaded = BooleanProperty(False)

    @property
    def app(self):
        return App.get_running_app()

    @property
    def content(self):
        return self.ids.content

    def add_widget(self, widget, *args, **kwargs):
        content = self.ids.get("content")
        if content is not None and widget.parent is None and widget is not self.ids.get("frame"):
            return content.add_widget(widget, *args, **kwargs)
        return super().add_widget(widget, *args, **kwargs)

    def back(self) -> None:
        self.app.go(self.app.home_screen())

    def on_pre_enter(self, *args) -> None:
        self.title = self.screen_title()
        self.status_text = self.app.sync_line()
        self.loaded = False
        self.app.spawn(self._load())

    async def _load(self) -> None:
        """Refresh, one at a time: a slow earlier answer must not overwrite a newer one."""
        if not hasattr(self, "_refreshing"):
            self._refreshing = asyncio.Lock()
        async with self._refreshing:
            await self.refresh()
        self.loaded = True

    def screen_title(self) -> str:
        return ""

    async def refresh(self) -> None:
        """Reload what the screen shows (called on every visit and language change)."""

    # helpers that build the content column ------------------------------------------------------
    def clear(self) -> None:
        self.content.clear_widgets()

    def heading(self, text: str, parent=None) -> Heading:
        w = Heading(text=text)
        (parent or self.content).add_widget(w)
        return w

    def para(self, text: str, parent=None, **kw) -> Para:
        w = Para(text=text, **kw)
        (parent or self.content).add_widget(w)
        return w

    def note(self, text: str, parent=None) -> Note:
        w = Note(text=text)
        (parent or self.content).add_widget(w)
        return w

    def button(self, text: str, on_press, tone: str = "primary", parent=None) -> Btn:
        w = Btn(text=text, tone=tone)
        w.bind(on_release=lambda *_: on_press())
        (parent or self.content).add_widget(w)
        return w

    def loading(self) -> None:
        self.clear()
        self.note(_("Loading…"))


class RoleHomeScreen(BaseScreen):
    """A role's first screen: no back arrow (back opens Settings), and it knows who signed in."""

    def back(self) -> None:
        self.app.go("settings")

    async def signed_in_user(self) -> dict:
        self.show_back = False
        if not self.app.user:
            await self.app.load_me()
        self.title = self.screen_title()
        return self.app.user
