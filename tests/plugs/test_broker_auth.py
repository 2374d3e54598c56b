"""Per-plug MQTT accounts on a real private Mosquitto: the platform writes the password and
ACL files at pairing, and the broker refuses forged telemetry and foreign commands."""

from __future__ import annotations

import asyncio
import getpass
import shutil
import subprocess
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from backend.plugs import broker_auth, service
from backend.plugs.bridge import Bridge
from backend.plugs.mqtt import MqttClient, MqttError
from backend.plugs.readings import Vendor
from backend.plugs.vendors import switch_command
from tests.builders import build_world, principal_of
from tests.plugs.test_mqtt_bridge import PrivateMosquitto, _stored, _until
from tests.services import in_ci

NOT_AUTHORIZED = 0x87
SENSOR = ('{"Time":"%s","ENERGY":{"Total":1.25,"Power":40}}'
          % datetime.now(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%dT%H:%M:%S")).encode()
GEN2_STATUS = b'{"id":0,"output":true,"apower":900.0,"aenergy":{"total":5000.0}}'


def test_hash_is_the_mosquitto_passwd_format(tmp_path):
    stored = broker_auth.mosquitto_hash("s3cret", salt=b"0123456789ab")
    assert stored.startswith("$7$101$MDEyMzQ1Njc4OWFi$") and len(stored.split("$")[4]) == 88
    assert broker_auth.verify_mosquitto_hash("s3cret", stored)
    assert not broker_auth.verify_mosquitto_hash("s3cret!", stored)
    assert not broker_auth.verify_mosquitto_hash("s3cret", "$6$x$y")
    if shutil.which("mosquitto_passwd") is None:
        return
    path = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(path), "u", "from-the-tool"], check=True)
    assert broker_auth.verify_mosquitto_hash("from-the-tool", path.read_text().strip().split(":", 1)[1])


def test_acl_lists_only_the_devices_own_topics():
    accounts = [broker_auth.Account("plug-1", "$7$h", Vendor.TASMOTA, "tasmota_a"),
                broker_auth.Account("plug-2", "$7$h", Vendor.SHELLY_GEN2, "shellyplus-b")]
    passwd, acl = broker_auth.render_files(accounts, "bridge", "$7$b")
    assert passwd.splitlines() == ["bridge:$7$b", "plug-1:$7$h", "plug-2:$7$h"]
    plug1 = acl.split("user plug-1\n")[1].split("\n\n")[0].splitlines()
    assert plug1 == ["topic write tele/tasmota_a/#", "topic write stat/tasmota_a/#",
                     "topic write tasmota/discovery/+/config", "topic write tasmota/discovery/+/sensors",
                     "topic read cmnd/tasmota_a/#"]
    with pytest.raises(ValueError):
        broker_auth.render_files([broker_auth.Account("plug-3", "$7$h", Vendor.TASMOTA, "a/#")], "bridge", "$7$b")


class SecuredMosquitto(PrivateMosquitto):
    """A private broker that takes its accounts from the files the platform keeps."""

    def __init__(self, workdir) -> None:
        super().__init__(workdir)
        self.password_file, self.acl_file = workdir / "passwd", workdir / "acl"
        self.pid_file = workdir / "mosquitto.pid"
        self.conf.write_text("\n".join([
            f"listener {self.port} 127.0.0.1", "allow_anonymous false", "persistence false",
            f"password_file {self.password_file}", f"acl_file {self.acl_file}",
            f"log_dest file {workdir / 'mosquitto.log'}", f"user {getpass.getuser()}", ""]))

    def start(self) -> None:
        super().start()
        assert self.proc is not None
        self.pid_file.write_text(str(self.proc.pid))


@pytest.fixture
def secured_broker(tmp_path):
    if shutil.which("mosquitto") is None:
        if in_ci():
            pytest.fail("the mosquitto binary is not installed")
        pytest.skip("the mosquitto binary is not installed")
    broker = SecuredMosquitto(tmp_path)
    yield broker
    broker.stop()


async def _client(port, username=None, password=None, on_message=None) -> MqttClient:
    client = MqttClient("127.0.0.1", port, f"t-{uuid.uuid4().hex[:8]}", clean_start=True,
                        username=username, password=password, on_message=on_message)
    await client.connect()
    return client


