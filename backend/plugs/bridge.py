"""``pvpp mqtt-bridge``: subscribe to the plug topics and feed the ingestion pipeline.

The bridge keeps a persistent MQTT session (fixed client id, clean start off), so while it
is away — restarted, or the broker restarted — the broker keeps its QoS 1 messages and
redelivers them. Each message is acknowledged only after its batch is committed. Several
bridges share the load through an MQTT shared subscription (``PVPP_MQTT_SHARED_GROUP``),
each with its own ``PVPP_MQTT_CLIENT_ID``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterable
from functools import partial

import structlog

from backend.db import close_db, init_db
from backend.plugs.commands import CommandDispatcher
from backend.plugs.ingest import METRICS, Ingestor
from backend.plugs.mqtt import MqttClient, MqttError
from backend.plugs.topics import DISCOVERY_FILTER
from backend.plugs.vendors import SUBSCRIPTIONS
from backend.settings import Settings

log = structlog.get_logger("pvpp.plugs.bridge")
SESSION_EXPIRY_S = 7 * 86_400


def topic_filters(shared_group: str, extra: Iterable[str] = ()) -> list[str]:
    """The vendor defaults, Tasmota discovery and ``extra`` (the paired plugs' own layouts)."""
    wanted = [*SUBSCRIPTIONS, DISCOVERY_FILTER, *extra]
    if not shared_group:
        return wanted
    return [f"$share/{shared_group}/{f}" for f in wanted]


class Bridge:
    """One bridge: an MQTT connection kept alive and an ingestor flushing batches."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        host, port = settings.mqtt_address
        self.ingestor = Ingestor(batch_size=settings.plug_batch_size)
        self.client = MqttClient(host, port, settings.mqtt_client_id, on_message=self._on_message,
                                 version=settings.mqtt_version, clean_start=False, session_expiry_s=SESSION_EXPIRY_S,
                                 username=settings.mqtt_username or None,
                                 password=settings.mqtt_password.get_secret_value() if settings.mqtt_password else None)
        self.connected = asyncio.Event()
        self.connections = 0
        self.subscribed: set[str] = set()  # template filters subscribed on this connection
        self.dispatcher = CommandDispatcher(confirm_s=settings.plug_command_confirm_seconds,
                                            attempts=settings.plug_command_attempts,
                                            learned=self.ingestor.directory.topics.learned)

    def _on_message(self, topic: str, payload: bytes, qos: int, packet_id: int | None, dup: bool) -> None:
        ack = partial(self.client.ack, packet_id) if packet_id is not None else None
        self.ingestor.submit(topic, payload, ack, dup=dup)

    async def _keep_connected(self, stop: asyncio.Event) -> None:
        delay = 0.2
        while not stop.is_set():
            try:
                ack = await self.client.connect()
                self.subscribed = set(self.ingestor.directory.template_filters())
                await self.client.subscribe(topic_filters(self.settings.mqtt_shared_group, sorted(self.subscribed)),
                                            qos=1)
            except (MqttError, OSError, TimeoutError) as exc:
                log.warning("broker_unreachable", error=str(exc), retry_in_s=delay)
                await _sleep_or_stop(stop, delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.2
            self.connections += 1
            self.connected.set()
            log.info("connected", session_present=ack.session_present, receive_maximum=ack.receive_maximum)
            closed = asyncio.ensure_future(self.client.wait_closed())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({closed, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            self.connected.clear()
            if closed.done():
                log.warning("disconnected", reason=str(closed.result()))
            else:
                closed.cancel()

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then flush, acknowledge and disconnect."""
        await self.ingestor.directory.refresh()
        await self.ingestor._ensure_partitions()
        flusher = asyncio.create_task(self.ingestor.run(stop))
        dispatcher = asyncio.create_task(self._dispatch_commands(stop))
        try:
            await self._keep_connected(stop)
        finally:
            await dispatcher
            await flusher
            await asyncio.sleep(0)  # let the last acknowledgements go out
            await self.client.disconnect()


    async def _subscribe_new_layouts(self) -> None:
        """A plug paired with a topic layout no other plug uses: subscribe to it now."""
        new = set(self.ingestor.directory.template_filters()) - self.subscribed
        if new:
            await self.client.subscribe(topic_filters(self.settings.mqtt_shared_group, sorted(new))[-len(new):],
                                        qos=1)
            self.subscribed |= new

    async def _publish_command(self, topic: str, payload: bytes) -> None:
        await self.client.publish(topic, payload, qos=1)  # the device's state report confirms it

    async def _dispatch_commands(self, stop: asyncio.Event, interval: float = 0.2) -> None:
        """Publish switch commands while connected (see ``backend.plugs.commands``)."""
        while not stop.is_set():
            await _sleep_or_stop(stop, interval)
            if stop.is_set() or not self.connected.is_set():
                continue
            try:
                await self._subscribe_new_layouts()
                self.ingestor.directory.awaiting |= await self.dispatcher.tick(self._publish_command)
            except Exception as exc:  # noqa: BLE001 - the database or broker may be away; retry
                log.warning("command_dispatch_failed", error=repr(exc)[:300])
                await _sleep_or_stop(stop, 1.0)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def serve_bridge(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if settings.bridge_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.bridge_metrics_port, addr="127.0.0.1", registry=METRICS)
    await init_db(settings)
    try:
        bridge = Bridge(settings)
        log.info("bridge_starting", broker=settings.mqtt_url, client_id=settings.mqtt_client_id,
                 shared_group=settings.mqtt_shared_group or None)
        await bridge.run(stop)
        log.info("bridge_stopped", **dict(bridge.ingestor.totals))
    finally:
        await close_db()


def run_bridge_cli(settings: Settings) -> int:
    from backend.operations.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    settings.mqtt_address  # noqa: B018 - fail early with a clear message when unset
    asyncio.run(serve_bridge(settings))
    return 0
