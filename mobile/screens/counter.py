"""The officer's counter: a redemption code typed (or a photo of its QR code picked), its amount
and holder reference, confirm to redeem; today's redemptions; the coin programme's figures."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.filechooser import FileChooserListView
from kivy.uix.gridlayout import GridLayout
from kivy.uix.popup import Popup

from mobile import formats
from mobile.api.errors import Rejected
from mobile.i18n import _, ngettext
from mobile.messages import rejection
from mobile.screens.base import RoleHomeScreen, load_kv
from mobile.widgets.common import Btn, Card, Field, Note, Para, Tile

load_kv("counter")

MAX_IMAGE_BYTES = 700 * 1024  # what redemptionPreview decodes (docs/schools.md)


class CodeField(Field):
    """The code as typed at the counter: large, white on black (rules in ``counter.kv``); spaces
    typed between its groups are dropped."""

    @property
    def code(self) -> str:
        return "".join(self.text.split())


def code_problem(reason: str) -> str:
    """Why a code cannot be redeemed (``InvalidRedemptionCode.reason`` or the preview's state)."""
    return {
        "malformed": _("This is not a coin code. Check what you typed."),
        "forged": _("This code is not genuine."),
        "expired": _("This code has expired. Ask for a new one."),
        "already_used": _("This code was already used."),
    }.get(reason, _("This code cannot be used."))


class CounterScreen(RoleHomeScreen):
    def screen_title(self) -> str:
        return _("Coin counter")

    async def refresh(self) -> None:
        municipality = (await self.signed_in_user()).get("municipality") or {}
        day = await self.app.client.call("Redemptions", "redemptions")
        programme = None
        if municipality.get("id"):
            try:
                programme = await self.app.client.call("CoinProgramme", "coinProgramme",
                                                       {"municipalityId": municipality["id"]})
            except Rejected as exc:
                programme = {"problem": rejection(exc.as_dict())}
        self.clear()
        self.heading(_("Redeem coins · {city}").format(city=municipality.get("name", "")))
        self.code_field = CodeField(hint_text=_("Code"))
        self.code_field.bind(on_text_validate=lambda *_: self.check_typed())
        self.content.add_widget(self.code_field)
        self.button(_("Check the code"), self.check_typed)
        self.button(_("Pick a photo of the QR code"), self.pick_image, tone="secondary")
        self.preview_box = BoxLayout(orientation="vertical", size_hint_y=None, height=0, spacing=dp(6))
        self.preview_box.bind(minimum_height=self.preview_box.setter("height"))
        self.content.add_widget(self.preview_box)
        self.day_list(day)
        self.programme(programme)
        self.button(_("Settings"), lambda: self.app.go("settings"), tone="secondary")

    # checking and redeeming ---------------------------------------------------------------------
    def check_typed(self) -> None:
        code = self.code_field.code
        if not code:
            self.show_problem(_("Type the code or pick a photo of it."))
            return
        self.app.spawn(self.preview({"code": code}))

    def pick_image(self) -> None:
        chooser = FileChooserListView(path=str(Path.home()), filters=["*.png", "*.jpg", "*.jpeg"])
        popup = Popup(title=_("Photo of the QR code"), content=chooser, size_hint=(0.95, 0.9))
        chooser.bind(on_submit=lambda _w, selection, *_: (popup.dismiss(), self.use_image(selection[0])))
        popup.open()
        self.chooser_popup = popup

    def use_image(self, path: str) -> None:
        data = Path(path).read_bytes()
        if len(data) > MAX_IMAGE_BYTES:
            self.show_problem(_("The photo is too large. Type the code instead."))
            return
        self.app.spawn(self.preview({"imageBase64": base64.b64encode(data).decode()}))

    def show_problem(self, text: str) -> None:
        self.preview_box.clear_widgets()
        self.preview_box.add_widget(Para(text=text, color=(0.7, 0.1, 0.1, 1)))

    async def preview(self, variables: dict[str, str]) -> None:
        self.preview_box.clear_widgets()
        try:
            found = await self.app.client.call("RedemptionPreview", "redemptionPreview", variables)
        except Rejected as exc:
            if exc.typename == "InvalidRedemptionCode":
                self.show_problem(code_problem(exc.details.get("reason", "")))
            elif exc.typename == "ValidationFailed" and exc.details.get("field") == "imageBase64":
                self.show_problem(_("No single QR code was found in the photo. Type the code instead."))
            else:
                self.show_problem(rejection(exc.as_dict()))
            return
        self.found = found
        self.code_field.text = found["code"]
        card = Card(tint=(0.91, 0.97, 0.92, 1) if found["state"] == "valid" else (0.99, 0.91, 0.9, 1))
        card.add_widget(Tile(caption=_("Amount"), value=formats.won(found["amountWon"])))
        card.add_widget(Para(text=_("Holder reference: {ref}").format(ref=found["holderReference"])))
        self.preview_box.add_widget(card)
        if found["state"] != "valid":
            self.preview_box.add_widget(Para(text=code_problem(found["state"]), color=(0.7, 0.1, 0.1, 1)))
            return
        confirm = Btn(text=_("Confirm: redeem {amount}").format(amount=formats.won(found["amountWon"])))
        confirm.bind(on_release=lambda *_: self.app.spawn(self.redeem(found["code"])))
        self.preview_box.add_widget(confirm)

    async def redeem(self, code: str) -> None:
        try:
            done = await self.app.client.call("RedeemCoins", "redeemCoins", {"code": code})
        except Rejected as exc:
            self.show_problem(code_problem(exc.details.get("reason", "")) if exc.typename == "InvalidRedemptionCode"
                              else rejection(exc.as_dict()))
            return
        await self._load()
        self.preview_box.add_widget(Para(text=_("Redeemed {amount}.").format(amount=formats.won(done["amountWon"])),
                                         color=(0.05, 0.45, 0.2, 1)))

    # today's list and the programme -------------------------------------------------------------
    def day_list(self, day: dict[str, Any]) -> None:
        self.heading(_("Today's redemptions"))
        self.note(ngettext("{n} code redeemed, {total} in all", "{n} codes redeemed, {total} in all",
                           day["count"]).format(n=day["count"], total=formats.won(day["totalWon"])))
        for line in day["items"]:
            card = Card()
            card.add_widget(Para(text=f"{formats.clock(line['redeemedAt'])} · {formats.won(line['amountWon'])}"))
            card.add_widget(Note(text=_("Holder {ref} · officer {officer}").format(
                ref=line["holderReference"], officer=line["officer"])))
            self.content.add_widget(card)

    def programme(self, programme: dict[str, Any] | None) -> None:
        if programme is None:
            return
        if "problem" in programme:
            self.heading(_("Coin programme"))
            self.note(programme["problem"])
            return
        self.heading(_("Coin programme {year}").format(year=programme["year"]))
        grid = GridLayout(cols=2, spacing=dp(8), size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        for caption, value in [(_("Budget"), programme["budgetWon"]), (_("Issued"), programme["issuedWon"]),
                               (_("Redeemed"), programme["redeemedWon"]),
                               (_("Outstanding"), programme["outstandingWon"])]:
            grid.add_widget(Tile(caption=caption, value=formats.won(value)))
        self.content.add_widget(grid)
        self.note(_("Budget left: {won}").format(won=formats.won(programme["remainingBudgetWon"])))
