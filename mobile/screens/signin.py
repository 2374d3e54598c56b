"""Sign-in, with a kind explanation when a child's account waits for a guardian's consent.
Layout in ``signin.kv``."""

from __future__ import annotations

from kivy.properties import ObjectProperty

from mobile.api.errors import NetworkError, Rejected
from mobile.i18n import _
from mobile.messages import rejection
from mobile.screens.base import BaseScreen, load_kv

load_kv("signin")


class SignInScreen(BaseScreen):
    email = ObjectProperty(None)
    password = ObjectProperty(None)
    message = ObjectProperty(None)

    def screen_title(self) -> str:
        return _("People's VPP")

    async def refresh(self) -> None:
        self.message.text = ""

    def submit(self) -> None:
        self.message.text = _("Signing in…")
        self.app.spawn(self._submit(self.email.text.strip(), self.password.text))

    async def _submit(self, email: str, password: str) -> None:
        try:
            await self.app.sign_in(email, password)
            self.password.text = ""
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
