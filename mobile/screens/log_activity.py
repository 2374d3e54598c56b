"""Log a saving: the form is generated from the server's activity catalogue (parameters, limits,
photo requirement). The report goes into the outbox first and shows as waiting to send."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.filechooser import FileChooserListView
from kivy.uix.popup import Popup
from kivy.uix.togglebutton import ToggleButton

from mobile.i18n import _, language, ngettext
from mobile.screens.base import BaseScreen
from mobile.widgets.common import Btn, Field, Row

PHOTO_FILTERS = ["*.jpg", "*.jpeg", "*.png", "*.webp", "*.JPG", "*.JPEG", "*.PNG"]


def type_name(activity_type: dict[str, Any]) -> str:
    return activity_type["nameKo"] if language() == "ko" else activity_type["nameEn"]


def label_of(name: str) -> str:
    """A parameter or choice name as words (catalogue names are translated when known)."""
    translated = _(name)
    return translated if translated != name else name.replace("_", " ")


def check_value(param: dict[str, Any], raw: str) -> tuple[Any, str | None]:
    """Parse and check one field against the catalogue's type and limits; (value, error)."""
    raw = raw.strip()
    if not raw:
        return None, (_("Required") if param["required"] else None)
    kind = param["type"]
    if kind == "choice":
        return raw, None if raw in param["choices"] else _("Choose one")
    try:
        number = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        return None, _("Enter a number")
    if kind in ("integer", "hour") and number != number.to_integral_value():
        return None, _("Enter a whole number")
    low = Decimal(param["min"]) if param.get("min") is not None else (Decimal(0) if kind == "hour" else None)
    high = Decimal(param["max"]) if param.get("max") is not None else (Decimal(23) if kind == "hour" else None)
    if (low is not None and number < low) or (high is not None and number > high):
        return None, _("Between {low} and {high}").format(low=low, high=high)
    return (int(number) if kind in ("integer", "hour") else str(number)), None


class LogActivityScreen(BaseScreen):
    def screen_title(self) -> str:
        return _("Log a saving")

    async def refresh(self) -> None:
        types = await self.app.types()
        self.selected: dict[str, Any] | None = None
        self.clear()
        self.heading(_("What did you do?"))
        self.type_buttons = {}
        for t in types:
            b = self.button(type_name(t), lambda t=t: self.choose(t["key"]), tone="secondary")
            self.type_buttons[t["key"]] = b

    def choose(self, key: str) -> None:
        self.selected = next(t for t in self.app.activity_types if t["key"] == key)
        t = self.selected
        self.clear()
        self.heading(type_name(t))
        limits = ngettext("Up to {n} time a day.", "Up to {n} times a day.", t["maxPerDay"]).format(n=t["maxPerDay"])
        self.note(limits)
        self.inputs: dict[str, Any] = {}
        for p in t["parameters"]:
            unit = f" ({_(p['unit'])})" if p["unit"] else ""
            self.para(label_of(p["name"]) + unit + ("" if p["required"] else " " + _("(optional)")))
            if p["type"] == "choice":
                row = BoxLayout(orientation="vertical", size_hint_y=None, spacing=dp(4))
                row.bind(minimum_height=row.setter("height"))
                for choice in p["choices"]:
                    tb = ToggleButton(text=label_of(choice), group=f"{t['key']}.{p['name']}",
                                      size_hint_y=None, height=dp(48), allow_no_selection=False)
                    tb.choice = choice
                    row.add_widget(tb)
                self.content.add_widget(row)
                self.inputs[p["name"]] = row
            else:
                low = p.get("min") if p.get("min") is not None else ("0" if p["type"] == "hour" else "")
                high = p.get("max") if p.get("max") is not None else ("23" if p["type"] == "hour" else "")
                field = Field(hint_text=f"{low} – {high}" if low or high else "", input_filter="float")
                self.content.add_widget(field)
                self.inputs[p["name"]] = field
        self.day = Field(text=date.today().isoformat(), hint_text="YYYY-MM-DD")
        self.para(_("Day"))
        self.content.add_widget(self.day)
        self.photo = None
        if t["photoRequired"]:
            self.para(_("A photo is needed as evidence."))
            self.photo = Field(hint_text=_("Photo file"))
            self.content.add_widget(self.photo)
            self.button(_("Choose a photo"), self.pick_photo, tone="secondary")
        self.error = self.para("")
        row = Row()
        self.button(_("Back"), lambda: self.app.go("log"), tone="secondary", parent=row)
        self.save_button = self.button(_("Save"), self.save, parent=row)
        self.content.add_widget(row)

    def _value(self, param: dict[str, Any]) -> tuple[Any, str | None]:
        widget = self.inputs[param["name"]]
        if param["type"] == "choice":
            chosen = [c.choice for c in widget.children if c.state == "down"]
            return check_value(param, chosen[0] if chosen else "")
        return check_value(param, widget.text)

    def save(self) -> None:
        t = self.selected
        params, problems = {}, []
        for p in t["parameters"]:
            value, problem = self._value(p)
            if problem:
                problems.append(f"{label_of(p['name'])}: {problem}")
            elif value is not None:
                params[p["name"]] = value
        try:
            day = date.fromisoformat(self.day.text.strip())
        except ValueError:
            problems.append(_("Day") + ": YYYY-MM-DD")
            day = date.today()
        photo = self.photo.text.strip() if self.photo else ""
        if self.photo is not None and not Path(photo).is_file():
            problems.append(_("A photo is needed as evidence."))
        if problems:
            self.error.text = "\n".join(problems)
            return
        self.app.outbox.add_activity(t["key"], day.isoformat(), params, photo or None)
        self.app.queued()
        self.app.go("history")

    def pick_photo(self) -> None:
        chooser = FileChooserListView(path=str(Path.home()), filters=PHOTO_FILTERS)
        box = BoxLayout(orientation="vertical", spacing=dp(6))
        box.add_widget(chooser)
        ok = Btn(text=_("Use this photo"))
        box.add_widget(ok)
        popup = Popup(title=_("Choose a photo"), content=box, size_hint=(0.95, 0.9))

        def use(*args):
            if chooser.selection:
                self.photo.text = chooser.selection[0]
            popup.dismiss()

        ok.bind(on_release=use)
        popup.open()
