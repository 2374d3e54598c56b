"""A parent pairs two channels of a Tasmota power strip with a custom FullTopic in the real app
(offscreen window) against a real backend that keeps the broker's password and ACL files: the
server holds one plug per chosen channel on that layout, and the app shows the broker address,
TLS, the device's account with the password the broker's file accepts, Topic and Full Topic."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backend.plugs.broker_auth import parse_acl, parse_passwd, verify_mosquitto_hash
from tests.mobile.driver import Driver, run_app
from tests.mobile.server import PARENT, Backend
from tests.mobile.test_student_flow import sign_in

pytestmark = pytest.mark.slow

# Screenshots go to docs/app only when asked (PVPP_SCREENSHOTS=1, as `make screenshots` does);
# otherwise a test run would rewrite tracked files.
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "app"


@pytest.fixture(scope="module")
def broker_backend(tmp_path_factory: pytest.TempPathFactory):
    var = tmp_path_factory.mktemp("pairing-backend")
    server = Backend(var, PVPP_MQTT_DEVICE_URL="mqtts://mqtt.example.kr:8883",
                     PVPP_MQTT_PASSWORD_FILE=str(var / "mosquitto.passwd"), PVPP_MQTT_ACL_FILE=str(var / "mosquitto.acl"),
                     PVPP_MQTT_USERNAME="pvpp-bridge", PVPP_MQTT_PASSWORD="bridge-secret-1").setup()
    try:
        yield server
    finally:
        server.close()


def value_after(d: Driver, label: str) -> str:
    """The value shown right of ``label`` in the device setup card."""
    card = d.screen.ids.setup.children[0]
    texts = [w.text for w in reversed(card.ids.lines.children)]  # label, value, label, value …
    return texts[texts.index(label) + 1]


CASES = {  # language: (device id, outlets pressed, how the layout is chosen, FullTopic expected)
    "ko": ("strip_kitchen", ("3",), ("preset", "%topic%/%prefix%/"), "%topic%/%prefix%/"),
    "en": ("strip_desk", ("4",), ("typed", "flat/%topic%/%prefix%"), "flat/%topic%/%prefix%/"),
}
WORDS = {"ko": {"tasmota": "Tasmota", "pair": "이 플러그 연결하기", "host": "호스트", "port": "포트",
                "tls": "TLS", "user": "사용자", "password": "비밀번호", "full": "Full Topic", "topic": "Topic",
                "on": "켬", "paired": "연결됨"},
         "en": {"tasmota": "Tasmota", "pair": "Pair this plug", "host": "Host", "port": "Port", "tls": "TLS",
                "user": "User", "password": "Password", "full": "Full Topic", "topic": "Topic", "on": "on",
                "paired": "Paired"}}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_parent_pairs_two_channels_with_a_custom_layout(broker_backend: Backend, tmp_path: Path, lang: str) -> None:
    shots = DOCS_SHOTS if os.environ.get("PVPP_SCREENSHOTS") == "1" else tmp_path
    device, outlets, (how, layout), full_topic = CASES[lang]
    w = WORDS[lang]
    shown: dict[str, str] = {}

    async def scenario(d: Driver) -> None:
        await sign_in(d, PARENT, {"ko": "로그인", "en": "Sign in"}[lang])
        await d.wait_screen("family")
        d.app.go("plugs")
        await d.wait_loaded("plugs")
        form = d.screen._form
        d.press(w["tasmota"])
        d.press(w["pair"])  # no device id yet: said so, nothing sent
        await d.wait(lambda: bool(form.ids.error.text), 10, "the form's complaint")
        form.ids.device.text, form.ids.name.text = device, "Strip"
        for outlet in outlets:  # outlet 1 is chosen already
            button = d.find(outlet, cls=__import__("kivy.uix.togglebutton",
                                                     fromlist=["ToggleButton"]).ToggleButton)
            button.state = "down"
            button.dispatch("on_release")
        if how == "preset":
            d.press(layout)
        else:
            form.ids.template.text = layout
        await d.settle()
        assert not d.small_targets(), d.small_targets()
        await d.screenshot(shots / f"{lang}-parent-plug-pairing.png", show=form.ids.template)
        await d.screenshot(shots / f"{lang}-parent-plug-pairing-end.png", show=d.find(w["pair"]))
        assert form.arguments()["channels"] == [0, int(outlets[0]) - 1], form.arguments()
        d.press(w["pair"])
        await d.wait(lambda: len(d.screen.ids.setup.children) == 1, 30, "the device setup")
        await d.settle()
        assert not d.small_targets(), d.small_targets()
        for key in ("host", "port", "tls", "user", "password", "topic", "full"):
            shown[key] = value_after(d, w[key])
        assert d.shown(f"{w['paired']}: Strip 1, Strip {outlets[0]}"), d.texts()
        await d.screenshot(shots / f"{lang}-parent-plug-paired.png", show=d.screen.ids.setup)

    run_app(scenario, data_dir=tmp_path / "device", server=broker_backend.url, lang=lang)

    assert shown["host"] == "mqtt.example.kr" and shown["port"] == "8883", shown
    assert shown["tls"].startswith(w["on"]) and "SetOption103" in shown["tls"], shown
    assert shown["topic"] == device and shown["full"] == full_topic, shown
    token = broker_backend.token(PARENT)
    household = broker_backend.graphql("{ me { household { id } } }", token=token)["me"]["household"]["id"]
    plugs = broker_backend.graphql(
        "query($h: ID!) { plugs(householdId: $h) { ... on PlugList { items { name deviceId channel vendor "
        "topicTemplate } } } }", {"h": household}, token=token)["plugs"]["items"]
    mine = sorted((p["channel"], p["name"], p["vendor"], p["topicTemplate"]) for p in plugs if p["deviceId"] == device)
    assert mine == [(0, "Strip 1", "TASMOTA", full_topic.rstrip("/")),
                    (int(outlets[0]) - 1, f"Strip {outlets[0]}", "TASMOTA", full_topic.rstrip("/"))], plugs
    # the password shown is the one the broker's file accepts, for the account the ACL confines
    accounts = parse_passwd((broker_backend.var_dir / "mosquitto.passwd").read_text())
    assert verify_mosquitto_hash(shown["password"], accounts[shown["user"]])
    rules = parse_acl((broker_backend.var_dir / "mosquitto.acl").read_text())[shown["user"]]
    tele = full_topic.replace("%prefix%", "tele").replace("%topic%", device) + "SENSOR"
    assert rules.may_write(tele) and not rules.may_write(f"tele/{device}/SENSOR")
