"""Sign-in, with a kind explanation when a child's account waits for a guardian's consent."""

from __future__ import annotations

from mobile.api.errors import NetworkError, Rejected
from mobile.i18n import _
from mobile.messages import rejection
from mobile.screens.base import BaseScreen, load_kv
from mobile.widgets.common import Field

load_kv("signin")


class SignInScreen(BaseScreen):
    def screen_title(self) -> str:
        return _("People's VPP")

    async def refresh(self) -> None:
        self.clear()
        self.heading(_("Save electricity together"))
        self.note(_("Sign in with the account your school or family gave you."))
        self.email = Field(hint_text=_("Email"), write_tab=False, input_type="mail")
        self.password = Field(hint_text=_("Password"), password=True, write_tab=False)
        self.password.bind(on_text_validate=lambda *_: self.submit())
        self.content.add_widget(self.email)
        self.content.add_widget(self.password)
        self.submit_button = self.button(_("Sign in"), self.submit)
        self.message = self.para("")
        self.button(_("Settings"), lambda: self.app.go("settings"), tone="secondary")

    def submit(self) -> None:
        self.message.text = _("Signing in…")
        self.app.spawn(self._submit(self.email.text.strip(), self.password.text))

    async def _submit(self, email: str, password: str) -> None:
        try:
            await self.app.sign_in(email, password)
        except Rejected as exc:
            if exc.typename == "ConsentRequired":
                self.message.text = _(
                    "Your account is waiting for your guardian's consent. Ask your parent to open "
                    "People's VPP and agree; then you can sign in here."
                )
            else:
                self.message.text = rejection(exc.as_dict())
        except NetworkError:
            self.message.text = _("No connection to the server. Check the internet or the server address in Settings.")
