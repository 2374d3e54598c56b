"""Awards as their winners see them: on a student's home screen, and on a parent's child cards."""

from __future__ import annotations

from typing import Any

from mobile import formats
from mobile.i18n import _
from mobile.screens.students import category_name
from mobile.widgets.common import Card, Heading, Note, Para

STANDING = (1, 0.95, 0.80, 1)  # gold
WITHDRAWN = (0.93, 0.93, 0.93, 1)


def prize_text(a: dict[str, Any]) -> str:
    """"An honour", "300 points", or a shared prize: "50 points of 101 points"."""
    if a["honour"]:
        return _("An honour")
    amount = formats.won if a["asset"] == "coins_won" else formats.points
    if a["myShare"] == a["amount"]:
        return amount(a["amount"])
    return _("{share} of {prize}").format(share=amount(a["myShare"]), prize=amount(a["amount"]))


def award_card(a: dict[str, Any]) -> Card:
    card = Card(tint=WITHDRAWN if a["withdrawn"] else STANDING)
    card.award_id = a["id"]
    card.add_widget(Heading(text=_("{category} award · {period}").format(
        category=category_name(a["category"]), period=formats.period(a["period"]["kind"], a["period"]["firstDay"]))))
    if a["nomineeKind"] == "FAMILY":
        card.add_widget(Note(text=_("Awarded to the family {name}").format(name=a["nomineeName"])))
    elif a["nomineeKind"] == "CLASS":
        card.add_widget(Note(text=_("Awarded to class {name}").format(name=a["nomineeName"])))
    card.add_widget(Para(text=prize_text(a)))
    card.add_widget(Para(text=a["reason"]))
    card.add_widget(Note(text=_("Awarded on {day} by {school}").format(day=formats.day(a["awardedAt"]),
                                                                      school=a["schoolName"])))
    if a["withdrawn"]:
        card.add_widget(Para(text=_("Withdrawn on {day}: {reason}").format(
            day=formats.day(a["withdrawnAt"]), reason=a["withdrawnReason"] or ""), color=(0.55, 0.1, 0.1, 1)))
    return card


def add_award_cards(column, items: list[dict[str, Any]], heading: str | None = None) -> None:
    """Fill ``column`` with a heading (if given) and a card per award; nothing when there are none."""
    column.clear_widgets()
    if items and heading:
        column.add_widget(Heading(text=heading))
    for a in items:
        column.add_widget(award_card(a))
