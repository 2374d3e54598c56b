"""My activities: what waits on this phone, what the server refused (and why), and the server's list.
Layout in ``history.kv``."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty

from mobile import formats
from mobile.api.errors import NetworkError, ServerError
from mobile.i18n import N_, _, language
from mobile.messages import rejection
from mobile.outbox import REJECTED, WAITING
from mobile.screens.base import BaseScreen, load_kv
from mobile.screens.log_activity import type_name
from mobile.widgets.common import Btn, Card, Note, Para

load_kv("history")

STATUS_TINT = {"ACCEPTED": (0.91, 0.97, 0.92, 1), "PENDING_EVIDENCE": (1, 0.97, 0.88, 1),
               "REJECTED": (0.99, 0.91, 0.9, 1), WAITING: (0.93, 0.94, 0.99, 1)}

KIND_NAMES = {"log_activity": N_("Activity"), "upload_photo": N_("Photo"), "convert_points": N_("Conversion"),
              "convert_mileage": N_("Coins"), "dr_participation": N_("Power-saving event"),
              "consent": N_("Consent")}


def status_text(status: str) -> str:
    return {"ACCEPTED": _("Accepted"), "PENDING_EVIDENCE": _("Waiting for photo check"),
            "REJECTED": _("Not accepted")}.get(status, status)


class HistoryScreen(BaseScreen):
    refresh_after_sync = True
    has_waiting = BooleanProperty(False)
    has_rejected = BooleanProperty(False)

    def screen_title(self) -> str:
        return _("My activities")

    def _names(self) -> dict[str, str]:
        return {t["key"]: type_name(t) for t in self.app.activity_types}

    def card(self, lines: list[tuple[type, str]], tint, parent) -> Card:
        card = Card(tint=tint)
        for cls, text in lines:
            card.add_widget(cls(text=text))
        parent.add_widget(card)
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
        outbox, ids = self.app.outbox, self.ids
        waiting, rejected = outbox.actions(WAITING), outbox.actions(REJECTED)
        self.has_waiting, self.has_rejected = bool(waiting), bool(rejected)
        for column in (ids.waiting, ids.rejected, ids.sent):
            column.clear_widgets()
        for a in waiting:
            what = _("Photo") if a.kind == "upload_photo" else self._what(a, names)
            self.card([(Para, what), (Note, _("Waiting to send"))], STATUS_TINT[WAITING], ids.waiting)
        for a in rejected:
            card = self.card([(Para, self._what(a, names)), (Note, rejection(a.last_error))],
                             STATUS_TINT["REJECTED"], ids.rejected)
            ok = Btn(text=_("OK"), tone="secondary")
            ok.bind(on_release=lambda *_, k=a.key: (outbox.dismiss(k), self.app.spawn(self.refresh())))
            card.add_widget(ok)
        ids.sent_note.text = (_("Offline") if items is None
                              else "" if items else _("Nothing yet. Log your first saving!"))
        for item in items or []:
            name = names.get(item["activityType"], item["activityType"])
            lines = [(Para, f"{name} · {formats.day(item['occurredOn'])}"),
                     (Note, f"{status_text(item['status'])} · {formats.points(item['points'])} · "
                            f"{formats.kwh(item['kwh'])}")]
            if item["statusReason"] and (language() == "en" or item["status"] == "REJECTED"):  # server text is English
                lines.append((Note, item["statusReason"]))
            self.card(lines, STATUS_TINT.get(item["status"], (1, 1, 1, 1)), ids.sent)

    @staticmethod
    def _what(action, names: dict[str, str]) -> str:
        return names.get(action.payload.get("activityType", ""), _(KIND_NAMES.get(action.kind, action.kind)))
