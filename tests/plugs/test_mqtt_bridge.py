"""The MQTT bridge against real Mosquitto: vendor payloads to kWh, and no QoS 1 loss across
broker and bridge restarts."""

from __future__ import annotations

import asyncio
import getpass
import json
import shutil
import socket
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backend.plugs import commands, service, store
from backend.plugs.bridge import Bridge
from backend.plugs.fleet_model import FleetModel
from backend.plugs.models import CommandStatus, Plug, PlugCommand, RejectCount
from backend.plugs.mqtt import MqttClient, MqttError, forget_session
from backend.plugs.readings import Vendor
from backend.plugs.rollups import rollup_pending
from backend.plugs.simulator import Simulator, register_fleet
from tests.builders import build_world, principal_of
from tests.services import in_ci, require_service

FIXTURES = Path(__file__).parent / "fixtures"
SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def broker():
    require_service("Mosquitto", "127.0.0.1", 1883)
    return ("127.0.0.1", 1883)


async def _stored(plug_id: int) -> int:
    from tortoise import Tortoise

    conn = Tortoise.get_connection("default")
    marks = "$1" if store.is_postgres(conn) else "?"
    rows = await conn.execute_query_dict(f"SELECT count(*) AS n FROM plug_reading WHERE plug_id = {marks}", [plug_id])
    return int(rows[0]["n"])


async def _until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


_SESSIONS: list[tuple[str, int, str]] = []


@pytest.fixture(autouse=True)
async def _forget_bridge_sessions():
    """Test bridges keep persistent sessions; discard them afterwards so the shared broker
    does not go on queueing every plug message for bridges that will never come back."""
    yield
    while _SESSIONS:
        host, port, client_id = _SESSIONS.pop()
        try:
            await forget_session(host, port, client_id)
        except (MqttError, OSError):
            pass  # a private broker already stopped takes its sessions with it


def _bridge_settings(settings, host, port, client_id=None):
    client_id = client_id or f"test-bridge-{uuid.uuid4().hex[:8]}"
    _SESSIONS.append((host, port, client_id))
    return settings.model_copy(update={"mqtt_url": f"mqtt://{host}:{port}", "mqtt_client_id": client_id})


