"""A parent pairs a plug from the app: the kind of device, its id, which of its channels are the
household's, its topic layout (the vendor default preselected), and afterwards exactly what to
enter in the device's MQTT settings. Layout in ``plugs.kv``; the choices are pure functions."""

from __future__ import annotations

from typing import Any

from kivy.properties import ListProperty, ObjectProperty, StringProperty

from mobile.i18n import _
from mobile.screens.log_activity import ChoiceButton
from mobile.widgets.common import Column

VENDORS = ("TASMOTA", "SHELLY_GEN2", "SHELLY_GEN1")
MAX_CHANNELS = 8
TASMOTA_DEFAULT = "%prefix%/%topic%/"
TASMOTA_LAYOUTS = (TASMOTA_DEFAULT, "%topic%/%prefix%/", "%prefix%/%hostname%/")


def vendor_name(vendor: str) -> str:
    return {"TASMOTA": _("Tasmota"), "SHELLY_GEN2": _("Shelly Plus / Pro / Gen3"),
            "SHELLY_GEN1": _("Shelly (first generation)")}[vendor]


def device_hint(vendor: str) -> str:
    return {"TASMOTA": _("Device id: its Topic, e.g. tasmota_4CH"),
            "SHELLY_GEN2": _("Device id, e.g. shellypro4pm-08f9e0e5d2c4"),
            "SHELLY_GEN1": _("Device id, e.g. shellyplug-s-7C87CEB4A1F2")}[vendor]


def layouts(vendor: str) -> tuple[str, ...]:
    """Topic layouts offered for a vendor, its default first ("" = the Gen2 prefix is the device id)."""
    return {"TASMOTA": TASMOTA_LAYOUTS, "SHELLY_GEN2": ("",)}.get(vendor, ())


def layout_label(vendor: str, layout: str) -> str:
    if vendor == "SHELLY_GEN2":
        return _("MQTT prefix = the device id (default)")
    return _("{layout} (default)").format(layout=layout) if layout == TASMOTA_DEFAULT else layout


def template_argument(vendor: str, text: str, device_id: str) -> str | None:
    """``topicTemplate`` for the server: None for the vendor's default layout."""
    text = text.strip()
    if vendor == "SHELLY_GEN1" or not text or text.strip("/") == TASMOTA_DEFAULT.strip("/"):
        return None
    if vendor == "SHELLY_GEN2" and text.strip("/") == device_id.strip():
        return None
    return text


def channel_argument(chosen: list[int]) -> list[int]:
    """Channels as the server counts them (from 0); the app shows them from 1."""
    return sorted(n - 1 for n in set(chosen))


def setup_lines(setup: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) lines of the device's MQTT settings after pairing."""
    lines = [(_("Host"), setup["host"] or _("ask the operator")),
             (_("Port"), str(setup["port"]) if setup["port"] else _("ask the operator")),
             (_("TLS"), _("on (Tasmota: SetOption103 1; Shelly: Use TLS)") if setup["tls"] else _("off")),
             (_("User"), setup["username"]), (_("Password"), setup["password"])]
    if setup.get("topic"):
        lines.append((_("Topic"), setup["topic"]))
    if setup.get("fullTopic"):
        lines.append((_("Full Topic"), setup["fullTopic"]))
    elif setup.get("prefix"):
        lines.append((_("MQTT prefix"), setup["prefix"]))
    else:
        lines.append((_("MQTT prefix"), _("leave the custom prefix off")))
    return lines


class PairingForm(Column):
    """The form; ``screen`` pairs with what it holds (:meth:`PlugsScreen.pair`)."""

    screen = ObjectProperty(None)
    vendor = StringProperty("TASMOTA")
    chosen = ListProperty([1])

    def on_kv_post(self, base_widget) -> None:
        self.build()

    def build(self) -> None:
        ids = self.ids
        ids.vendors.clear_widgets()
        for vendor in VENDORS:
            button = ChoiceButton(text=vendor_name(vendor), choice=vendor, group="plug-vendor",
                                  state="down" if vendor == self.vendor else "normal")
            button.bind(on_release=lambda b: self.choose_vendor(b.choice))
            ids.vendors.add_widget(button)
        ids.channels.clear_widgets()
        for n in range(1, MAX_CHANNELS + 1):
            button = ChoiceButton(text=str(n), choice=str(n), state="down" if n in self.chosen else "normal")
            button.bind(on_release=lambda b: self.toggle_channel(int(b.choice), b.state == "down"))
            ids.channels.add_widget(button)
        self.show_layouts()

    def choose_vendor(self, vendor: str) -> None:
        self.vendor = vendor
        self.ids.template.text = (layouts(vendor) or ("",))[0]
        self.show_layouts()

    def show_layouts(self) -> None:
        box = self.ids.layouts
        box.clear_widgets()
        for layout in layouts(self.vendor):
            button = ChoiceButton(text=layout_label(self.vendor, layout), choice=layout, group="plug-layout",
                                  state="down" if layout == self.ids.template.text else "normal")
            button.bind(on_release=lambda b: setattr(self.ids.template, "text", b.choice))
            box.add_widget(button)

    def show_chosen_layout(self) -> None:
        """The offered layout equal to the typed one is shown chosen (none for a custom one)."""
        for button in self.ids.layouts.children:
            button.state = "down" if button.choice == self.ids.template.text else "normal"

    def toggle_channel(self, n: int, on: bool) -> None:
        self.chosen = sorted({*self.chosen, n} if on else set(self.chosen) - {n})

    def arguments(self) -> dict[str, Any]:
        device = self.ids.device.text.strip()
        return {"vendor": self.vendor, "deviceId": device, "name": self.ids.name.text.strip(),
                "channels": channel_argument(self.chosen),
                "topicTemplate": template_argument(self.vendor, self.ids.template.text, device)}
