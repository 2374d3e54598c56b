"""School staff's views of the whole school: the scoreboards (its classes, and the schools of its
city, for a month, term or school year, with the standing awards of the period) and the
power-saving events that reach the school with each class's delivery."""

from __future__ import annotations

from typing import Any

from kivy.metrics import dp
from kivy.uix.togglebutton import ToggleButton

from mobile import formats
from mobile.api.errors import Rejected
from mobile.i18n import _
from mobile.messages import rejection
from mobile.screens.awards import period_name
from mobile.screens.base import BaseScreen
from mobile.screens.dr import STATE_NAMES
from mobile.screens.staff import board_cards
from mobile.screens.students import category_name
from mobile.widgets.common import Card, Note, Para, Row

PERIODS = ("MONTH", "TERM", "SCHOOL_YEAR")
EVENTS_WITH_DELIVERY = 5  # the latest ended events get a per-class delivery line


class SchoolBoardScreen(BaseScreen):
    period = "MONTH"

    def screen_title(self) -> str:
        return _("School scoreboard")

    async def refresh(self) -> None:
        client = self.app.client
        school = (await client.call("MySchool", "me"))["school"] or {}
        classes = await client.call("Scoreboard", "scoreboard",
                                    {"level": "CLASS", "scopeId": school.get("id"), "period": self.period})
        try:
            schools = await client.call("Scoreboard", "scoreboard", {
                "level": "SCHOOL", "scopeId": (school.get("municipality") or {}).get("id"), "period": self.period})
        except Rejected as exc:
            schools = {"problem": rejection(exc.as_dict())}
        try:
            nominations = await client.call("Nominations", "nominations", {"schoolId": school.get("id")})
        except Rejected:  # a class teacher may not see the whole school's nominations
            nominations = {"items": []}
        self.clear()
        row = Row()
        self.period_buttons = {}
        for kind in PERIODS:
            tb = ToggleButton(text=period_name(kind.lower()), group="board-period", size_hint_y=None, height=dp(48),
                              allow_no_selection=False, state="down" if kind == self.period else "normal")
            tb.bind(on_release=lambda _w, k=kind: self.choose(k))
            self.period_buttons[kind] = tb
            row.add_widget(tb)
        self.content.add_widget(row)
        period = formats.period(classes["period"]["kind"], classes["period"]["firstDay"])
        self.heading(_("Classes of {school} · {period}").format(school=school.get("name", ""), period=period))
        board_cards(self.content, classes, _("No classes yet."))
        self.awards_of(nominations["items"], classes["period"])
        self.heading(_("Schools of the city · {period}").format(period=period))
        if "problem" in schools:
            self.note(schools["problem"])
        else:
            board_cards(self.content, schools, _("No schools yet."), own_id=school.get("id"))

    def choose(self, kind: str) -> None:
        if kind != self.period:
            self.period = kind
            self.app.spawn(self._load())

    def awards_of(self, nominations: list[dict[str, Any]], period: dict[str, Any]) -> None:
        """Standing awards whose period starts within the board's period."""
        first, last = period["firstDay"], period["lastDay"]
        standing = [n for n in nominations if n["status"] == "awarded" and first <= n["periodStart"] <= last]
        self.heading(_("Awards in this period"))
        if not standing:
            self.note(_("No awards in this period yet."))
        for n in standing:
            award = n["award"]
            what = _("an honour") if award["honour"] else formats.points(award["amount"])
            card = Card(tint=(1, 0.97, 0.88, 1))
            card.add_widget(Para(text=_("{name} · {category} · {what}").format(
                name=n["nomineeName"], category=category_name(n["category"]), what=what)))
            self.content.add_widget(card)


class SchoolDrScreen(BaseScreen):
    def screen_title(self) -> str:
        return _("Power-saving events of the school")

    async def refresh(self) -> None:
        client = self.app.client
        events = (await client.execute("DrEvents", {"upcoming": False}))["drEvents"]["items"]
        me = await client.call("MySchool", "me")
        classes = (me["school"] or {}).get("classes") or []
        self.clear()
        if not events:
            self.note(_("No power-saving events reach the school yet."))
        ended = [e for e in events if e["state"] == "ENDED"][:EVENTS_WITH_DELIVERY]
        for e in events:
            card = Card()
            card.add_widget(Para(text=e["title"]))
            card.add_widget(Note(text=f"{_(STATE_NAMES.get(e['state'], e['state']))} · {scope_name(e['scope'])} · "
                                      f"{formats.moment(e['startsAt'])} – {formats.clock(e['endsAt'])}"))
            card.add_widget(Note(text=_("Target {kw} kW").format(kw=formats.number(e["targetKw"], 1))))
            if e in ended:
                for school_class in classes:
                    card.add_widget(Note(text=await self.delivery_line(e["id"], school_class)))
            self.content.add_widget(card)

    async def delivery_line(self, event_id: str, school_class: dict[str, Any]) -> str:
        try:
            d = await self.app.client.call("DrTeamDelivery", "drTeamDelivery",
                                           {"eventId": event_id, "classId": school_class["id"]})
        except Rejected as exc:
            return f"{school_class['name']}: {rejection(exc.as_dict())}"
        return delivery_text(school_class["name"], d)


def delivery_text(name: str, d: dict[str, Any]) -> str:
    """A class's measured delivery against its contracted reduction, over 100 % when it over-delivered
    (the pooled rates stop at 100 %: they count what was credited, not what was saved)."""
    if not d["householdsPooled"]:
        return _("{name}: no household measured").format(name=name)
    ratio = d["deliveredKwh"] / d["contractedKwh"] if d["contractedKwh"] else None
    return _("{name}: delivered {delivered} of {contracted} ({rate})").format(
        name=name, delivered=formats.kwh(d["deliveredKwh"]), contracted=formats.kwh(d["contractedKwh"]),
        rate="–" if ratio is None else f"{formats.number(ratio * 100)}%")


def scope_name(scope: str) -> str:
    return {"NATIONAL": _("Nationwide"), "MUNICIPALITY": _("City"), "SCHOOL": _("School")}.get(scope, scope)
