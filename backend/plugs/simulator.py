"""``pvpp simulate-plugs``: a fleet of simulated Tasmota and Shelly plugs on a real broker.

The load shapes, anomalies (resets, offline spells, duplicates) and relay state come from
:mod:`backend.plugs.fleet_model`; this module renders them as each vendor's MQTT messages,
publishes them at QoS 1 and obeys switch commands, confirming them like the real device.
With ``--register`` it also pairs the fleet's plugs to households so the bridge takes them.
``--transport http`` pushes HTTP plugs' readings to the API instead
(:mod:`backend.plugs.http_simulator`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from backend.plugs.fleet_model import (
    DEFAULT_VENDOR_MIX,
    Emission,
    EmissionKind,
    FleetModel,
)
from backend.plugs.models import Plug
from backend.plugs.mqtt import MqttClient, MqttError
from backend.plugs.readings import Vendor
from backend.plugs.vendors import (
    COMMAND_SUBSCRIPTIONS,
    parse_command,
    render_availability,
    render_reading,
    render_switch_state,
)

KIND_NAMES = {"tv": "TV", "pc": "PC", "console": "Game console", "washing_machine": "Washing machine",
              "fridge": "Fridge", "standby": "Standby devices"}


def messages_of(emission: Emission, tz: ZoneInfo) -> list[tuple[str, bytes]]:
    """The MQTT messages a real device would publish for one model emission.

    The simulated Tasmota plugs are set up as docs/plugs.md asks (NTP, ``SetOption52 1``): their
    ``Time`` carries its UTC offset, so the bridge may trust it like any synced device clock,
    also when the simulation runs faster than real time."""
    plug = emission.plug
    if emission.kind is EmissionKind.AVAILABILITY:
        return [render_availability(plug.vendor, plug.device_id, emission.online)]
    ts = datetime.fromtimestamp(emission.ts, UTC)
    return render_reading(plug.vendor, plug.device_id, ts, emission.power_w, emission.counter_wh, tz,
                          relay_on=emission.relay_on, zone_in_time=True, channel=plug.channel)


def strip_messages(fleet: FleetModel, group: list[Emission], tz: ZoneInfo) -> list[tuple[str, bytes]]:
    """One report of a Tasmota multi-outlet device (``SetOption129 1``): STATE with each
    outlet's ``POWER<n>``, SENSOR with ``Total`` and ``Power`` as lists by channel. Outlets the
    model did not report at this instant are given at their present state."""
    first = group[0]
    device = first.plug.device_id
    given = {e.plug.channel: e for e in group}
    outlets = []
    for channel in range(fleet.strip_sizes[device]):
        plug = fleet.plug(device, channel)
        e = given.get(channel)
        outlets.append((e.power_w, e.counter_wh, e.relay_on) if e is not None
                       else (FleetModel._power(plug), plug.counter_wh, plug.relay_on))
    local = datetime.fromtimestamp(first.ts, UTC).astimezone(tz).isoformat(timespec="seconds")
    state = {"Time": local, "UptimeSec": 3600, "MqttCount": 1,
             **{f"POWER{n + 1}": "ON" if on else "OFF" for n, (_, _, on) in enumerate(outlets)}}
    energy = {"TotalStartTime": "2024-01-01T00:00:00", "Total": [round(c / 1000.0, 3) for _, c, _ in outlets],
              "Power": [round(w) for w, _, _ in outlets], "Voltage": 230}
    return [(f"tele/{device}/STATE", json.dumps(state, separators=(",", ":")).encode()),
            (f"tele/{device}/SENSOR", json.dumps({"Time": local, "ENERGY": energy}, separators=(",", ":")).encode())]


def fleet_messages(fleet: FleetModel, emissions: list[Emission], tz: ZoneInfo):
    """(emission, its messages) in order; the outlets of a Tasmota strip reporting at one
    instant are one pair, as the device sends them, after the rest of the step."""
    strips: dict[tuple, list[Emission]] = {}
    for emission in emissions:
        plug = emission.plug
        if plug.vendor is Vendor.TASMOTA and plug.device_id in fleet.strip_sizes \
                and emission.kind is not EmissionKind.AVAILABILITY:
            strips.setdefault((plug.device_id, emission.ts, emission.kind), []).append(emission)
        else:
            yield emission, messages_of(emission, tz)
    for group in strips.values():
        yield group[0], strip_messages(fleet, group, tz)


async def register_fleet(fleet: FleetModel, household_ids: Sequence[int], paired_at: datetime | None = None) -> int:
    """Pair every simulated MQTT plug to a household (simulated household i →
    ``household_ids[i % n]``), skipping devices already paired; returns how many were paired
    now. ``paired_at`` backdates the pairing (a backfilled history). HTTP plugs need a token:
    :func:`backend.plugs.http_simulator.pair_http_plugs`."""
    existing = set(await Plug.filter(unpaired_at=None).values_list("vendor", "device_id", "channel"))
    when = {"paired_at": paired_at} if paired_at is not None else {}
    new = [Plug(household_id=household_ids[p.household % len(household_ids)], vendor=p.vendor,
                device_id=p.device_id, channel=p.channel, name=KIND_NAMES.get(str(p.kind), str(p.kind)), **when)
           for p in fleet.plugs if p.vendor is not Vendor.HTTP and (p.vendor, p.device_id, p.channel) not in existing
           and (str(p.vendor), p.device_id, p.channel) not in existing]
    await Plug.bulk_create(new, batch_size=1_000)
    return len(new)


@dataclass
class SimStats:
    readings: int = 0
    messages: int = 0
    commands: int = 0


class Simulator:
    """Publishes a fleet model in real time (or ``speed`` times faster) until stopped.

    One connection for the whole fleet on an open broker; with ``accounts`` ((vendor, device id)
    -> user and password) each device connects with its own account, as real devices do on a
    broker that enforces the platform's ACL."""

    def __init__(self, fleet: FleetModel, host: str, port: int, *, tz: str = "Asia/Seoul",
                 client_id: str = "pvpp-simulator", tick_s: float = 0.05, version: int = 5,
                 accounts: dict[tuple[Vendor, str], tuple[str, str]] | None = None) -> None:
        self.fleet, self.tz, self.tick_s = fleet, ZoneInfo(tz), tick_s

        def client(name: str, login: tuple[str, str] | None = None) -> MqttClient:
            made = MqttClient(host, port, name, version=version, clean_start=True,
                              username=login[0] if login else None, password=login[1] if login else None)
            made.on_message = lambda *message: self._on_command(made, *message)
            return made

        self.clients: dict[tuple[Vendor, str] | None, MqttClient] = (
            {key: client(f"{client_id}-{login[0]}", login) for key, login in accounts.items()} if accounts
            else {None: client(client_id)})
        self.stats = SimStats()
        self._confirmations: list[tuple[MqttClient, str, bytes]] = []

    def _client_of(self, vendor: Vendor, device_id: str) -> MqttClient | None:
        return self.clients.get((vendor, device_id)) or self.clients.get(None)

    def _on_command(self, client: MqttClient, topic: str, payload: bytes, qos: int, packet_id: int | None,
                    dup: bool) -> None:
        if packet_id is not None:
            client.ack(packet_id)
        command = parse_command(topic, payload)
        if command is None:
            return
        vendor, device_id, on, channel = command
        plug = self.fleet.plug(device_id, channel)
        if plug is None or plug.vendor is not vendor or not self.fleet.set_relay(device_id, on, channel):
            return
        self.stats.commands += 1
        self._confirmations.append((client, *render_switch_state(vendor, device_id, on, channel=channel)))

    async def run(self, stop: asyncio.Event, clock: Callable[[], float] = time.time,
                  on_tick: Callable[[SimStats], None] | None = None) -> SimStats:
        clients = list(self.clients.values())
        while not stop.is_set():
            try:
                for client in clients:
                    if not client.connected:
                        await client.connect()
                        await client.subscribe(list(COMMAND_SUBSCRIPTIONS), qos=1)
            except (MqttError, OSError, TimeoutError):
                await _sleep_or_stop(stop, 1.0)
                continue
            closed = [asyncio.ensure_future(client.wait_closed()) for client in clients]
            try:
                await self._publish_loop(stop, closed, clock, on_tick)
            except MqttError:
                pass
            finally:
                for each in closed:
                    each.cancel()
        for client in clients:
            with contextlib.suppress(MqttError, OSError):
                await client.disconnect()
        return self.stats

    async def _publish_loop(self, stop, closed, clock, on_tick) -> None:
        stats, tz = self.stats, self.tz
        while not stop.is_set() and not any(each.done() for each in closed):
            started = time.monotonic()
            for client, topic, payload in self._confirmations:
                await client.publish(topic, payload, qos=1)
            self._confirmations.clear()
            emissions = self.fleet.advance(clock())
            stats.readings += sum(1 for e in emissions if e.kind is not EmissionKind.AVAILABILITY)
            for emission, messages in fleet_messages(self.fleet, emissions, tz):
                client = self._client_of(emission.plug.vendor, emission.plug.device_id)
                if client is None:  # a device that is paired nowhere has no account: it stays silent
                    continue
                for topic, payload in messages:
                    await client.publish(topic, payload, qos=1)
                    stats.messages += 1
                if stop.is_set():  # a simulator that fell behind stops now, not after its backlog
                    break
            if on_tick is not None:
                on_tick(stats)
            await _sleep_or_stop(stop, max(0.0, self.tick_s - (time.monotonic() - started)))


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def simulate_cli_main(settings, households: int, seed: int, register: bool,
                            report_interval_s: float | None, duration_s: float | None,
                            transport: str = "mqtt", api_url: str | None = None, strip_share: float = 0.0) -> int:
    from backend.db import close_db, init_db
    from backend.households.models import Household
    from backend.plugs import http_simulator, sim_accounts

    http = transport == "http"
    if http and not register:
        print("simulate-plugs: --transport http needs --register (an HTTP plug's token comes from its pairing)")
        return 2
    mix = http_simulator.HTTP_VENDOR_MIX if http else DEFAULT_VENDOR_MIX
    fleet = FleetModel(households, seed=seed, report_interval_s=report_interval_s, vendor_mix=mix,
                       strip_share=strip_share)
    tokens: dict[str, str] = {}
    accounts: dict[tuple[Vendor, str], tuple[str, str]] = {}
    if register:
        await init_db(settings)
        try:
            ids = await Household.all().order_by("id").limit(max(households, 1)).values_list("id", flat=True)
            if not ids:
                print("simulate-plugs: no households to pair plugs to (load the demo data first)")
                return 1
            paired = await register_fleet(fleet, list(ids))
            if not http:
                accounts = await sim_accounts.issue_accounts(settings, fleet)
            if http:
                tokens = await http_simulator.pair_http_plugs(settings, fleet, list(ids))
                paired = len(tokens)
            print(f"simulate-plugs: paired {paired} {'HTTP' if http else 'new'} plugs to {len(ids)} households")
        finally:
            await close_db()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if duration_s:
        loop.call_later(duration_s, stop.set)
    last = [time.monotonic(), 0]

    def progress(stats: SimStats | http_simulator.PushStats) -> None:
        now = time.monotonic()
        if now - last[0] >= 10:
            rate = (stats.readings - last[1]) / (now - last[0])
            done = stats.summary() if http else f"{stats.commands} switch commands obeyed"
            print(f"simulate-plugs: {len(fleet.plugs)} plugs, {stats.readings} readings ({rate:.0f}/s), {done}",
                  flush=True)
            last[:] = [now, stats.readings]

    if http:
        url = api_url or http_simulator.default_api_url(settings)
        pusher = http_simulator.HttpSimulator(fleet, url, tokens, tz=settings.display_timezone)
        print(f"simulate-plugs: {households} households, {len(fleet.plugs)} HTTP plugs → {url}", flush=True)
        pushed = await pusher.run(stop, on_tick=progress)
        print(f"simulate-plugs: stopped after {pushed.readings} readings, {pushed.batches} batches: "
              f"{pushed.summary()}, {pusher.unsent} unsent")
        return 0
    host, port = settings.mqtt_address
    simulator = Simulator(fleet, host, port, tz=settings.display_timezone,
                          client_id=f"pvpp-simulator-{seed}", version=settings.mqtt_version, accounts=accounts)
    if accounts:
        print(f"simulate-plugs: {len(accounts)} devices log in with their own broker accounts", flush=True)
    print(f"simulate-plugs: {households} households, {len(fleet.plugs)} plugs → {settings.mqtt_url}", flush=True)
    stats = await simulator.run(stop, on_tick=progress)
    print(f"simulate-plugs: stopped after {stats.readings} readings, {stats.messages} messages")
    return 0
