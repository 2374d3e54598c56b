"""Power-saving (DR) events: the notice, opting out (parents, through the outbox), the live view
while an event runs (the whole event's reduction against its target), and the household's result
with its baseline explained in words and a chart of baseline against use. Layout in ``dr.kv``."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, DictProperty, NumericProperty, ObjectProperty, StringProperty

from mobile import formats
from mobile.api.errors import Rejected
from mobile.i18n import N_, _
from mobile.screens.base import BaseScreen, load_kv
from mobile.widgets.charts import BarChart
from mobile.widgets.common import Card

load_kv("dr")

STATE_NAMES = {"SCHEDULED": N_("Scheduled"), "NOTIFIED": N_("Announced"), "RUNNING": N_("Now"),
               "ENDED": N_("Ended"), "CANCELLED": N_("Cancelled")}
OPEN_STATES = ("SCHEDULED", "NOTIFIED", "RUNNING")
LIVE_SECONDS = 10  # the server computes the live view at most this often


def explain_baseline(s: dict[str, Any]) -> str:
    """The baseline in words a 13-year-old understands."""
    if s["baselineKwh"] is None:
        return _("There was not enough data before the event to know your usual use, so no points and no penalty.")
    return _("On {days} similar days before, your home usually used {base} in these hours. "
             "This time it used {actual}, so you saved {saved}.").format(
        days=len(s["usedDays"]), base=formats.kwh(s["baselineKwh"]), actual=formats.kwh(s["actualKwh"] or 0),
        saved=formats.kwh(s["reductionKwh"]))


def explain_live(view: dict[str, Any]) -> str:
    """The live view in one sentence: the event's reduction so far against its target."""
    target = formats.number(view["targetKw"], 1)
    if view["reductionKw"] is None:
        return _("Goal: {target} kW less. The total appears once enough homes take part.").format(target=target)
    text = _("Together {kw} kW less of the {target} kW goal").format(
        kw=formats.number(max(0.0, view["reductionKw"]), 1), target=target)
    return text + " · " + _("updated {time}").format(time=formats.clock(view["updatedAt"]))


class DrEventCard(Card):
    """One event (rules in ``dr.kv``); the screen fills its texts."""

    screen = ObjectProperty(None)
    event = DictProperty({})
    when = StringProperty("")
    choice = StringProperty("")
    forgiven = StringProperty("")
    can_opt_out = BooleanProperty(False)
    live = StringProperty("")
    live_share = NumericProperty(0)
    result = StringProperty("")
    points = StringProperty("")

    def opt_out(self) -> None:
        self.screen.opt_out(self.event, self.event["myParticipation"])

    def show_live(self, view: dict[str, Any]) -> None:
        self.live = explain_live(view)
        reduction = view["reductionKw"] or 0.0
        self.live_share = min(1.0, max(0.0, reduction / view["targetKw"])) if view["targetKw"] else 0.0

    def show_result(self, s: dict[str, Any]) -> None:
        self.result = explain_baseline(s)
        self.points = _("Points: {n}").format(n=formats.number(s["points"]))
        self.ids.chart.clear_widgets()
        hours = s["hours"]
        if hours:
            self.ids.chart.add_widget(BarChart(
                [[h["baselineKwh"] for h in hours], [h["actualKwh"] for h in hours]],
                [f"{h['hour']}" for h in hours], _("grey: usual use · green: this time (kWh per hour)")))


class DrScreen(BaseScreen):
    refresh_after_sync = True
    no_events = BooleanProperty(False)

    def screen_title(self) -> str:
        return _("Power-saving events")

    async def refresh(self) -> None:
        events = (await self.app.client.execute("DrEvents", {"upcoming": False}))["drEvents"]["items"]
        self.cards: dict[str, DrEventCard] = {}
        self.ids.events.clear_widgets()
        self.no_events = not events
        for e in events:
            card = self.event_card(e)
            self.cards[e["id"]] = card
            self.ids.events.add_widget(card)
            if e["state"] in ("RUNNING", "ENDED"):
                await self.load_live(card)
            if e["state"] == "ENDED" and e.get("myParticipation"):
                await self.load_result(card)
        self._poll(any(e["state"] == "RUNNING" for e in events))

    def event_card(self, e: dict[str, Any]) -> DrEventCard:
        card = DrEventCard(screen=self, event=e)
        card.when = (f"{_(STATE_NAMES.get(e['state'], e['state']))} · "
                     f"{formats.moment(e['startsAt'])} – {formats.clock(e['endsAt'])}")
        p = e.get("myParticipation")
        if p:
            card.choice = _("Your home takes part.") if p["optedIn"] else _("Your home opted out.")
            if p["forgiven"]:
                card.forgiven = _("No penalty for this event: it was not your fault.")
            card.can_opt_out = not self.app.is_student and p["optedIn"] and e["state"] in OPEN_STATES
        return card

    async def load_live(self, card: DrEventCard) -> None:
        try:
            view = await self.app.client.call("DrLiveView", "drLiveView", {"eventId": card.event["id"]})
        except Rejected:
            return
        card.show_live(view)

    async def load_result(self, card: DrEventCard) -> None:
        e = card.event
        try:
            s = await self.app.client.call("DrSettlement", "drSettlement",
                                           {"eventId": e["id"], "householdId": e["myParticipation"]["householdId"]})
        except Rejected:
            return
        card.show_result(s)

    # the live view of a running event, refreshed while the screen is shown -----------------------
    def _poll(self, running: bool) -> None:
        if getattr(self, "_live_timer", None) is not None:
            self._live_timer.cancel()
            self._live_timer = None
        if running:
            self._live_timer = Clock.schedule_interval(lambda _dt: self.app.spawn(self._refresh_live()), LIVE_SECONDS)

    async def _refresh_live(self) -> None:
        for card in list(self.cards.values()):
            if card.event["state"] == "RUNNING":
                await self.load_live(card)

    def on_leave(self, *args) -> None:
        self._poll(False)

    def opt_out(self, e: dict[str, Any], p: dict[str, Any]) -> None:
        self.app.outbox.add("dr_participation", {"eventId": e["id"], "householdId": p["householdId"], "optedIn": False})
        self.app.queued()
