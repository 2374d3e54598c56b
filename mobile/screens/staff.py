"""A teacher's or school admin's home: photos to check (thumbnail, claim, classifier suggestion,
reasons; approve or reject with a reason) and this month's class scoreboard."""

from __future__ import annotations

from typing import Any

from kivy.core.image import Image as CoreImage
from kivy.metrics import dp
from kivy.uix.image import Image

from mobile import formats
from mobile.api.errors import Rejected
from mobile.i18n import _, ngettext
from mobile.messages import photo_category, rejection, review_reason
from mobile.screens.base import RoleHomeScreen, load_kv
from mobile.screens.log_activity import type_name
from mobile.widgets.common import Btn, Card, Field, Note, Para, Row

load_kv("staff")


def score_line(entry: dict[str, Any], min_students: int) -> str:
    """One group's figures, or why it has none (fewer students than the minimum)."""
    if entry["suppressed"]:
        return _("Fewer than {n} students: no figures shown").format(n=min_students)
    return _("{points} points per student · {share} took part").format(
        points=formats.number(entry["pointsPerStudent"] or 0, 1),
        share=f"{round((entry['participationRate'] or 0) * 100)}%")


class PhotoThumb(Image):
    """A review photo's thumbnail, fetched with the session's client (signed URL)."""

    async def load(self, client, path: str) -> None:
        import io

        data = await client.fetch(path)
        self.texture = CoreImage(io.BytesIO(data), ext="jpg").texture


class StaffScreen(RoleHomeScreen):
    refresh_after_sync = True

    def screen_title(self) -> str:
        return _("Hello, {name}").format(name=self.app.user.get("displayName", ""))

    async def refresh(self) -> None:
        await self.signed_in_user()
        types = {t["key"]: type_name(t) for t in await self.app.types()}
        queue = await self.app.client.call("PhotoReviewQueue", "photoReviewQueue", {"limit": 20})
        board = await self.app.client.call("Scoreboard", "scoreboard", {"level": "CLASS", "period": "MONTH"})
        self.clear()
        self.heading(_("Photos to check"))
        self.photo_cards: dict[str, Card] = {}
        if not queue["items"]:
            self.note(_("No photos are waiting for you."))
        for photo in queue["items"]:
            self.content.add_widget(self.photo_card(photo, types))
        self.scoreboard(board)
        self.heading(_("School"))
        if self.app.user.get("role") == "SCHOOL_ADMIN":
            self.button(_("Awards"), lambda: self.app.go("awards"))
        self.button(_("Nominations and certificates"), lambda: self.app.go("students"))
        self.button(_("School scoreboard"), lambda: self.app.go("school_board"), tone="secondary")
        self.button(_("Power-saving events of the school"), lambda: self.app.go("school_dr"), tone="secondary")
        self.button(_("Settings"), lambda: self.app.go("settings"), tone="secondary")

    def photo_card(self, photo: dict[str, Any], types: dict[str, str]) -> Card:
        card = Card()
        thumb = PhotoThumb(size_hint_y=None, height=dp(180), fit_mode="contain")
        card.add_widget(thumb)
        self.app.spawn(thumb.load(self.app.client, photo["thumbnailUrl"]))
        act = photo["activity"]
        card.add_widget(Para(text=_("Claimed: {activity} · {day} · {points} points").format(
            activity=types.get(act["activityType"], act["activityType"]), day=formats.day(act["occurredOn"]),
            points=formats.number(act["points"]))))
        if photo["modelConfidence"] is not None:
            card.add_widget(Para(text=_("Classifier: {category} ({confidence})").format(
                category=photo_category(photo["modelCategory"]),
                confidence=f"{round(photo['modelConfidence'] * 100)}%")))
        else:
            card.add_widget(Para(text=_("Classifier: {category}").format(category=photo_category(None))))
        codes = [c for c in photo["statusReason"].split(",") if c]
        codes += [f"warning_{w['name']}" for w in photo["warnings"] if f"warning_{w['name']}" not in codes]
        for text in dict.fromkeys(review_reason(code) for code in codes):
            card.add_widget(Note(text="· " + text))
        reason = Field(hint_text=_("Reason (needed to reject)"))
        card.add_widget(reason)
        row = Row()
        approve = Btn(text=_("Approve"), tone="primary")
        approve.bind(on_release=lambda *_: self.app.spawn(self.review(photo["id"], True, "")))
        reject = Btn(text=_("Reject"), tone="danger")
        reject.bind(on_release=lambda *_: self.app.spawn(self.review(photo["id"], False, reason.text.strip())))
        row.add_widget(approve)
        row.add_widget(reject)
        card.add_widget(row)
        card.reason, card.thumb = reason, thumb
        self.photo_cards[photo["id"]] = card
        return card

    async def review(self, photo_id: str, approve: bool, reason: str) -> None:
        if not approve and not reason:
            self.status_text = _("Write why the photo is rejected.")
            return
        try:
            await self.app.client.call("ReviewPhoto", "reviewPhoto",
                                       {"photoId": photo_id, "approve": approve, "reason": reason})
            self.status_text = _("Approved.") if approve else _("Rejected.")
        except Rejected as exc:
            self.status_text = rejection(exc.as_dict())
        await self._load()

    def scoreboard(self, board: dict[str, Any]) -> None:
        self.heading(_("Class scoreboard · {period}").format(
            period=formats.period(board["period"]["kind"], board["period"]["firstDay"])))
        board_cards(self.content, board, _("No classes yet."))


def board_cards(parent, board: dict[str, Any], empty: str, own_id: str | None = None) -> None:
    """A scoreboard's groups as cards: rank, name, students and figures; ``own_id`` is tinted."""
    if not board["entries"]:
        parent.add_widget(Note(text=empty))
    for entry in board["entries"]:
        students = ngettext("{n} student", "{n} students", entry["enrolled"]).format(n=entry["enrolled"])
        rank = "" if entry["rank"] is None else _("No. {rank}").format(rank=entry["rank"]) + " · "
        tint = (0.94, 0.94, 0.94, 1) if entry["suppressed"] else (1, 1, 1, 1)
        if own_id is not None and entry["groupId"] == own_id:
            tint = (0.91, 0.97, 0.92, 1)
        card = Card(tint=tint)
        card.add_widget(Para(text=f"{rank}{entry['name']} · {students}"))
        card.add_widget(Note(text=score_line(entry, board["minStudents"])))
        parent.add_widget(card)
