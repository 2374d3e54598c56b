"""A teacher's students: nominate a student or a class for a best-case award (category, reason),
and issue a student's volunteer-hour certificate (figures, QR code, PDF saved on the device)."""

from __future__ import annotations

import base64
from typing import Any

from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.textinput import TextInput
from kivy.uix.togglebutton import ToggleButton

from mobile import formats
from mobile.api.errors import Rejected
from mobile.i18n import _
from mobile.messages import rejection
from mobile.screens.base import BaseScreen, load_kv
from mobile.widgets.common import Btn, Card, Heading, Note, Para, Row
from mobile.widgets.qr import QrImage

CATEGORIES = ("saving", "dr_participation", "waste_reporting", "volunteering")


load_kv("students")


class ReasonField(TextInput):
    """A few lines of text (rules in ``students.kv``; a one-line Field centres its single line)."""


def category_name(slug: str) -> str:
    """A nomination category in the user's language (its slug if the app does not know it)."""
    return {
        "saving": _("Saving electricity"),
        "dr_participation": _("Power-saving events"),
        "waste_reporting": _("Reporting waste"),
        "volunteering": _("Volunteering"),
    }.get(slug, slug)


def status_name(status: str) -> str:
    return {
        "open": _("waiting for the school admin"),
        "awarded": _("awarded"),
        "withdrawn": _("withdrawn"),
    }.get(status, status)


class StudentsScreen(BaseScreen):
    def screen_title(self) -> str:
        return _("Nominations and certificates")

    async def refresh(self) -> None:
        me = await self.app.client.call("SchoolPeople", "me")
        self.school = me["school"] or {}
        self.clear()
        self.form_box = BoxLayout(orientation="vertical", size_hint_y=None, height=0, spacing=dp(6))
        self.form_box.bind(minimum_height=self.form_box.setter("height"))
        self.content.add_widget(self.form_box)
        self.student_cards: dict[str, Card] = {}
        for school_class in self.school.get("classes") or []:
            self.heading(school_class["name"])
            self.button(_("Nominate the class"), lambda c=school_class: self.open_form("CLASS", c["id"], c["name"]),
                        tone="secondary")
            for student in school_class["students"] or []:
                self.content.add_widget(self.student_card(student))
        if not self.student_cards:
            self.note(_("No students to show."))

    def student_card(self, student: dict[str, Any]) -> Card:
        card = Card()
        card.add_widget(Para(text=student["displayName"]))
        row = Row()
        nominate = Btn(text=_("Nominate"))
        nominate.bind(on_release=lambda *_: self.open_form("STUDENT", student["id"], student["displayName"]))
        certificate = Btn(text=_("Certificate"), tone="secondary")
        certificate.bind(on_release=lambda *_: self.app.spawn(self.issue(student, card)))
        row.add_widget(nominate)
        row.add_widget(certificate)
        card.add_widget(row)
        card.result = BoxLayout(orientation="vertical", size_hint_y=None, height=0, spacing=dp(4))
        card.result.bind(minimum_height=card.result.setter("height"))
        card.add_widget(card.result)
        self.student_cards[student["id"]] = card
        return card

    # nominating ---------------------------------------------------------------------------------
    def open_form(self, kind: str, nominee_id: str, name: str) -> None:
        box = self.form_box
        box.clear_widgets()
        card = Card(tint=(0.96, 0.98, 1, 1))
        card.add_widget(Heading(text=_("Nominate {name}").format(name=name)))
        card.add_widget(Note(text=_("Category")))
        self.category_buttons = []
        for slug in CATEGORIES:
            tb = ToggleButton(text=category_name(slug), group="nomination-category", size_hint_y=None,
                              height=dp(48), allow_no_selection=False, state="down" if slug == CATEGORIES[0] else "normal")
            tb.slug = slug
            self.category_buttons.append(tb)
            card.add_widget(tb)
        self.reason = ReasonField(hint_text=_("Why? (at least 10 characters)"))
        card.add_widget(self.reason)
        card.add_widget(Note(text=_("If the nomination is awarded, the winners see this reason on their home screen.")))
        self.form_error = Para(text="", color=(0.7, 0.1, 0.1, 1))
        card.add_widget(self.form_error)
        row = Row()
        cancel = Btn(text=_("Cancel"), tone="secondary")
        cancel.bind(on_release=lambda *_: box.clear_widgets())
        send = Btn(text=_("Send the nomination"))
        send.bind(on_release=lambda *_: self.app.spawn(self.nominate(kind, nominee_id)))
        row.add_widget(cancel)
        row.add_widget(send)
        card.add_widget(row)
        box.add_widget(card)
        self.ids.scroll.scroll_y = 1

    async def nominate(self, kind: str, nominee_id: str) -> None:
        reason = " ".join(self.reason.text.split())
        if len(reason) < 10:
            self.form_error.text = _("Write a reason of at least 10 characters.")
            return
        category = next(tb.slug for tb in self.category_buttons if tb.state == "down")
        try:
            done = await self.app.client.call("Nominate", "nominate", {
                "nomineeKind": kind, "nomineeId": nominee_id, "category": category, "reason": reason,
                "period": "MONTH"})
        except Rejected as exc:
            self.form_error.text = rejection(exc.as_dict())
            return
        self.form_box.clear_widgets()
        self.form_box.add_widget(Para(text=_("Nominated {name} for {category}: the school admin decides.").format(
            name=done["nomineeName"], category=category_name(done["category"])), color=(0.05, 0.45, 0.2, 1)))

    # certificates -------------------------------------------------------------------------------
    async def issue(self, student: dict[str, Any], card: Card) -> None:
        card.result.clear_widgets()
        try:
            cert = await self.app.client.call("IssueVolunteerCertificate", "issueVolunteerCertificate",
                                              {"studentId": student["id"], "period": "SCHOOL_YEAR"})
        except Rejected as exc:
            text = (_("No volunteer time was recorded this school year.")
                    if exc.details.get("field") == "period" else rejection(exc.as_dict()))
            card.result.add_widget(Para(text=text, color=(0.7, 0.1, 0.1, 1)))
            return
        folder = self.app.data_dir / "certificates"
        folder.mkdir(parents=True, exist_ok=True)
        pdf = folder / f"{cert['number']}.pdf"
        pdf.write_bytes(base64.b64decode(cert["pdfBase64"]))
        card.certificate, card.pdf_path = cert, pdf
        card.result.add_widget(Para(text=_("Certificate {number} · {period}").format(
            number=cert["number"], period=formats.period(cert["period"]["kind"], cert["period"]["firstDay"]))))
        card.result.add_widget(Para(text=_("{minutes} for 1365 · NEIS {hours} h, {carry} carried").format(
            minutes=formats.minutes(cert["minutes"]), hours=cert["hours"], carry=formats.minutes(cert["carryMinutes"]))))
        card.result.add_widget(QrImage(cert["qrPayload"], size_hint_y=None, height=dp(160)))
        card.result.add_widget(Note(text=_(
            "Scanning the code opens its verification page. Saved as {name} in the app's certificates folder."
        ).format(name=pdf.name)))
