"""Smart plugs: pairing code, names, live power, the last 24 hours, standby cost, laundry window,
and the parent's consent to DR automation. Layout in ``plugs.kv``."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, DictProperty, ObjectProperty, StringProperty

from mobile import formats
from mobile.api.errors import Rejected
from mobile.i18n import _
from mobile.messages import rejection
from mobile.screens import plug_pairing
from mobile.screens.base import BaseScreen, load_kv
from mobile.screens.plug_pairing import PairingForm
from mobile.widgets.charts import BarChart
from mobile.widgets.common import Card, Column, Note, Para

load_kv("plugs")


class PlugCard(Card):
    plug = DictProperty({})
    now = StringProperty("")
    standby = StringProperty("")


class PlugControls(Column):
    screen = ObjectProperty(None)
    plug = DictProperty({})


class DeviceSetupCard(Card):
    paired = StringProperty("")

    def __init__(self, setup: dict[str, Any], paired: str, **kw) -> None:
        super().__init__(paired=paired, **kw)
        for label, value in plug_pairing.setup_lines(setup):  # label above value: long values wrap whole
            self.ids.lines.add_widget(Note(text=label))
            # the password in a typewriter font: l, 1, I, O and 0 must not be mistaken when typed
            mono = {"font_name": "RobotoMono-Regular"} if value == setup["password"] else {}
            self.ids.lines.add_widget(Para(text=value, **mono))


class PlugsScreen(BaseScreen):
    refresh_after_sync = False
    can_pair = BooleanProperty(False)
    #: the last pairing's device setup, shown until the parent leaves the screen (the password is
    #: not kept anywhere else)
    paired_setup = DictProperty({})
    _form: PairingForm | None = None

    def on_leave(self, *args) -> None:
        self.paired_setup = {}
        self.ids.setup.clear_widgets()

    def device_hint(self, vendor: str) -> str:
        return plug_pairing.device_hint(vendor)

    def screen_title(self) -> str:
        return _("Smart plugs")

    @property
    def household(self) -> str | None:
        return (self.app.user.get("household") or {}).get("id")

    async def refresh(self) -> None:
        ids = self.ids
        ids.plugs.clear_widgets()
        ids.laundry.text = ids.pairing.text = ""
        self.can_pair = bool(self.household) and not self.app.is_student
        self.show_pairing()
        if not self.household:
            ids.empty.text = _("You are not in a household yet.")
            return
        plugs = await self.app.client.call("Plugs", "plugs", {"householdId": self.household})
        try:
            window = await self.app.client.call("LaundryWindow", "laundryWindow", {"hours": 2})
            ids.laundry.text = _("Best time for laundry today: {start}:00–{end}:00 ({cost})").format(
                start=window["startHour"], end=window["endHour"], cost=formats.won(round(window["costWon"])))
        except Rejected:
            pass
        ids.empty.text = "" if plugs["items"] else _("No plugs yet.")
        for plug in plugs["items"]:
            ids.plugs.add_widget(self.plug_card(plug))

    def plug_card(self, plug: dict[str, Any]) -> PlugCard:
        card = PlugCard(plug=plug)
        power = (_("{w} W now").format(w=formats.number(plug["powerW"], 1)) if plug["powerW"] is not None
                 else _("Offline"))
        card.now = f"{power} · " + _("today {kwh}").format(kwh=formats.kwh(plug["todayKwh"]))
        if plug["standby"]:
            card.standby = _("Standby {w} W costs about {won} a year").format(
                w=formats.number(plug["standby"]["watts"], 1), won=formats.won(plug["standby"]["wonPerYear"]))
        hours = (plug.get("hourly") or {}).get("hours") or []
        if hours:
            card.ids.chart.add_widget(BarChart([[None if h["missing"] else h["kwh"] for h in hours]],
                                               [h["hour"][11:13] if i % 6 == 0 else "" for i, h in enumerate(hours)],
                                               _("kWh per hour, last 24 hours")))
        if not self.app.is_student:
            card.add_widget(PlugControls(screen=self, plug=plug))
        return card

    def rename(self, plug: dict[str, Any], name: str) -> None:
        self.app.spawn(self.mutate("RenamePlug", "renamePlug", {"plugId": plug["id"], "name": name}))

    def set_automation(self, plug: dict[str, Any], enabled: bool) -> None:
        self.app.spawn(self.mutate("SetPlugDrAutomation", "setPlugDrAutomation",
                                   {"plugId": plug["id"], "enabled": enabled}))

    async def mutate(self, op: str, field: str, variables: dict[str, Any]) -> None:
        try:
            await self.app.client.call(op, field, variables)
        except Rejected as exc:
            self.status_text = rejection(exc.as_dict())
        await self.refresh()

    async def pairing_code(self) -> None:
        code = await self.app.client.call("CreatePlugPairingCode", "createPlugPairingCode",
                                          {"householdId": self.household})
        self.ids.pairing.text = _("Code {code}, valid until {time}").format(
            code=code["code"], time=formats.clock(code["expiresAt"]))

    def show_pairing(self) -> None:
        """The setup of the device just paired, and the form (rebuilt in the current language)."""
        ids = self.ids
        ids.setup.clear_widgets()
        if self.paired_setup:
            ids.setup.add_widget(DeviceSetupCard(self.paired_setup["setup"], self.paired_setup["paired"]))
        ids.pair_box.clear_widgets()
        if self.can_pair:
            self._form = self._form or PairingForm(screen=self)
            self._form.build()
            ids.pair_box.add_widget(self._form)

    async def pair(self, form: PairingForm) -> None:
        """Take a pairing code and pair the form's device with it; then show its MQTT settings."""
        arguments = form.arguments()
        form.ids.error.text = ""
        if not arguments["deviceId"] or not arguments["name"] or not arguments["channels"]:
            form.ids.error.text = _("Enter the device id and a name, and choose at least one channel.")
            return
        try:
            code = await self.app.client.call("CreatePlugPairingCode", "createPlugPairingCode",
                                              {"householdId": self.household})
            paired = await self.app.client.call("PairPlug", "pairPlug", {"code": code["code"], **arguments})
        except Rejected as exc:
            form.ids.error.text = rejection(exc.as_dict())
            return
        names = ", ".join(p["name"] for p in paired["plugs"])
        self.paired_setup = {"setup": paired["deviceSetup"], "paired": _("Paired: {names}").format(names=names)} \
            if paired.get("deviceSetup") else {}
        form.ids.device.text = form.ids.name.text = ""
        await self.refresh()
        if self.paired_setup:
            self.ids.scroll.scroll_to(self.ids.setup, animate=False)
