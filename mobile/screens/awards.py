"""The school admin's awards: prize budgets with what is left (and funding a points budget), the
school's nominations to award from a budget or as an honour, and standing awards to withdraw."""

from __future__ import annotations

from typing import Any

from kivy.metrics import dp
from kivy.uix.gridlayout import GridLayout
from kivy.uix.togglebutton import ToggleButton

from mobile import formats
from mobile.api.errors import Rejected
from mobile.i18n import _
from mobile.messages import rejection
from mobile.screens.base import BaseScreen
from mobile.screens.students import category_name, status_name
from mobile.widgets.common import Btn, Card, Field, Note, Para, Row, Tile



def kind_name(kind: str) -> str:
    return {"STUDENT": _("Student"), "FAMILY": _("Family"), "CLASS": _("Class")}.get(kind, kind)


def period_name(kind: str) -> str:
    return {"month": _("Month"), "term": _("Term"), "school_year": _("School year")}.get(kind, kind)


def whole(text: str) -> int | None:
    """A positive whole number typed in a field, else None."""
    text = "".join(text.split()).replace(",", "")
    return int(text) if text.isdigit() and int(text) > 0 else None


def award_problem(exc: Rejected) -> str:
    if exc.typename == "LimitReached":
        return _("The budget has too little left for this prize.")
    if exc.typename == "AlreadyExists":
        return _("This nominee already has an award in this category and period.")
    if exc.typename == "ValidationFailed" and exc.details.get("field") == "amount":
        return _("A prize is at least 1 point per winner.")
    return rejection(exc.as_dict())


