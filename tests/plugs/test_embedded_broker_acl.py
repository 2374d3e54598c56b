"""The embedded amqtt broker with the platform's password and ACL files applies the same rules
as Mosquitto: no anonymous clients, devices publish only their own telemetry and receive only
their own commands, the bridge reads telemetry and sends commands."""

from __future__ import annotations

import asyncio
import uuid
import warnings

import pytest

from backend.plugs import broker_auth
from backend.plugs.mqtt import MqttClient, MqttError
from backend.plugs.readings import Vendor
from backend.plugs.vendors import switch_command
from backend.runtime.embedded_mqtt import broker_config
from backend.runtime.supervisor import _free_port

SENSOR = b'{"Time":"2024-05-01T12:00:00+09:00","ENERGY":{"Total":1.25,"Power":40}}'
GEN2_STATUS = b'{"id":0,"output":true,"apower":900.0,"aenergy":{"total":5000.0}}'


def test_acl_file_reads_back_as_written():
    accounts = [broker_auth.Account("plug-1", "$7$h", Vendor.TASMOTA, "tasmota_a", "home/%topic%/%prefix%"),
                broker_auth.Account("plug-2", "$7$h", Vendor.SHELLY_GEN1, "shellyem-1")]
    passwd, acl = broker_auth.render_files(accounts, "bridge", "$7$b")
    rules = broker_auth.parse_acl(acl)
    assert broker_auth.parse_passwd(passwd) == {"bridge": "$7$b", "plug-1": "$7$h", "plug-2": "$7$h"}
    assert rules["plug-1"].may_write("home/tasmota_a/tele/SENSOR")
    assert not rules["plug-1"].may_write("tele/tasmota_a/SENSOR")  # not its layout
    assert rules["plug-1"].may_read("home/tasmota_a/cmnd/POWER2") and not rules["plug-1"].may_read("cmnd/x/POWER")
    assert rules["plug-2"].may_write("shellies/shellyem-1/emeter/1/total")
    assert not rules["plug-2"].may_write("shellies/shellyem-1/relay/0/command")
    assert rules["bridge"].may_read("home/tasmota_a/tele/SENSOR") and rules["bridge"].may_write("cmnd/x/POWER3")
    assert not rules["bridge"].may_write("tele/x/SENSOR")
    for f, t, ok in (("a/+/c", "a/b/c", True), ("a/#", "a", True), ("a/#", "a/b/c", True), ("a/+", "a/b/c", False),
                     ("a/b", "a/b/c", False), ("+/status/+", "x/status/switch:0", True)):
        assert broker_auth.topic_matches(f, t) is ok, (f, t)


@pytest.fixture
async def embedded(tmp_path):
    from amqtt.broker import Broker

    secrets = {"a": uuid.uuid4().hex, "b": uuid.uuid4().hex, "bridge": uuid.uuid4().hex}
    accounts = [broker_auth.Account("plug-1", broker_auth.mosquitto_hash(secrets["a"]), Vendor.TASMOTA, "tasmota_a"),
                broker_auth.Account("plug-2", broker_auth.mosquitto_hash(secrets["b"]), Vendor.SHELLY_GEN2,
                                    "shellyplus-b")]
    passwd, acl = broker_auth.render_files(accounts, "pvpp-bridge", broker_auth.mosquitto_hash(secrets["bridge"]))
    broker_auth.write_files(tmp_path / "passwd", tmp_path / "acl", passwd, acl)
    port = _free_port()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        broker = Broker(broker_config(port, str(tmp_path / "passwd"), str(tmp_path / "acl")))
    await broker.start()
    yield port, secrets, tmp_path
    await broker.shutdown()


async def _client(port, username=None, password=None, on_message=None) -> MqttClient:
    client = MqttClient("127.0.0.1", port, f"t-{uuid.uuid4().hex[:8]}", version=4, clean_start=True,
                        username=username, password=password, on_message=on_message)
    await client.connect()
    return client


async def test_embedded_broker_applies_the_platform_acl(embedded):
    port, secrets, tmp_path = embedded
    with pytest.raises((MqttError, OSError)):
        await _client(port)  # anonymous
    with pytest.raises((MqttError, OSError)):
        await _client(port, "plug-1", secrets["b"])  # someone else's password
    got: dict[str, list[str]] = {"bridge": [], "a": [], "b": []}

    def collect(name):
        return lambda topic, payload, qos, packet_id, dup: got[name].append(topic)

    bridge = await _client(port, "pvpp-bridge", secrets["bridge"], collect("bridge"))
    dev_a = await _client(port, "plug-1", secrets["a"], collect("a"))
    dev_b = await _client(port, "plug-2", secrets["b"], collect("b"))
    try:
        await bridge.subscribe(["tele/+/SENSOR", "+/status/+"], qos=0)
        await dev_a.subscribe(["#"], qos=0)  # granted, but only its own commands are delivered
        await dev_b.subscribe(["shellyplus-b/rpc"], qos=0)
        await dev_a.publish("shellyplus-b/status/switch:0", GEN2_STATUS)  # forging b
        await dev_a.publish("tele/tasmota_x/SENSOR", SENSOR)              # forging an unpaired device
        await dev_a.publish("tele/tasmota_a/SENSOR", SENSOR)              # its own
        await dev_b.publish("shellyplus-b/status/switch:0", GEN2_STATUS)  # its own
        await dev_a.publish(*switch_command(Vendor.SHELLY_GEN2, "shellyplus-b", False))  # a command to b
        await bridge.publish(*switch_command(Vendor.TASMOTA, "tasmota_a", True, channel=1))
        await bridge.publish(*switch_command(Vendor.SHELLY_GEN2, "shellyplus-b", True))
        await bridge.publish("tele/tasmota_a/SENSOR", SENSOR)  # the bridge does not forge telemetry
        await asyncio.sleep(1.0)
        assert sorted(got["bridge"]) == ["shellyplus-b/status/switch:0", "tele/tasmota_a/SENSOR"]
        assert got["a"] == ["cmnd/tasmota_a/POWER2"]
        assert got["b"] == ["shellyplus-b/rpc"]  # the bridge's, not a's
    finally:
        for client in (bridge, dev_a, dev_b):
            await client.disconnect()
    # the files change (an unpairing): the embedded broker follows them, as Mosquitto on SIGHUP
    passwd = (tmp_path / "passwd").read_text().splitlines()
    (tmp_path / "passwd").write_text("\n".join(line for line in passwd if not line.startswith("plug-1:")) + "\n")
    with pytest.raises((MqttError, OSError)):
        await _client(port, "plug-1", secrets["a"])
    await (await _client(port, "plug-2", secrets["b"])).disconnect()
