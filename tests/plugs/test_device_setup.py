"""What the app shows after pairing: the broker as devices reach it and each vendor's topic fields."""

from __future__ import annotations

import pytest

from backend.plugs.device_setup import device_setup
from backend.plugs.readings import Vendor
from backend.settings import Settings


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize(("values", "address"), [
    ({"mqtt_device_url": "mqtts://mqtt.example.kr"}, ("mqtt.example.kr", 8883, True)),
    ({"mqtt_device_url": "mqtt://10.0.0.2:1884", "mqtt_url": "mqtt://127.0.0.1:1883"}, ("10.0.0.2", 1884, False)),
    ({"mqtt_url": "mqtt://127.0.0.1:41234"}, ("127.0.0.1", 41234, False)),
    ({}, None),
])
def test_device_address(values: dict, address) -> None:
    assert settings(**values).mqtt_device_address == address


def test_each_vendor_gets_its_own_topic_fields() -> None:
    s = settings(mqtt_device_url="mqtts://mqtt.example.kr:8883")
    tasmota = device_setup(s, Vendor.TASMOTA, "strip", None, "plug-1", "pw")
    assert (tasmota.topic, tasmota.full_topic, tasmota.prefix) == ("strip", "%prefix%/%topic%/", None)
    assert device_setup(s, Vendor.TASMOTA, "strip", "home/%topic%/%prefix%", "u", "p").full_topic \
        == "home/%topic%/%prefix%/"
    by_host = device_setup(s, Vendor.TASMOTA, "kitchen-5FF8", "%prefix%/%hostname%", "u", "p")
    assert (by_host.topic, by_host.full_topic) == (None, "%prefix%/%hostname%/")
    gen2 = device_setup(s, Vendor.SHELLY_GEN2, "shellypro4pm-1", "home/garage/strip", "u", "p")
    assert (gen2.topic, gen2.full_topic, gen2.prefix) == (None, None, "home/garage/strip")
    assert device_setup(s, Vendor.SHELLY_GEN2, "shellypro4pm-1", None, "u", "p").prefix == "shellypro4pm-1"
    gen1 = device_setup(s, Vendor.SHELLY_GEN1, "shellyplug-s-1", None, "u", "p")
    assert (gen1.host, gen1.port, gen1.tls, gen1.prefix) == ("mqtt.example.kr", 8883, True, None)


def test_a_device_url_with_a_path_is_refused() -> None:
    with pytest.raises(ValueError):
        settings(mqtt_device_url="mqtts://mqtt.example.kr:8883/x")