class AwardsScreen(BaseScreen):
    def screen_title(self) -> str:
        return _("Awards")

    async def refresh(self) -> None:
        if not self.app.user:
            await self.app.load_me()
        school = self.app.user.get("school") or {}
        self.school_id = school.get("id")
        budgets = await self.app.client.call("PrizeBudgets", "prizeBudgets", {"schoolId": self.school_id})
        nominations = await self.app.client.call("Nominations", "nominations", {"schoolId": self.school_id})
        self.budgets = [b for b in budgets["items"] if b["asset"] == "points"]
        self.clear()
        self.message = Para(text="")
        self.content.add_widget(self.message)
        self.budget_section()
        self.nomination_cards: dict[str, Any] = {}
        items = nominations["items"]
        self.heading(_("Nominations to decide"))
        open_ones = [n for n in items if n["status"] == "open"]
        if not open_ones:
            self.note(_("No nominations are waiting."))
        for n in open_ones:
            self.content.add_widget(self.open_card(n))
        self.heading(_("Decided"))
        decided = [n for n in items if n["status"] != "open"]
        if not decided:
            self.note(_("No awards yet."))
        for n in decided:
            self.content.add_widget(self.decided_card(n))

    def say(self, text: str, ok: bool) -> None:
        self.message.text = text
        self.message.color = (0.05, 0.45, 0.2, 1) if ok else (0.7, 0.1, 0.1, 1)
        self.ids.scroll.scroll_y = 1

    # budgets ------------------------------------------------------------------------------------
    def budget_section(self) -> None:
        self.heading(_("Prize budgets"))
        if not self.budgets:
            self.note(_("No points budget yet: fund one to give prizes, or award an honour."))
        grid = GridLayout(cols=1, spacing=dp(8), size_hint_y=None)  # one a row: "1,000 points of 1,000 left" fits
        grid.bind(minimum_height=grid.setter("height"))
        for b in self.budgets:
            grid.add_widget(Tile(caption=b["name"], value=_("{left} of {funded} left").format(
                left=formats.points(b["remaining"]), funded=formats.number(b["funded"]))))
        self.content.add_widget(grid)
        row = Row()
        self.budget_name = Field(hint_text=_("Budget name"))
        self.budget_amount = Field(hint_text=_("Points"), input_filter="int")
        row.add_widget(self.budget_name)
        row.add_widget(self.budget_amount)
        self.content.add_widget(row)
        self.button(_("Fund a points budget"), lambda: self.app.spawn(self.fund()), tone="secondary")

    async def fund(self) -> None:
        amount, name = whole(self.budget_amount.text), " ".join(self.budget_name.text.split())
        if amount is None or not name:
            self.say(_("Give the budget a name and a number of points."), ok=False)
            return
        try:
            await self.app.client.call("CreatePrizeBudget", "createPrizeBudget",
                                       {"name": name, "amount": amount, "schoolId": self.school_id})
        except Rejected as exc:
            self.say(rejection(exc.as_dict()), ok=False)
            return
        await self._load()
        self.say(_("Budget {name} funded with {points}.").format(name=name, points=formats.points(amount)), ok=True)

    # nominations --------------------------------------------------------------------------------
    def header(self, card, n: dict[str, Any]) -> None:
        card.add_widget(Para(text=f"{kind_name(n['nomineeKind'])} · {n['nomineeName']}"
                                  f" · {category_name(n['category'])}"))
        card.add_widget(Note(text=_("{period} · {status}").format(
            period=formats.period(n["periodKind"], n["periodStart"]), status=status_name(n["status"]))))
        card.add_widget(Para(text=n["reason"]))
        evidence = len(n["activityIds"]) + len(n["photoIds"]) + (1 if n["drEventId"] else 0)
        if evidence:
            card.add_widget(Note(text=_("Evidence: {n} items").format(n=evidence)))

    def open_card(self, n: dict[str, Any]) -> Card:
        card = Card()
        self.header(card, n)
        card.budget_buttons = []
        usable = [b for b in self.budgets if b["remaining"] > 0]
        for i, b in enumerate(usable):
            tb = ToggleButton(text=_("{name}: {left} left").format(name=b["name"], left=formats.points(b["remaining"])),
                              group=f"budget-{n['id']}", size_hint_y=None, height=dp(48),
                              state="down" if i == 0 else "normal")
            tb.budget_id = b["id"]
            card.budget_buttons.append(tb)
            card.add_widget(tb)
        row = Row()
        card.amount = Field(hint_text=_("Points"), input_filter="int")
        row.add_widget(card.amount)
        prize = Btn(text=_("Award points"), disabled=not usable)
        prize.bind(on_release=lambda *_: self.app.spawn(self.award(n, card, honour=False)))
        row.add_widget(prize)
        card.add_widget(row)
        honour = Btn(text=_("Award as an honour (no points)"), tone="secondary")
        honour.bind(on_release=lambda *_: self.app.spawn(self.award(n, card, honour=True)))
        card.add_widget(honour)
        self.nomination_cards[n["id"]] = card
        return card

    async def award(self, n: dict[str, Any], card, honour: bool) -> None:
        variables: dict[str, Any] = {"nominationId": n["id"], "budgetId": None, "amount": 0}
        if not honour:
            chosen = [tb.budget_id for tb in card.budget_buttons if tb.state == "down"]
            amount = whole(card.amount.text)
            if not chosen or amount is None:
                self.say(_("Choose a budget and type the points."), ok=False)
                return
            variables.update(budgetId=chosen[0], amount=amount)
        try:
            done = await self.app.client.call("AwardNomination", "awardNomination", variables)
        except Rejected as exc:
            self.say(award_problem(exc), ok=False)
            return
        await self._load()
        if done["honour"]:
            self.say(_("{name} receives an honour.").format(name=n["nomineeName"]), ok=True)
        else:
            self.say(_("{name} is awarded {points}.").format(name=n["nomineeName"],
                                                             points=formats.points(done["amount"])), ok=True)

    def decided_card(self, n: dict[str, Any]) -> Card:
        award = n["award"] or {}
        card = Card(tint=(0.91, 0.97, 0.92, 1) if n["status"] == "awarded" else (0.94, 0.94, 0.94, 1))
        self.header(card, n)
        if award:
            what = _("an honour") if award["honour"] else formats.points(award["amount"])
            card.add_widget(Para(text=_("Awarded {what} on {day} · ledger entry {seq}").format(
                what=what, day=formats.day(award["awardedAt"]), seq=award["firstSeq"])))
        if award.get("withdrawnAt"):
            card.add_widget(Note(text=_("Withdrawn on {day}: {reason}").format(
                day=formats.day(award["withdrawnAt"]), reason=award["withdrawnReason"])))
        elif award:
            card.reason = Field(hint_text=_("Reason to withdraw"))
            card.add_widget(card.reason)
            withdraw = Btn(text=_("Withdraw the award"), tone="danger")
            withdraw.bind(on_release=lambda *_: self.app.spawn(self.withdraw(n, award, card)))
            card.add_widget(withdraw)
        self.nomination_cards[n["id"]] = card
        return card

    async def withdraw(self, n: dict[str, Any], award: dict[str, Any], card) -> None:
        reason = " ".join(card.reason.text.split())
        if len(reason) < 5:
            self.say(_("Say why the award is withdrawn."), ok=False)
            return
        try:
            await self.app.client.call("WithdrawAward", "withdrawAward", {"awardId": award["id"], "reason": reason})
        except Rejected as exc:
            self.say(rejection(exc.as_dict()), ok=False)
            return
        await self._load()
        self.say(_("The award to {name} is withdrawn; the points went back to the budget.").format(
            name=n["nomineeName"]), ok=True)
