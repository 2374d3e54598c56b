"""What a person enters in a device's MQTT settings after pairing it: the broker as devices
reach it (``PVPP_MQTT_DEVICE_URL``, else ``PVPP_MQTT_URL``), the device's own account and its
topic layout (Tasmota ``Topic``/``FullTopic``, Shelly Gen2+ "MQTT prefix"). Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from backend.plugs import topics
from backend.plugs.readings import Vendor
from backend.settings import Settings


@dataclass(frozen=True)
class DeviceSetup:
    host: str | None
    port: int | None
    tls: bool
    username: str
    password: str
    topic: str | None  # Tasmota "Topic"
    full_topic: str | None  # Tasmota "Full Topic", with its trailing slash as Tasmota shows it
    prefix: str | None  # Shelly Gen2+ "MQTT prefix"


def device_setup(settings: Settings, vendor: Vendor, device_id: str, template: str | None,
                 username: str, password: str) -> DeviceSetup:
    address = settings.mqtt_device_address
    host, port, tls = address if address is not None else (None, None, False)
    topic = full_topic = prefix = None
    if vendor is Vendor.TASMOTA:
        full_topic = (template or topics.TASMOTA_DEFAULT) + "/"
        # paired under its hostname or MAC (a FullTopic without %topic%): its Topic does not matter
        topic = device_id if topics.key_token(template) == "%topic%" else None
    elif vendor is Vendor.SHELLY_GEN2:
        prefix = topics.gen2_prefix(template, device_id)
    return DeviceSetup(host, port, tls, username, password, topic, full_topic, prefix)