async def _start_bridge(settings):
    bridge = Bridge(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    await asyncio.wait_for(bridge.connected.wait(), 10)
    return bridge, stop, task


async def test_vendor_payloads_through_mosquitto_to_kwh(db, broker):
    world = await build_world()
    tag = uuid.uuid4().hex[:6]
    ids = {Vendor.TASMOTA: f"tasmota_{tag}", Vendor.SHELLY_GEN1: f"shellyplug-s-{tag}",
           Vendor.SHELLY_GEN2: f"shellyplusplugs-{tag}"}
    # the Tasmota's zone offset (+9 h) was learned before and kept on its row
    plugs = {v: await Plug.create(household_id=world.family_a1.household.id, vendor=v, device_id=d, name=str(v),
                                  clock_offset_min=540 if v is Vendor.TASMOTA else None)
             for v, d in ids.items()}
    bridge, stop, task = await _start_bridge(_bridge_settings(db, *broker))
    device = MqttClient(*broker, f"test-device-{tag}", clean_start=True)
    await device.connect()
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        # Tasmota: the documented SENSOR payload (Total 3.705 kWh), stamped with device time 1 min apart
        # (within 90 s of receipt under the known offset: device-timed)
        sensor = json.loads((FIXTURES / "tasmota_sensor.json").read_text())
        for minutes_ago, total in ((1, 3.705), (0, 3.715)):
            sensor["Time"] = (now - timedelta(minutes=minutes_ago)).astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M:%S")
            sensor["ENERGY"]["Total"] = total
            await device.publish(f"tele/{ids[Vendor.TASMOTA]}/SENSOR", json.dumps(sensor).encode(), qos=1)
        # Shelly Gen1: energy counter in watt-minutes (documented topic), 1 s apart: 30 Wm = 0.5 Wh
        for value in ("6000", "6030"):
            await device.publish(f"shellies/{ids[Vendor.SHELLY_GEN1]}/relay/0/energy", value.encode(), qos=1)
            await device.publish(f"shellies/{ids[Vendor.SHELLY_GEN1]}/relay/0/power", b"29.61", qos=1)
            await asyncio.sleep(1.0)
        # Shelly Gen2: the documented switch:0 status (aenergy.total 6.532 Wh), then +0.5 Wh a second later
        status = json.loads((FIXTURES / "shelly_gen2_status_switch0.json").read_text())
        for total in (6.532, 7.032):
            status["aenergy"]["total"] = total
            done = await device.publish(f"{ids[Vendor.SHELLY_GEN2]}/status/switch:0", json.dumps(status).encode(), qos=1)
            await asyncio.sleep(1.0)
        await done
        await device.publish(f"tele/{ids[Vendor.TASMOTA]}/LWT", b"Offline", qos=1)
        await device.publish(f"tele/{ids[Vendor.TASMOTA]}/SENSOR", b'{"ENERGY": {"Power": "lots"}}', qos=1)
        last = await device.publish("nobody/knows/this/topic", b"?", qos=1)
        await last

        async def all_in():
            return (await _stored(plugs[Vendor.TASMOTA].id) == 2 and await _stored(plugs[Vendor.SHELLY_GEN1].id) == 4
                    and await _stored(plugs[Vendor.SHELLY_GEN2].id) == 2)
        await _until(all_in)
        await _until(lambda: RejectCount.filter(reason="wrong_type").exists())
    finally:
        await device.disconnect()
        stop.set()
        await task
    await rollup_pending()
    start = (now - timedelta(hours=2)).replace(minute=0, second=0)
    energy = await service.energy_since([p.id for p in plugs.values()], start, start + timedelta(hours=4))
    assert round(energy[plugs[Vendor.TASMOTA].id][0], 6) == 10.0          # 3.715 - 3.705 kWh
    assert round(energy[plugs[Vendor.SHELLY_GEN1].id][0], 6) == 0.5       # 30 Wm
    assert round(energy[plugs[Vendor.SHELLY_GEN2].id][0], 6) == 0.5       # 7.032 - 6.532 Wh
    await plugs[Vendor.TASMOTA].refresh_from_db()
    assert plugs[Vendor.TASMOTA].online is False
    rejects = {(r.vendor, r.reason): r.count for r in await RejectCount.all()}
    assert rejects[("tasmota", "wrong_type")] == 1


async def test_switch_commands_reach_simulated_plugs_and_are_confirmed(db, broker):
    """switchPlug's outbox through the real bridge and broker to the simulator's plugs, which
    obey and report their new state; a paired device that never answers ends as failed."""
    world = await build_world()
    household = world.family_a1.household.id
    tag = uuid.uuid4().hex[:6]
    fleet = FleetModel(1, seed=int(tag, 16), report_interval_s=2.0, anomalies=False)
    await register_fleet(fleet, [household])
    plugs = await Plug.filter(household_id=household, unpaired_at=None)
    ghost = await Plug.create(household_id=household, vendor=Vendor.TASMOTA, device_id=f"tasmota_ghost_{tag}",
                              name="Ghost")
    settings = _bridge_settings(db, *broker).model_copy(
        update={"plug_command_confirm_seconds": 1.0, "plug_command_attempts": 2})
    _bridge, stop, task = await _start_bridge(settings)
    simulator = Simulator(fleet, *broker, client_id=f"test-sim-{tag}")
    sim_stop = asyncio.Event()
    sim_task = asyncio.create_task(simulator.run(sim_stop))
    parent = await principal_of(world.family_a1.parent)
    try:
        sent = [await commands.request_switch(parent, plug.id, False) for plug in plugs]
        lost = await commands.request_switch(parent, ghost.id, False)
        ids = [c.id for c in sent] + [lost.id]

        async def settled():
            statuses = await PlugCommand.filter(id__in=ids).values_list("status", flat=True)
            return all(s in (CommandStatus.CONFIRMED, CommandStatus.FAILED) for s in statuses)
        await _until(settled, 30)
    finally:
        sim_stop.set()
        await sim_task
        stop.set()
        await task
    for command in sent:
        await command.refresh_from_db()
        assert command.status is CommandStatus.CONFIRMED, command.error
    await lost.refresh_from_db()
    assert (lost.status, lost.attempts) == (CommandStatus.FAILED, 2)
    assert all(fleet.plug(p.device_id).relay_on is False for p in plugs)
    assert {p.relay_on for p in await Plug.filter(id__in=[p.id for p in plugs])} == {False}
    assert simulator.stats.commands >= len(plugs)


# -- restarts: a private Mosquitto with persistence, so it can be stopped and started --------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateMosquitto:
    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.conf = workdir / "mosquitto.conf"
        (workdir / "data").mkdir()
        self.conf.write_text("\n".join([
            f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence true",
            f"persistence_location {workdir / 'data'}/", "max_queued_messages 0", "autosave_interval 1",
            f"log_dest file {workdir / 'mosquitto.log'}",
            f"user {getpass.getuser()}", ""]))  # started as root it would switch to "mosquitto"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its sessions and queued messages
            self.proc.wait(10)


@pytest.fixture
def private_broker(tmp_path):
    if shutil.which("mosquitto") is None:
        message = "the mosquitto binary is not installed"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    broker = PrivateMosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()


async def _publish_reliably(host, port, messages, client_id, gate: asyncio.Event | None = None):
    """A device that keeps its session and resends unacknowledged messages after a reconnect."""
    client = MqttClient(host, port, client_id, clean_start=False, session_expiry_s=3600)
    sent = 0
    pending = []
    while True:
        try:
            await client.connect(timeout=2)
            while sent < len(messages):
                if gate is not None and sent == len(messages) // 2:
                    gate.set()
                topic, payload = messages[sent]
                pending.append(await client.publish(topic, payload, qos=1))
                sent += 1
                if sent % 50 == 0:
                    await asyncio.sleep(0.01)
            while client.inflight:
                if not client.connected:
                    raise MqttError("dropped")
                await asyncio.sleep(0.05)
            break
        except (MqttError, OSError, TimeoutError):
            await asyncio.sleep(0.2)
    await client.disconnect()


async def test_no_qos1_reading_lost_across_broker_and_bridge_restarts(db, private_broker):
    world = await build_world()
    plug = await Plug.create(household_id=world.family_a1.household.id, vendor=Vendor.TASMOTA,
                             device_id="tasmota_restart", name="TV")
    settings = _bridge_settings(db, "127.0.0.1", private_broker.port, client_id="restart-bridge")
    now = datetime.now(UTC).replace(microsecond=0)
    count = 1_200
    messages = []
    for i in range(count):  # one reading per second of device time over the last 20 minutes
        ts = (now - timedelta(seconds=count - i)).astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M:%S")
        messages.append(("tele/tasmota_restart/SENSOR",
                         json.dumps({"Time": ts, "ENERGY": {"Total": 1.0 + i / 100_000, "Power": 36}}).encode()))
    bridge, stop, task = await _start_bridge(settings)
    half = asyncio.Event()
    publisher = asyncio.create_task(_publish_reliably("127.0.0.1", private_broker.port, messages, "dev-restart", half))
    await half.wait()
    # the broker goes down mid-stream and comes back on the same port with its saved state
    await asyncio.to_thread(private_broker.stop)
    await asyncio.sleep(0.5)
    await asyncio.to_thread(private_broker.start)
    await asyncio.wait_for(publisher, 60)
    await _until(lambda: _count_is(plug.id, count), timeout=30)
    # now the bridge is stopped; readings published meanwhile wait in its persistent session
    stop.set()
    await task
    later = [("tele/tasmota_restart/SENSOR",
              json.dumps({"Time": (now + timedelta(seconds=i + 1)).astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M:%S"),
                          "ENERGY": {"Total": 2.0 + i / 100_000, "Power": 36}}).encode()) for i in range(100)]
    await _publish_reliably("127.0.0.1", private_broker.port, later, "dev-restart-2")
    bridge, stop, task = await _start_bridge(settings)
    try:
        await _until(lambda: _count_is(plug.id, count + 100), timeout=30)
    finally:
        stop.set()
        await task
    assert await _stored(plug.id) == count + 100  # every reading once: none lost, none doubled


async def _count_is(plug_id: int, expected: int) -> bool:
    return await _stored(plug_id) >= expected


async def test_a_publisher_with_a_full_window_learns_of_a_dropped_connection(private_broker):
    """A QoS 1 publisher waiting for room when the broker goes away gets MqttError (so it can
    reconnect and resend), also when it asks for room only after the drop was noticed."""
    client = MqttClient("127.0.0.1", private_broker.port, f"test-window-{uuid.uuid4().hex[:6]}", clean_start=True)
    ack = await client.connect()
    assert ack.receive_maximum == 20  # a stock Mosquitto's limit for publishers
    private_broker.stop()
    await asyncio.wait_for(client.wait_closed(), 5)
    with pytest.raises(MqttError):
        for _ in range(25):  # the window fills with unacknowledged messages, then publish must not hang
            await asyncio.wait_for(client.publish("tele/tasmota_window/SENSOR", b"{}", qos=1), 2)
    assert client.inflight == 20