async def test_devices_publish_and_read_only_their_own_topics(db, secured_broker):
    world = await build_world()
    parent = await principal_of(world.family_a1.parent)
    tag = uuid.uuid4().hex[:6]
    bridge_password = uuid.uuid4().hex
    settings = db.model_copy(update={
        "mqtt_url": f"mqtt://127.0.0.1:{secured_broker.port}", "mqtt_client_id": f"auth-bridge-{tag}",
        "mqtt_username": "pvpp-bridge", "mqtt_password": SecretStr(bridge_password),
        "mqtt_password_file": secured_broker.password_file, "mqtt_acl_file": secured_broker.acl_file,
        "mqtt_broker_pid_file": secured_broker.pid_file})

    async def pair(vendor, device_id):
        issued = await service.create_pairing_code(settings, parent, parent.household_id)
        return await service.pair_plug(settings, issued.code, vendor, device_id, "TV", parent)

    a = await pair(Vendor.TASMOTA, f"tasmota_{tag}")
    b = await pair(Vendor.SHELLY_GEN2, f"shellyplus-{tag}")
    assert a.plug.mqtt_username == f"plug-{a.plug.id}" and a.mqtt_password and a.token is None
    assert a.mqtt_password not in secured_broker.password_file.read_text()  # only its hash is kept
    assert broker_auth.verify_mosquitto_hash(a.mqtt_password, a.plug.mqtt_password_hash)
    secured_broker.start()
    port = secured_broker.port

    with pytest.raises(MqttError, match="refused"):
        await _client(port)  # anonymous
    with pytest.raises(MqttError, match="refused"):
        await _client(port, a.plug.mqtt_username, b.mqtt_password)  # someone else's password

    bridge, stop = Bridge(settings), asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    await asyncio.wait_for(bridge.connected.wait(), 10)  # its account may subscribe to all telemetry
    received: dict[str, list[tuple[str, bytes]]] = {"a": [], "b": []}
    dev_a = await _client(port, a.plug.mqtt_username, a.mqtt_password,
                          lambda t, p, q, i, d: received["a"].append((t, p)))
    dev_b = await _client(port, b.plug.mqtt_username, b.mqtt_password,
                          lambda t, p, q, i, d: received["b"].append((t, p)))
    try:
        # a forges b's telemetry and an unpaired device's: the broker refuses, nothing arrives
        assert await (await dev_a.publish(f"{b.plug.device_id}/status/switch:0", GEN2_STATUS, qos=1)) == NOT_AUTHORIZED
        assert await (await dev_a.publish(f"tele/tasmota_{tag}x/SENSOR", SENSOR, qos=1)) == NOT_AUTHORIZED
        assert await (await dev_a.publish(f"tele/{a.plug.device_id}/SENSOR", SENSOR, qos=1)) == 0
        assert await (await dev_b.publish(f"{b.plug.device_id}/status/switch:0", GEN2_STATUS, qos=1)) == 0
        await _until(lambda: _has(a.plug.id, b.plug.id))
        await asyncio.sleep(0.5)
        assert await _stored(b.plug.id) == 1  # b's own reading only, not a's forgery

        # a may read its own commands, never b's; nobody but the bridge may send commands
        assert await dev_a.subscribe([f"cmnd/{a.plug.device_id}/#"]) == [1]
        # Mosquitto 2.0 grants any filter and checks read access per delivered message
        await dev_a.subscribe([f"{b.plug.device_id}/rpc", "#"])
        await dev_b.subscribe([f"{b.plug.device_id}/rpc"])
        assert await (await dev_a.publish(*switch_command(Vendor.SHELLY_GEN2, b.plug.device_id, False), qos=1)) \
            == NOT_AUTHORIZED
        for vendor, device in ((Vendor.TASMOTA, a.plug.device_id), (Vendor.SHELLY_GEN2, b.plug.device_id)):
            assert await (await bridge.client.publish(*switch_command(vendor, device, True), qos=1)) == 0
        assert await (await bridge.client.publish(f"tele/{a.plug.device_id}/SENSOR", SENSOR, qos=1)) \
            == NOT_AUTHORIZED  # the bridge's account sends commands, it does not forge telemetry
        await _until(_true_when(lambda: received["a"] and received["b"]))
        await asyncio.sleep(0.3)
        # (a gets its command once per matching subscription: MQTT 5 does not merge overlaps)
        assert {t for t, _ in received["a"]} == {f"cmnd/{a.plug.device_id}/POWER"}
        assert [t for t, _ in received["b"]] == [f"{b.plug.device_id}/rpc"]
    finally:
        stop.set()
        await task
        await dev_a.disconnect()
        await dev_b.disconnect()

    # unpairing removes the account: the broker reloads its files and refuses the device
    await service.unpair_plug(parent, a.plug.id, settings=settings)
    assert f"plug-{a.plug.id}:" not in secured_broker.password_file.read_text()
    await asyncio.sleep(0.5)  # SIGHUP is asynchronous
    with pytest.raises(MqttError, match="refused"):
        await _client(port, a.plug.mqtt_username, a.mqtt_password)
    await (await _client(port, b.plug.mqtt_username, b.mqtt_password)).disconnect()  # b still welcome


async def _has(*plug_ids: int) -> bool:
    return all([await _stored(p) for p in plug_ids])


def _true_when(check):
    async def predicate() -> bool:
        return bool(check())
    return predicate


async def test_a_gen2_device_cannot_take_a_reserved_prefix(db):
    world = await build_world()
    parent = await principal_of(world.family_a1.parent)
    issued = await service.create_pairing_code(db, parent, parent.household_id)
    from backend.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        await service.pair_plug(db, issued.code, Vendor.SHELLY_GEN2, "tele", "TV", parent)
    paired = await service.pair_plug(db, issued.code, Vendor.SHELLY_GEN2, "shellyplus-ok", "TV", parent)
    assert paired.mqtt_password  # the code was still usable after the refusal
