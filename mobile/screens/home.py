"""A student's home: their awards, this month's saving, points, volunteer time, mileage, coins and streak."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from mobile import formats
from mobile.i18n import _, ngettext
from mobile.screens.base import RoleHomeScreen, load_kv
from mobile.screens.won_awards import add_award_cards
from mobile.widgets.common import Tile

load_kv("home")


def month_summary(activities: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """kWh saved this month (accepted reports) and the streak of days with a report up to today."""
    month = [a for a in activities if a["occurredOn"][:7] == today.isoformat()[:7]]
    kwh = sum(float(a["kwh"]) for a in month if a["status"] == "ACCEPTED")
    days = {a["occurredOn"][:10] for a in activities if a["status"] != "REJECTED"}
    streak, day = 0, today
    if day.isoformat() not in days:
        day -= timedelta(days=1)
    while day.isoformat() in days:
        streak += 1
        day -= timedelta(days=1)
    return {"kwh": kwh, "streak": streak, "count": len(month)}


class HomeScreen(RoleHomeScreen):
    refresh_after_sync = True

    def screen_title(self) -> str:
        return _("Hello, {name}").format(name=self.app.user.get("displayName", ""))

    async def refresh(self) -> None:
        client = self.app.client
        await self.signed_in_user()
        if self.app.home_screen() != self.name:  # signed in before as a parent or staff
            self.app.go(self.app.home_screen())
            return
        wallet = await client.call("Wallet", "wallet", {"historyLimit": 1})
        acts = await client.call("Activities", "activities", {"limit": 200})
        won = await client.call("MyAwards", "myAwards")
        add_award_cards(self.ids.awards, won["items"], _("Your awards"))
        summary = month_summary(acts["items"], date.today())
        tiles = [
            (_("Electricity saved"), formats.kwh(summary["kwh"])),
            (_("Points"), formats.number(wallet["points"])),
            (_("Volunteer time"), formats.minutes(wallet["volunteerMinutes"])),
            (_("NEIS hours"), ngettext("{n} hour", "{n} hours", wallet["volunteerHours"]).format(
                n=formats.number(wallet["volunteerHours"]))),
            (_("Mileage"), formats.won(wallet["mileageWon"])),
            (_("Local coins"), formats.won(sum(c["won"] for c in wallet["coins"]))),
        ]
        self.ids.tiles.clear_widgets()
        for caption, value in tiles:
            self.ids.tiles.add_widget(Tile(caption=caption, value=value))
        if summary["streak"]:
            self.ids.streak.text = ngettext("{n} day in a row with a saving. Keep going!",
                                            "{n} days in a row with a saving. Keep going!",
                                            summary["streak"]).format(n=summary["streak"])
        else:
            self.ids.streak.text = _("Log a saving today to start a streak!")
        self.ids.pending.text = (_("{n} waiting to send: points appear once the server confirms them.").format(
            n=self.app.waiting) if self.app.waiting else "")
