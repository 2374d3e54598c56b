"""Wallet: balances, conversions (through the outbox), the coin code as a QR code with its countdown,
and the ledger history where each line can be verified on the phone. Layout in ``wallet.kv``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ObjectProperty

from mobile import formats
from mobile.api.errors import Rejected
from mobile.i18n import N_, _, language
from mobile.messages import rejection
from mobile.screens.base import BaseScreen, load_kv
from mobile.verifying import FAILED, NOT_YET, VERIFIED, verify_entry
from mobile.widgets.common import Btn, Card, Note, Para, Tile
from mobile.widgets.qr import QrImage

load_kv("wallet")

ASSET_NAMES = {"points": N_("Points"), "volunteer_minutes": N_("Volunteer time"),
               "mileage_won": N_("Mileage"), "coins_won": N_("Local coins")}


class WalletScreen(BaseScreen):
    refresh_after_sync = True
    student = BooleanProperty(False)
    points_field = ObjectProperty(None)
    amount_field = ObjectProperty(None)

    def screen_title(self) -> str:
        return _("Wallet")

    async def refresh(self) -> None:
        self.wallet = await self.app.client.call("Wallet", "wallet", {"historyLimit": 50})
        self.render()

    def render(self) -> None:
        w, ids = self.wallet, self.ids
        self.student = self.app.is_student
        ids.tiles.clear_widgets()
        for caption, value in [(_("Points"), formats.number(w["points"])),
                               (_("Volunteer time"), formats.minutes(w["volunteerMinutes"])),
                               (_("Mileage"), formats.won(w["mileageWon"])),
                               (_("Local coins"), formats.won(sum(c["won"] for c in w["coins"])))]:
            ids.tiles.add_widget(Tile(caption=caption, value=value))
        ids.history.clear_widgets()
        self.results: dict[int, Note] = {}
        for line in w["history"]:
            card = Card()
            name = _(ASSET_NAMES.get(line["asset"].lower(), line["asset"]))
            amount = ("+" if line["amount"] > 0 else "") + formats.number(line["amount"])
            card.add_widget(Para(text=f"{name} {amount} · {formats.moment(line['recordedAt'])}"))
            if line["memo"] and language() == "en":  # the server writes memos in English
                card.add_widget(Note(text=line["memo"]))
            result = Note(text="")
            card.add_widget(result)
            check = Btn(text=_("Check"), tone="secondary")
            check.bind(on_release=lambda *_, line=line: self.app.spawn(self.verify(line)))
            card.add_widget(check)
            self.results[line["seq"]] = result
            ids.history.add_widget(card)

    def convert(self, target: str) -> None:
        try:
            points = int(self.points_field.text)
        except ValueError:
            self.status_text = _("Enter the points to convert.")
            return
        self.app.outbox.add("convert_points", {"target": target, "points": points})
        self.points_field.text = ""
        self.app.queued()
        self.status_text = self.app.sync_line()

    def to_coins(self) -> None:
        self.app.outbox.add("convert_mileage", {})
        self.app.queued()

    async def make_code(self) -> None:
        municipality = ((self.app.user.get("household") or {}).get("municipality") or {})
        try:
            amount = int(self.amount_field.text)
        except ValueError:
            self.status_text = _("Enter an amount in won.")
            return
        code_box = self.ids.code_box
        code_box.clear_widgets()
        try:
            issued = await self.app.client.call("CreateRedemptionCode", "createRedemptionCode",
                                                {"municipalityId": municipality.get("id", "0"), "amountWon": amount})
        except Rejected as exc:
            code_box.add_widget(Para(text=rejection(exc.as_dict())))
            return
        code_box.add_widget(QrImage(issued["code"], size_hint_y=None, height=dp(240)))
        code_box.add_widget(Para(text=formats.won(issued["amountWon"]), halign="center"))
        self.countdown = Para(text="", halign="center")
        code_box.add_widget(self.countdown)
        expires = datetime.fromisoformat(issued["expiresAt"])
        self.issued = issued

        def tick(*args):
            left = (expires - datetime.now(UTC)).total_seconds()
            self.countdown.text = (_("Valid for {time}").format(time=formats.countdown(left)) if left > 0
                                   else _("Expired. Make a new code."))
            return left > 0

        tick()
        Clock.schedule_interval(tick, 1)

    async def verify(self, line: dict[str, Any]) -> None:
        label = self.results[line["seq"]]
        key = self.app.app_settings.verifier_key
        if not key:
            label.text = _("FAILED: no ledger key is pinned in Settings.")
            return
        label.text = _("Checking…")
        outcome = await verify_entry(self.app.client, self.app.outbox, key, line)
        if outcome.state == VERIFIED:
            label.text = _("Verified: entry {index} of {size} in {origin}").format(
                index=outcome.seq, size=outcome.tree_size, origin=outcome.origin)
            label.color = (0.05, 0.45, 0.2, 1)
        elif outcome.state == NOT_YET:
            label.text = _("Not in a signed checkpoint yet. Try again in a few minutes.")
        else:
            label.text = _("FAILED: this entry could not be proven ({reason}). Do not trust this balance.").format(
                reason=outcome.reason)
            label.color = (0.75, 0.1, 0.1, 1)
        self.last_outcome = outcome
