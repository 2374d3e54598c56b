"""Log a saving: the form is generated from the server's activity catalogue (parameters, limits,
photo requirement). The report goes into the outbox first and shows as waiting to send.
Layout in ``log_activity.kv``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kivy.metrics import dp
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.filechooser import FileChooserListView
from kivy.uix.popup import Popup
from kivy.uix.togglebutton import ToggleButton

from mobile.i18n import _, language, ngettext
from mobile.screens.base import BaseScreen, load_kv
from mobile.widgets.common import Btn, Column, Field

load_kv("log_activity")

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


class ChoiceButton(ToggleButton):
    """One choice of a catalogue parameter (a group of them answers the parameter)."""

    choice = StringProperty("")


class ActivityForm(Column):
    screen = ObjectProperty(None)
    photo_required = BooleanProperty(False)


class LogActivityScreen(BaseScreen):
    chosen_name = StringProperty("")

    def screen_title(self) -> str:
        return _("Log a saving")

    def on_pre_enter(self, *args) -> None:
        """Start from the list of types (not the last form) even before it is loaded again."""
        self.chosen_name = self.ids.limits.text = ""
        self.ids.body.clear_widgets()
        super().on_pre_enter(*args)

    async def refresh(self) -> None:
        types = await self.app.types()
        self.selected: dict[str, Any] | None = None
        self.chosen_name = self.ids.limits.text = ""
        body = self.ids.body
        body.clear_widgets()
        self.type_buttons = {}
        for t in types:
            b = self.button(type_name(t), lambda t=t: self.choose(t["key"]), tone="secondary", parent=body)
            self.type_buttons[t["key"]] = b

    def choose(self, key: str) -> None:
        self.selected = t = next(t for t in self.app.activity_types if t["key"] == key)
        self.chosen_name = type_name(t)
        self.ids.limits.text = ngettext("Up to {n} time a day.", "Up to {n} times a day.",
                                        t["maxPerDay"]).format(n=t["maxPerDay"])
        form = ActivityForm(screen=self, photo_required=t["photoRequired"])
        self.inputs: dict[str, Any] = {}
        for p in t["parameters"]:
            self.inputs[p["name"]] = self.parameter_input(t, p, form.ids.params)
        form.ids.day.text = date.today().isoformat()
        self.day, self.error, self.save_button = form.ids.day, form.ids.error, form.ids.save
        self.photo = form.ids.photo if t["photoRequired"] else None
        self.ids.body.clear_widgets()
        self.ids.body.add_widget(form)

    def parameter_input(self, t: dict[str, Any], p: dict[str, Any], parent) -> Any:
        """A label and an input for one catalogue parameter: choice buttons, or a number field."""
        label = label_of(p["name"])
        unit = _(p["unit"]) if p["unit"] else ""
        if unit and unit.lower() != label.lower():  # "Hours", not "Hours (hours)"
            label += f" ({unit})"
        self.para(label + ("" if p["required"] else " " + _("(optional)")), parent=parent)
        if p["type"] == "choice":
            group = Column(spacing=dp(4))
            for choice in p["choices"]:
                group.add_widget(ChoiceButton(text=label_of(choice), choice=choice, group=f"{t['key']}.{p['name']}"))
            parent.add_widget(group)
            return group
        low = p.get("min") if p.get("min") is not None else ("0" if p["type"] == "hour" else "")
        high = p.get("max") if p.get("max") is not None else ("23" if p["type"] == "hour" else "")
        field = Field(hint_text=f"{low} – {high}" if low or high else "", input_filter="float")
        parent.add_widget(field)
        return field

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
