"""Multi-channel devices: one plug per paired channel, other channels counted; topic layouts
chosen at pairing and Tasmota discovery; through the ingest pipeline and the real Mosquitto."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backend.errors import AlreadyExists, ValidationFailed
from backend.plugs import commands, service
from backend.plugs.ingest import Ingestor
from backend.plugs.models import Plug
from backend.plugs.mqtt import MqttClient
from backend.plugs.readings import Vendor
from tests.builders import build_world, principal_of
from tests.plugs.test_mqtt_bridge import _bridge_settings, _start_bridge, _stored, _until, broker  # noqa: F401
from tests.plugs.test_plug_service import _reading_times, _rejects

FIX = Path(__file__).parent / "fixtures"


async def _pair(settings, parent, vendor, device_id, name="Strip", channels=None, template=None):
    principal = await principal_of(parent)
    issued = await service.create_pairing_code(settings, principal, principal.household_id)
    return await service.pair_plug(settings, issued.code, vendor, device_id, name, principal,
                                   channels=channels, topic_template=template)


def _lines(name: str) -> list[tuple[str, bytes]]:
    return [(t, p.encode()) for t, p in (line.split(" ", 1) for line in (FIX / name).read_text().splitlines())]


async def test_pairing_chooses_the_households_channels(db):
    world = await build_world()
    paired = await _pair(db, world.family_a1.parent, Vendor.SHELLY_GEN2, "shellypro4pm-c8f09e8a1b2c",
                         "Desk", channels=[2, 0])
    assert [(p.channel, p.name) for p in paired.plugs] == [(0, "Desk 1"), (2, "Desk 3")]
    # one device, one broker login on every channel's row
    assert {(p.mqtt_username, p.mqtt_password_hash) for p in paired.plugs} == {
        (paired.plug.mqtt_username, paired.plug.mqtt_password_hash)}
    with pytest.raises(AlreadyExists):  # the same outlet again
        await _pair(db, world.family_a1.parent, Vendor.SHELLY_GEN2, "shellypro4pm-c8f09e8a1b2c", channels=[2])
    more = await _pair(db, world.family_a1.parent, Vendor.SHELLY_GEN2, "shellypro4pm-c8f09e8a1b2c", channels=[1])
    assert more.plug.channel == 1
    with pytest.raises(AlreadyExists):  # another household cannot take the device's last outlet
        await _pair(db, world.family_b.parent, Vendor.SHELLY_GEN2, "shellypro4pm-c8f09e8a1b2c", channels=[3])
    for bad in ([16], [-1]):
        with pytest.raises(ValidationFailed) as err:
            await _pair(db, world.family_a1.parent, Vendor.SHELLY_GEN2, "other", channels=bad)
        assert err.value.field == "channels"
    with pytest.raises(ValidationFailed):
        await _pair(db, world.family_a1.parent, Vendor.HTTP, "http-strip", channels=[0, 1])
    with pytest.raises(ValidationFailed) as err:
        await _pair(db, world.family_a1.parent, Vendor.TASMOTA, "t", template="%topic%/")
    assert err.value.field == "topicTemplate"


async def test_channels_are_stored_apart_and_others_counted(db):
    world = await build_world()
    parent = world.family_a1.parent
    pro4pm = (await _pair(db, parent, Vendor.SHELLY_GEN2, "shellypro4pm-c8f09e8a1b2c", channels=[0, 2])).plugs
    plus2pm = (await _pair(db, parent, Vendor.SHELLY_GEN2, "shellyplus2pm-08f9e0e48c18", channels=[0, 1])).plugs
    tasmota = (await _pair(db, parent, Vendor.TASMOTA, "strip", channels=[0, 1, 2])).plugs
    s25 = (await _pair(db, parent, Vendor.SHELLY_GEN1, "shellyswitch25-A1B2C3", channels=[1])).plugs
    em = (await _pair(db, parent, Vendor.SHELLY_GEN1, "shellyem-B9F2A4", channels=[0])).plugs
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    ingestor = Ingestor()
    await ingestor.directory.refresh()
    status = json.loads((FIX / "shelly_pro4pm_status_switch2.json").read_text())
    for n in range(4):  # every outlet of the Pro 4PM reports; outlets 1 and 3 are not the household's
        ingestor.submit(f"shellypro4pm-c8f09e8a1b2c/status/switch:{n}", json.dumps({**status, "id": n}).encode(),
                        received_at=t0 + timedelta(seconds=n))
    frame = json.loads((FIX / "shelly_plus2pm_notify_two_switches.json").read_text())
    frame["params"]["ts"] = (t0 + timedelta(seconds=5)).timestamp()
    ingestor.submit("shellyplus2pm-08f9e0e48c18/events/rpc", json.dumps(frame).encode(),
                    received_at=t0 + timedelta(seconds=5))
    sensor = json.loads((FIX / "tasmota_sensor_setoption129.json").read_text())
    sensor["Time"] = (t0 + timedelta(seconds=6)).isoformat()  # an NTP-synced Tasmota with SetOption52
    ingestor.submit("tele/strip/SENSOR", json.dumps(sensor).encode(), received_at=t0 + timedelta(seconds=6))
    for i, (topic, payload) in enumerate(_lines("shelly_gen1_relay1_messages.txt") + _lines("shelly_em_messages.txt")):
        ingestor.submit(topic, payload, received_at=t0 + timedelta(seconds=10 + i))
    ingestor.submit("tele/strip/STATE", b'{"POWER1":"ON","POWER2":"OFF","POWER3":"ON"}',
                    received_at=t0 + timedelta(seconds=30))
    ingestor.submit("shellypro4pm-c8f09e8a1b2c/online", b"false", received_at=t0 + timedelta(seconds=31))
    result = await ingestor.flush()
    # Pro 4PM: 2 outlets; Plus 2PM: 2; Tasmota: 3; Shelly 2.5 outlet 1: power and energy; EM channel 0:
    # power and total (its returned counter is kept on the plug)
    assert result.stored == 2 + 2 + 3 + 2 + 2
    rejects = await _rejects()
    # Pro 4PM outlets 1 and 3; Shelly 2.5 outlet 0 (state, power, energy); EM channel 1 (power, total,
    # returned); the EM's relay/0 (its contactor) is channel 0's relay state
    assert rejects[("shelly_gen2", "unsupported_channel")] == 2
    assert rejects[("shelly_gen1", "unsupported_channel")] == 3 + 3
    assert [len(await _reading_times(p.id)) for p in pro4pm] == [1, 1]
    assert await _reading_times(plus2pm[1].id) == [t0 + timedelta(seconds=5)]  # the device's own ts
    assert await _reading_times(tasmota[2].id) == [t0 + timedelta(seconds=6)]
    rows = {p.id: p for p in await Plug.filter(household_id=world.family_a1.household.id)}
    assert [rows[p.id].relay_on for p in tasmota] == [True, False, True]
    assert [rows[p.id].online for p in pro4pm] == [False, False]  # the device went: all its outlets
    assert rows[em[0].id].meter and not rows[s25[0].id].meter
    assert rows[em[0].id].returned_wh == 0.0
    # a meter channel has no switch; outlet 2 of the Pro 4PM is switched as outlet 2
    assert commands.switchable(rows[em[0].id]) is not None
    command = await commands.queue_switch(rows[pro4pm[1].id], False)
    sent: list[tuple[str, bytes]] = []

    async def publish(topic: str, payload: bytes) -> None:
        sent.append((topic, payload))
    await commands.CommandDispatcher(confirm_s=30, attempts=2).tick(publish)
    assert sent[0][0] == "shellypro4pm-c8f09e8a1b2c/rpc" and json.loads(sent[0][1])["params"] == {"id": 2, "on": False}
    await ingestor.directory.refresh()
    ingestor.submit("shellypro4pm-c8f09e8a1b2c/status/switch:0", b'{"id":0,"output":false}')  # another outlet
    await ingestor.flush()
    assert (await commands.PlugCommand.get(id=command.id)).status.value == "sent"
    ingestor.submit("shellypro4pm-c8f09e8a1b2c/status/switch:2", b'{"id":2,"output":false}')
    await ingestor.flush()
    assert (await commands.PlugCommand.get(id=command.id)).status.value == "confirmed"


async def test_topic_template_and_discovery(db):
    world = await build_world()
    parent = world.family_a1.parent
    strip = (await _pair(db, parent, Vendor.TASMOTA, "kitchen-strip", channels=[0, 1],
                         template="home/%topic%/%prefix%/")).plugs
    plain = (await _pair(db, parent, Vendor.TASMOTA, "hall-lamp")).plug
    gen2 = (await _pair(db, parent, Vendor.SHELLY_GEN2, "shellyplus2pm-08f9e0e48c18", template="shellies/hall")).plug
    assert strip[0].topic_template == "home/%topic%/%prefix%"
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    ingestor = Ingestor()
    await ingestor.directory.refresh()
    sensor = b'{"Time":"%s","ENERGY":{"Total":[0.5,0.25],"Power":[40,0]}}' % t0.isoformat().encode()
    ingestor.submit("home/kitchen-strip/tele/SENSOR", sensor, received_at=t0)
    discovery = (FIX / "tasmota_discovery_config.json").read_bytes()
    ingestor.submit("tasmota/discovery/A4CF125FF8B2/config", discovery, received_at=t0)  # the same layout: fine
    ingestor.submit("home/kitchen-strip/tele/LWT", b"Gone", received_at=t0 + timedelta(seconds=1))
    # the hall lamp announces a FullTopic it was not paired with: its readings would never arrive
    other = json.loads(discovery)
    other.update(t="hall-lamp", ft="%topic%/%prefix%/")
    ingestor.submit("tasmota/discovery/A4CF12000001/config", json.dumps(other).encode(), received_at=t0)
    ingestor.submit("shellies/hall/online", b"true", received_at=t0)  # a Gen2 prefix under shellies/
    ingestor.submit("shellies/hall/status/switch:0", b'{"id":0,"apower":12.5,"aenergy":{"total":100.0}}',
                    received_at=t0)
    result = await ingestor.flush()
    assert result.stored == 3
    assert [await _reading_times(p.id) for p in strip] == [[t0], [t0]]
    rows = {p.id: p for p in await Plug.all()}
    assert [rows[p.id].online for p in strip] == [False, False]  # "Gone" is its Offline
    assert rows[gen2.id].online is True and rows[plain.id].online is None
    assert (await _rejects())[("tasmota", "topic_mismatch")] == 1
    assert sorted(ingestor.directory.template_filters()) == [
        "home/+/stat/+", "home/+/tele/+", "shellies/hall/events/rpc", "shellies/hall/online",
        "shellies/hall/status/+"]


async def test_hostname_and_id_layouts_with_discovery(db):
    """A Tasmota whose FullTopic is %prefix%/%hostname%/ is paired under its hostname and found by
    its discovery config (the hostname, not its Topic); one on home/%prefix%/%topic%/%id%/ is read
    by its Topic, its %id% (MAC) learned from its discovery config so its commands can be sent;
    a discovery config announcing another layout is still a topic_mismatch."""
    world = await build_world()
    parent = world.family_a1.parent
    kitchen = (await _pair(db, parent, Vendor.TASMOTA, "kitchen-strip-5FF8", channels=[0, 1],
                           template="%prefix%/%hostname%/")).plugs
    desk = (await _pair(db, parent, Vendor.TASMOTA, "desk", template="home/%prefix%/%topic%/%id%/")).plug
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    ingestor = Ingestor()
    await ingestor.directory.refresh()
    by_host = (FIX / "tasmota_discovery_hostname.json").read_bytes()
    ingestor.submit("tasmota/discovery/A4CF125FF8B2/config", by_host, received_at=t0)  # its layout: fine
    sensor = b'{"Time":"%s","ENERGY":{"Total":[0.5,0.25],"Power":[40,0]}}' % t0.isoformat().encode()
    ingestor.submit("tele/kitchen-strip-5FF8/SENSOR", sensor, received_at=t0)
    ingestor.submit("tele/kitchen-strip-5FF8/LWT", b"Gone", received_at=t0 + timedelta(seconds=1))
    desk_config = json.loads(by_host)
    desk_config.update(t="desk", hn="desk-0002", mac="A4CF12000002", ft="home/%prefix%/%topic%/%id%/")
    command = await commands.queue_switch(desk, False)
    sent: list[str] = []

    async def publish(topic: str, payload: bytes) -> None:
        sent.append(topic)
    dispatcher = commands.CommandDispatcher(confirm_s=30, attempts=2, learned=ingestor.directory.topics.learned)
    await dispatcher.tick(publish)
    assert sent == []  # its %id% is not known yet: nothing sent to a wildcard
    ingestor.submit("tasmota/discovery/A4CF12000002/config", json.dumps(desk_config).encode(), received_at=t0)
    ingestor.submit("home/tele/desk/A4CF12000002/SENSOR", b'{"ENERGY":{"Total":1.5,"Power":12}}', received_at=t0)
    desk_config.update(ft="%prefix%/%topic%/")  # reconfigured: readings would no longer arrive
    ingestor.submit("tasmota/discovery/A4CF12000002/config", json.dumps(desk_config).encode(), received_at=t0)
    result = await ingestor.flush()
    assert result.stored == 3
    assert [await _reading_times(p.id) for p in kitchen] == [[t0], [t0]]
    assert await _reading_times(desk.id) == [t0]
    assert [p.online for p in await Plug.filter(id__in=[p.id for p in kitchen])] == [False, False]  # "Gone"
    assert (await _rejects())[("tasmota", "topic_mismatch")] == 1
    await commands.PlugCommand.filter(id=command.id).update(status=commands.CommandStatus.PENDING)
    await dispatcher.tick(publish)
    assert sent == ["home/cmnd/desk/A4CF12000002/POWER"]


async def test_channels_and_layouts_through_mosquitto(db, broker):
    """A Pro 4PM on a multi-level prefix and a Tasmota 4CH on a reordered FullTopic, published
    on the real broker: the bridge subscribes to their layouts (also when paired while it runs)
    and an unpaired device on such a layout is counted, not unseen."""
    world = await build_world()
    tag = uuid.uuid4().hex[:6]
    parent = world.family_a1.parent
    pro = (await _pair(db, parent, Vendor.SHELLY_GEN2, f"shellypro4pm-{tag}", channels=[0, 3],
                       template=f"pvpp-test-{tag}/garage/pro4pm")).plugs
    bridge, stop, task = await _start_bridge(_bridge_settings(db, *broker))
    device = MqttClient(*broker, f"test-device-{tag}", clean_start=True)
    await device.connect()
    try:
        # paired while the bridge runs: its layout is subscribed within a refresh
        ch4 = (await _pair(db, parent, Vendor.TASMOTA, f"ch4-{tag}", channels=[1],
                           template=f"pvpp-test-{tag}/%topic%/%prefix%/")).plugs

        async def subscribed() -> bool:
            return f"pvpp-test-{tag}/+/tele/+" in bridge.subscribed
        await _until(subscribed)
        await asyncio.sleep(0.3)
        status = json.loads((FIX / "shelly_pro4pm_status_switch2.json").read_text())
        for n in range(4):
            await device.publish(f"pvpp-test-{tag}/garage/pro4pm/status/switch:{n}",
                                 json.dumps({**status, "id": n}).encode(), qos=1)
        sensor = json.loads((FIX / "tasmota_sensor_setoption129.json").read_text())
        sensor["Time"] = datetime.now(UTC).replace(microsecond=0).isoformat()
        await device.publish(f"pvpp-test-{tag}/ch4-{tag}/tele/SENSOR", json.dumps(sensor).encode(), qos=1)
        last = await device.publish(f"pvpp-test-{tag}/stranger-{tag}/tele/SENSOR", json.dumps(sensor).encode(), qos=1)
        await last

        async def all_in() -> bool:
            counts = [await _stored(p.id) for p in (*pro, *ch4)]
            rejects = await _rejects()
            return counts == [1, 1, 1] and rejects.get(("shelly_gen2", "unsupported_channel")) == 2 \
                and rejects.get(("tasmota", "unknown_device"), 0) >= 3
        await _until(all_in)
    finally:
        await device.disconnect()
        stop.set()
        await task
    assert await _stored(pro[1].id) == 1  # switch:3
