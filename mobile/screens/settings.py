"""Settings: server address, language, the pinned ledger key (as a fingerprint), sign-out.
Layout in ``settings.kv``."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from mobile.i18n import _, language
from mobile.screens.base import BaseScreen, load_kv
from mobile.settings import key_fingerprint

load_kv("settings")


class SettingsScreen(BaseScreen):
    signed_in = BooleanProperty(False)
    lang = StringProperty("")

    def screen_title(self) -> str:
        return _("Settings")

    async def refresh(self) -> None:
        self.ids.server.text = self.app.app_settings.server_url
        self.lang = language()
        self.ids.fingerprint.text = key_fingerprint(self.app.app_settings.verifier_key) or _("No key is pinned yet.")
        self.signed_in = self.app.tokens.signed_in
