"""Power-saving (DR) events: the notice, opting out (parents, through the outbox), and the
household's result with its baseline explained in words and a chart of baseline against use."""

from __future__ import annotations

from typing import Any

from mobile import formats
from mobile.api.errors import Rejected
from mobile.i18n import _
from mobile.screens.base import BaseScreen
from mobile.widgets.charts import BarChart
from mobile.widgets.common import Btn, Card, Note, Para

STATE_NAMES = {"SCHEDULED": "Scheduled", "NOTIFIED": "Announced", "RUNNING": "Now", "ENDED": "Ended",
               "CANCELLED": "Cancelled"}


def explain_baseline(s: dict[str, Any]) -> str:
    """The baseline in words a 13-year-old understands."""
    if s["baselineKwh"] is None:
        return _("There was not enough data before the event to know your usual use, so no points and no penalty.")
    return _("On {days} similar days before, your home usually used {base} in these hours. "
             "This time it used {actual}, so you saved {saved}.").format(
        days=len(s["usedDays"]), base=formats.kwh(s["baselineKwh"]), actual=formats.kwh(s["actualKwh"] or 0),
        saved=formats.kwh(s["reductionKwh"]))


class DrScreen(BaseScreen):
    refresh_after_sync = True

    def screen_title(self) -> str:
        return _("Power-saving events")

    async def refresh(self) -> None:
        events = (await self.app.client.execute("DrEvents", {"upcoming": False}))["drEvents"]["items"]
        self.clear()
        if not events:
            self.note(_("No power-saving events yet. You will be told before one starts."))
        for e in events:
            await self.render_event(e)

    async def render_event(self, e: dict[str, Any]) -> None:
        card = Card()
        card.add_widget(Para(text=e["title"]))
        card.add_widget(Note(text=f"{_(STATE_NAMES.get(e['state'], e['state']))} · "
                                  f"{formats.moment(e['startsAt'])} – {formats.clock(e['endsAt'])}"))
        p = e.get("myParticipation")
        if p:
            card.add_widget(Note(text=_("Your home takes part.") if p["optedIn"] else _("Your home opted out.")))
            if p["forgiven"]:
                card.add_widget(Note(text=_("No penalty for this event: it was not your fault.")))
            if not self.app.is_student and p["optedIn"] and e["state"] in ("SCHEDULED", "NOTIFIED", "RUNNING"):
                out = Btn(text=_("Opt out of this event"), tone="danger")
                out.bind(on_release=lambda *_, e=e, p=p: self.opt_out(e, p))
                card.add_widget(out)
            if e["state"] == "ENDED":
                try:
                    s = await self.app.client.call("DrSettlement", "drSettlement",
                                                   {"eventId": e["id"], "householdId": p["householdId"]})
                except Rejected:
                    s = None
                if s:
                    card.add_widget(Para(text=explain_baseline(s)))
                    card.add_widget(Note(text=_("Points: {n}").format(n=formats.number(s["points"]))))
                    hours = [h for h in s["hours"]]
                    if hours:
                        card.add_widget(BarChart(
                            [[h["baselineKwh"] for h in hours], [h["actualKwh"] for h in hours]],
                            [f"{h['hour']}" for h in hours], _("grey: usual use · green: this time (kWh per hour)")))
        self.content.add_widget(card)

    def opt_out(self, e: dict[str, Any], p: dict[str, Any]) -> None:
        self.app.outbox.add("dr_participation", {"eventId": e["id"], "householdId": p["householdId"], "optedIn": False})
        self.app.queued()
