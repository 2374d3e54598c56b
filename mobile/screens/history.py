"""My activities: what waits on this phone, what the server refused (and why), and the server's list."""

from __future__ import annotations

from typing import Any

from mobile import formats
from mobile.api.errors import NetworkError, ServerError
from mobile.i18n import _, language
from mobile.messages import rejection
from mobile.outbox import REJECTED, WAITING
from mobile.screens.base import BaseScreen
from mobile.screens.log_activity import type_name
from mobile.widgets.common import Btn, Card, Note, Para

STATUS_TINT = {"ACCEPTED": (0.91, 0.97, 0.92, 1), "PENDING_EVIDENCE": (1, 0.97, 0.88, 1),
               "REJECTED": (0.99, 0.91, 0.9, 1), WAITING: (0.93, 0.94, 0.99, 1)}

KIND_NAMES = {"log_activity": "Activity", "upload_photo": "Photo", "convert_points": "Conversion",
              "convert_mileage": "Coins", "dr_participation": "Power-saving event", "consent": "Consent"}


def status_text(status: str) -> str:
    return {"ACCEPTED": _("Accepted"), "PENDING_EVIDENCE": _("Waiting for photo check"),
            "REJECTED": _("Not accepted")}.get(status, status)


class HistoryScreen(BaseScreen):
    refresh_after_sync = True

    def screen_title(self) -> str:
        return _("My activities")

    def _names(self) -> dict[str, str]:
        return {t["key"]: type_name(t) for t in self.app.activity_types}

    def card(self, lines: list[tuple[type, str]], tint) -> Card:
        card = Card(tint=tint)
        for cls, text in lines:
            card.add_widget(cls(text=text))
        self.content.add_widget(card)
        return card

    async def refresh(self) -> None:
        await self.app.types()
        names = self._names()
        try:
            acts = await self.app.client.call("Activities", "activities", {"limit": 100})
        except (NetworkError, ServerError):
            self.render(None, names)
            raise
        self.render(acts["items"], names)

    def render(self, items: list[dict[str, Any]] | None, names: dict[str, str]) -> None:
        self.clear()
        outbox = self.app.outbox
        waiting = outbox.actions(WAITING)
        rejected = outbox.actions(REJECTED)
        if waiting:
            self.heading(_("Waiting to send"))
        for a in waiting:
            what = names.get(a.payload.get("activityType", ""), _(KIND_NAMES.get(a.kind, a.kind)))
            if a.kind == "upload_photo":
                what = _("Photo")
            self.card([(Para, what), (Note, _("Waiting to send"))], STATUS_TINT[WAITING])
        if rejected:
            self.heading(_("Not sent"))
        for a in rejected:
            what = names.get(a.payload.get("activityType", ""), _(KIND_NAMES.get(a.kind, a.kind)))
            card = self.card([(Para, what), (Note, rejection(a.last_error))], STATUS_TINT["REJECTED"])
            ok = Btn(text=_("OK"), tone="secondary")
            ok.bind(on_release=lambda *_, k=a.key: (outbox.dismiss(k), self.app.spawn(self.refresh())))
            card.add_widget(ok)
        self.heading(_("Sent"))
        if items is None:
            self.note(_("Offline"))
            return
        if not items:
            self.note(_("Nothing yet. Log your first saving!"))
        for item in items:
            lines = [(Para, f"{names.get(item['activityType'], item['activityType'])} · {formats.day(item['occurredOn'])}"),
                     (Note, f"{status_text(item['status'])} · {formats.points(item['points'])} · {formats.kwh(item['kwh'])}")]
            if item["statusReason"] and (language() == "en" or item["status"] == "REJECTED"):  # server text is English
                lines.append((Note, item["statusReason"]))
            self.card(lines, STATUS_TINT.get(item["status"], (1, 1, 1, 1)))
