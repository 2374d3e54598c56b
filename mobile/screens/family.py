"""A parent's home: children (consent, activity, wallet), photos to review, events, plugs, own data."""

from __future__ import annotations

import json

from mobile import formats
from mobile.api.errors import Rejected
from mobile.i18n import _
from mobile.messages import rejection
from mobile.screens.base import BaseScreen
from mobile.screens.history import status_text
from mobile.screens.log_activity import type_name
from mobile.widgets.common import Btn, Card, Field, Note, Para, Row


class FamilyScreen(BaseScreen):
    refresh_after_sync = True

    def screen_title(self) -> str:
        return _("Family")

    def back(self) -> None:
        self.app.go("settings")

    async def refresh(self) -> None:
        self.show_back = False
        me = await self.app.load_me()
        types = {t["key"]: type_name(t) for t in await self.app.types()}
        self.clear()
        self.heading(_("Children"))
        for link in me.get("children") or []:
            child = link["student"] or {}
            card = Card()
            card.add_widget(Para(text=child.get("displayName", "")))
            given = link["consentGiven"]
            card.add_widget(Note(text=_("Consent given") if given else _("Waiting for your consent")))
            button = Btn(text=_("Withdraw consent") if given else _("Give consent"),
                         tone="danger" if given else "primary")
            button.bind(on_release=lambda *_, c=child, g=given: self.consent(c["id"], not g))
            card.add_widget(button)
            try:
                wallet = await self.app.client.call("Wallet", "wallet", {"userId": child["id"], "historyLimit": 1})
                card.add_widget(Note(text=_("Points: {n}").format(n=formats.number(wallet["points"]))))
                acts = await self.app.client.call("Activities", "activities", {"userId": child["id"], "limit": 5})
                for a in acts["items"]:
                    card.add_widget(Note(text=f"{types.get(a['activityType'], a['activityType'])} · "
                                              f"{formats.day(a['occurredOn'])} · {status_text(a['status'])}"))
            except Rejected:
                pass
            self.content.add_widget(card)
        await self.review_queue(types)
        self.button(_("Power-saving events"), lambda: self.app.go("dr"), tone="secondary")
        self.button(_("Smart plugs"), lambda: self.app.go("plugs"), tone="secondary")
        self.button(_("Wallet and ledger check"), lambda: self.app.go("wallet"), tone="secondary")
        self.heading(_("Your data"))
        self.button(_("Export my data"), lambda: self.app.spawn(self.export()), tone="secondary")
        self.export_note = self.note("")
        self.password = Field(hint_text=_("Password to delete the account"), password=True)
        self.content.add_widget(self.password)
        self.button(_("Delete my account"), lambda: self.app.spawn(self.delete()), tone="danger")
        self.button(_("Settings"), lambda: self.app.go("settings"), tone="secondary")

    async def review_queue(self, types: dict[str, str]) -> None:
        queue = await self.app.client.call("PhotoReviewQueue", "photoReviewQueue", {"limit": 20})
        self.heading(_("Photos to check"))
        if not queue["items"]:
            self.note(_("No photos are waiting for you."))
        for photo in queue["items"]:
            card = Card()
            act = photo["activity"]
            card.add_widget(Para(text=f"{types.get(act['activityType'], act['activityType'])} · "
                                      f"{formats.day(act['occurredOn'])}"))
            if photo["statusReason"]:
                card.add_widget(Note(text=photo["statusReason"]))
            row = Row()
            for approve, text, tone in ((True, _("Approve"), "primary"), (False, _("Reject"), "danger")):
                b = Btn(text=text, tone=tone)
                b.bind(on_release=lambda *_, p=photo, a=approve: self.app.spawn(self.review(p["id"], a)))
                row.add_widget(b)
            card.add_widget(row)
            self.content.add_widget(card)

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
        self.export_note.text = _("Saved to {path}").format(path=path)

    async def delete(self) -> None:
        try:
            await self.app.client.call("DeleteMyAccount", "deleteMyAccount", {"password": self.password.text})
        except Rejected as exc:
            self.status_text = rejection(exc.as_dict())
            return
        self.app.tokens.clear()
        self.app.go("signin")
