"""A parent's home: children (consent, awards, activity, wallet), photos to review, events, plugs, own data.
Layout in ``family.kv``."""

from __future__ import annotations

import json
from typing import Any

from kivy.properties import BooleanProperty, DictProperty, ObjectProperty, StringProperty

from mobile import formats
from mobile.api.errors import Rejected
from mobile.i18n import _
from mobile.messages import rejection, review_reason
from mobile.screens.base import BaseScreen, load_kv
from mobile.screens.history import status_text
from mobile.screens.log_activity import type_name
from mobile.screens.won_awards import add_award_cards
from mobile.widgets.common import Card, Note

load_kv("family")


class ChildCard(Card):
    screen = ObjectProperty(None)
    child = DictProperty({})
    given = BooleanProperty(False)
    points = StringProperty("")


class ReviewCard(Card):
    screen = ObjectProperty(None)
    photo = DictProperty({})
    claim = StringProperty("")
    reasons = StringProperty("")


class FamilyScreen(BaseScreen):
    refresh_after_sync = True
    no_photos = BooleanProperty(False)

    def screen_title(self) -> str:
        return _("Family")

    def back(self) -> None:
        self.app.go("settings")

    async def refresh(self) -> None:
        me = await self.app.load_me()
        types = {t["key"]: type_name(t) for t in await self.app.types()}
        won = (await self.app.client.call("MyAwards", "myAwards"))["items"]
        cards = [await self.child_card(link, types, won) for link in me.get("children") or []]
        self.ids.children.clear_widgets()
        for card in cards:
            self.ids.children.add_widget(card)
        await self.review_queue(types)

    async def child_card(self, link: dict[str, Any], types: dict[str, str], won: list[dict[str, Any]]) -> ChildCard:
        child = link["student"] or {}
        card = ChildCard(screen=self, child=child, given=link["consentGiven"])
        add_award_cards(card.ids.awards, [a for a in won if child.get("id") in a["winnerIds"]])
        try:
            wallet = await self.app.client.call("Wallet", "wallet", {"userId": child["id"], "historyLimit": 1})
            card.points = _("Points: {n}").format(n=formats.number(wallet["points"]))
            acts = await self.app.client.call("Activities", "activities", {"userId": child["id"], "limit": 5})
            for a in acts["items"]:
                name = types.get(a["activityType"], a["activityType"])
                card.ids.activities.add_widget(
                    Note(text=f"{name} · {formats.day(a['occurredOn'])} · {status_text(a['status'])}"))
        except Rejected:
            pass
        return card

    async def review_queue(self, types: dict[str, str]) -> None:
        queue = await self.app.client.call("PhotoReviewQueue", "photoReviewQueue", {"limit": 20})
        self.no_photos = not queue["items"]
        self.ids.photos.clear_widgets()
        for photo in queue["items"]:
            act = photo["activity"]
            codes = [c for c in (photo["statusReason"] or "").split(",") if c]  # why it waits, as codes
            self.ids.photos.add_widget(ReviewCard(
                screen=self, photo=photo,
                claim=f"{types.get(act['activityType'], act['activityType'])} · {formats.day(act['occurredOn'])}",
                reasons="\n".join("· " + text for text in dict.fromkeys(review_reason(c) for c in codes))))

    async def review(self, photo_id: str, approve: bool) -> None:
        try:
            await self.app.client.call("ReviewPhoto", "reviewPhoto",
                                       {"photoId": photo_id, "approve": approve,
                                        "reason": "" if approve else _("Rejected by the guardian")})
        except Rejected as exc:
            self.status_text = rejection(exc.as_dict())
        await self.refresh()

    def consent(self, student_id: str, give: bool) -> None:
        self.app.outbox.add("consent", {"studentId": student_id, "give": give})
        self.app.queued()

    async def export(self) -> None:
        data = await self.app.client.call("ExportMyData", "exportMyData")
        path = self.app.data_dir / "my-data.json"
        path.write_text(json.dumps(data["data"], ensure_ascii=False, indent=1))
        self.ids.export_note.text = _("Saved to {path}").format(path=path)

    async def delete(self) -> None:
        try:
            await self.app.client.call("DeleteMyAccount", "deleteMyAccount", {"password": self.ids.password.text})
        except Rejected as exc:
            self.status_text = rejection(exc.as_dict())
            return
        self.app.tokens.clear()
        self.app.go("signin")
