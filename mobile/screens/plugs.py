"""Smart plugs: pairing code, names, live power, the last 24 hours, standby cost, laundry window,
and the parent's consent to DR automation."""

from __future__ import annotations

from typing import Any

from mobile import formats
from mobile.api.errors import Rejected
from mobile.i18n import _
from mobile.messages import rejection
from mobile.screens.base import BaseScreen
from mobile.widgets.charts import BarChart
from mobile.widgets.common import Btn, Card, Field, Note, Para


class PlugsScreen(BaseScreen):
    refresh_after_sync = False

    def screen_title(self) -> str:
        return _("Smart plugs")

    async def refresh(self) -> None:
        household = (self.app.user.get("household") or {}).get("id")
        self.clear()
        if not household:
            self.note(_("You are not in a household yet."))
            return
        plugs = await self.app.client.call("Plugs", "plugs", {"householdId": household})
        try:
            window = await self.app.client.call("LaundryWindow", "laundryWindow", {"hours": 2})
            self.para(_("Best time for laundry today: {start}:00–{end}:00 ({cost})").format(
                start=window["startHour"], end=window["endHour"], cost=formats.won(round(window["costWon"]))))
        except Rejected:
            pass
        if not plugs["items"]:
            self.note(_("No plugs yet."))
        for plug in plugs["items"]:
            self.render_plug(plug)
        if not self.app.is_student:
            self.heading(_("Pair a new plug"))
            self.pairing = Note(text="")
            self.button(_("Get a pairing code"), lambda: self.app.spawn(self.pairing_code(household)))
            self.content.add_widget(self.pairing)

    def render_plug(self, plug: dict[str, Any]) -> None:
        card = Card()
        card.add_widget(Para(text=plug["name"]))
        power = (_("{w} W now").format(w=formats.number(plug["powerW"], 1)) if plug["powerW"] is not None
                 else _("Offline"))
        card.add_widget(Note(text=f"{power} · " + _("today {kwh}").format(kwh=formats.kwh(plug["todayKwh"]))))
        if plug["standby"]:
            card.add_widget(Note(text=_("Standby {w} W costs about {won} a year").format(
                w=formats.number(plug["standby"]["watts"], 1), won=formats.won(plug["standby"]["wonPerYear"]))))
        hourly = plug.get("hourly") or {}
        hours = hourly.get("hours") or []
        if hours:
            card.add_widget(BarChart([[None if h["missing"] else h["kwh"] for h in hours]],
                                     [h["hour"][11:13] if i % 6 == 0 else "" for i, h in enumerate(hours)],
                                     _("kWh per hour, last 24 hours")))
        if not self.app.is_student:
            name = Field(text=plug["name"])
            card.add_widget(name)
            rename = Btn(text=_("Rename"), tone="secondary")
            rename.bind(on_release=lambda *_: self.app.spawn(self.mutate(
                "RenamePlug", "renamePlug", {"plugId": plug["id"], "name": name.text})))
            card.add_widget(rename)
            auto = plug["drAutomation"]
            toggle = Btn(text=_("Stop switching off in events") if auto else _("Allow switching off in events"),
                         tone="secondary")
            toggle.bind(on_release=lambda *_: self.app.spawn(self.mutate(
                "SetPlugDrAutomation", "setPlugDrAutomation", {"plugId": plug["id"], "enabled": not auto})))
            card.add_widget(toggle)
        self.content.add_widget(card)

    async def mutate(self, op: str, field: str, variables: dict[str, Any]) -> None:
        try:
            await self.app.client.call(op, field, variables)
        except Rejected as exc:
            self.status_text = rejection(exc.as_dict())
        await self.refresh()

    async def pairing_code(self, household: str) -> None:
        code = await self.app.client.call("CreatePlugPairingCode", "createPlugPairingCode", {"householdId": household})
        self.pairing.text = _("Code {code}, valid until {time}").format(code=code["code"], time=formats.clock(code["expiresAt"]))
