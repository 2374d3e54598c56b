"""Settings: server address, language, the pinned ledger key (as a fingerprint), sign-out."""

from __future__ import annotations

from mobile.i18n import _
from mobile.screens.base import BaseScreen, load_kv
from mobile.settings import key_fingerprint
from mobile.widgets.common import Field, Row

load_kv("settings")


class SettingsScreen(BaseScreen):
    def screen_title(self) -> str:
        return _("Settings")

    async def refresh(self) -> None:
        self.clear()
        self.heading(_("Server address"))
        self.server = Field(text=self.app.app_settings.server_url)
        self.content.add_widget(self.server)
        self.button(_("Save address"), lambda: self.app.set_server(self.server.text))
        self.heading(_("Language"))
        row = Row()
        self.button("한국어", lambda: self.app.set_language("ko"), parent=row)
        self.button("English", lambda: self.app.set_language("en"), parent=row)
        self.content.add_widget(row)
        self.heading(_("Ledger key"))
        fp = key_fingerprint(self.app.app_settings.verifier_key)
        self.note(_("Checks of your points use this key. Compare it with the one your school publishes:"))
        self.para(fp or _("No key is pinned yet."))
        if self.app.tokens.signed_in:
            self.heading(_("Account"))
            self.button(_("Sign out"), lambda: self.app.spawn(self.app.sign_out()), tone="secondary")
