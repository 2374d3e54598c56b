"""The ingestion pipeline shared by the MQTT bridge: parse, validate, batch, store, ack.

Messages are parsed as they arrive and buffered; a flush writes the batch's new readings,
reject counts and availability changes in one transaction, and only then acknowledges the
QoS 1 messages it holds. If the database is down nothing is acknowledged, so the broker
keeps (and later redelivers) every message: nothing is lost, and a redelivered reading is
recognised by its plug and timestamp and counted as a duplicate instead of stored twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from tortoise.transactions import in_transaction

from backend.plugs import commands, store, topics
from backend.plugs.clock import DeviceClocks, Placement
from backend.plugs.models import Plug
from backend.plugs.topics import TopicMap
from backend.plugs.readings import (
    Availability,
    Ignored,
    Reading,
    Rejected,
    RejectReason,
    Several,
    SwitchState,
    Vendor,
)
from backend.plugs.vendors import parse_mqtt

log = structlog.get_logger("pvpp.plugs.ingest")
METRICS = CollectorRegistry(auto_describe=True)
MESSAGES = PromCounter("pvpp_plug_messages_total", "Plug messages received by the bridge.", registry=METRICS)
STORED = PromCounter("pvpp_plug_readings_stored_total", "Plug readings stored.", registry=METRICS)
REJECTS = PromCounter("pvpp_plug_rejects_total", "Plug messages or readings rejected, by reason.",
                      ["vendor", "reason"], registry=METRICS)
FLUSH_ERRORS = PromCounter("pvpp_plug_flush_errors_total", "Failed batch writes (retried).", registry=METRICS)

Ack = Callable[[], None]
RECENT_PER_DEVICE = 32  # values of a device's latest receipt-timed readings kept for idempotency
RESEND_WINDOW = timedelta(seconds=5)  # a device re-sending an unacknowledged message does so sooner
REDELIVERY_LOOKBACK = timedelta(minutes=15)
EXPORT_NOISE_W = 1.0  # a plug reading a little below 0 W is idle, not feeding in
_DIRECTORY_COLUMNS = ("id", "vendor", "device_id", "channel", "unpaired_at", "changed_at", "online", "relay_on",
                      "clock_offset_min", "clock_off", "meter", "topic_template")


class DeviceDirectory:
    """Maps (vendor, device id, channel) to the active pairing's plug id, from the ``plug``
    table; each channel of a multi-channel device the household paired is a plug of its own.

    Refreshed incrementally by ``changed_at``; a miss is checked against the database at
    most every ``miss_ttl`` seconds per device, so a plug paired a moment ago is found."""

    def __init__(self, miss_ttl: float = 5.0) -> None:
        self.active: dict[tuple[str, str, int], int] = {}
        self.unpaired: set[tuple[str, str, int]] = set()
        #: (vendor, device id) -> {channel: plug id} of the device's active pairings
        self.devices: dict[tuple[str, str], dict[int, int]] = {}
        #: plugs paired with their own topic layout: plug id -> template, and the topic map
        self.templates: dict[int, str | None] = {}
        self.topics = TopicMap()
        #: Tasmota device id -> its LWT words (from its discovery config) -> Online / Offline
        self.lwt: dict[str, dict[bytes, bytes]] = {}
        self._since: datetime | None = None
        self._misses: dict[tuple[str, str], float] = {}
        self.miss_ttl = miss_ttl
        #: (plug id, "online" | "relay") -> the state last written, so repeats cost nothing
        self.state: dict[tuple[int, str], bool] = {}
        #: plugs with a switch command waiting for the device's confirmation
        self.awaiting: set[int] = set()

    async def refresh(self) -> None:
        query = Plug.all().order_by("changed_at")
        if self._since is not None:
            query = query.filter(changed_at__gte=self._since)
        rows = await query.values(*_DIRECTORY_COLUMNS)
        for row in rows:
            self._apply(row)
            self._since = row["changed_at"]
        self.awaiting = await commands.awaiting_plugs()

    def _apply(self, row: dict) -> None:
        for kind, column in (("online", "online"), ("relay", "relay_on")):
            if row.get(column) is None:
                self.state.pop((row["id"], kind), None)
            else:
                self.state[(row["id"], kind)] = row[column]
        if "clock_off" in row:
            self.state[(row["id"], "clock")] = (row["clock_offset_min"], row["clock_off"])
        if row.get("meter"):
            self.state[(row["id"], "meter")] = True
        device = (str(row["vendor"]), row["device_id"])
        channel = row.get("channel") or 0
        key = (*device, channel)
        if row["unpaired_at"] is None:
            self.active[key] = row["id"]
            self.devices.setdefault(device, {})[channel] = row["id"]
            self.unpaired.discard(key)
            template = row.get("topic_template")
            if template is not None or row["id"] in self.templates:
                self.templates[row["id"]] = template
                self.topics.add(Vendor(device[0]), device[1], template)
        elif self.active.get(key) in (None, row["id"]):
            self.active.pop(key, None)
            channels = self.devices.get(device)
            if channels is not None:
                channels.pop(channel, None)
                if not channels:
                    del self.devices[device]
            self.unpaired.add(key)

    def lookup(self, vendor: str, device_id: str, channel: int = 0) -> int | RejectReason:
        """The plug of one channel; a channel of a paired device that the household did not
        pair is ``unsupported_channel``."""
        key = (vendor, device_id, channel)
        plug_id = self.active.get(key)
        if plug_id is not None:
            return plug_id
        if (vendor, device_id) in self.devices:
            return RejectReason.UNSUPPORTED_CHANNEL
        return RejectReason.UNPAIRED if key in self.unpaired else RejectReason.UNKNOWN_DEVICE

    def resolve(self, parsed) -> list[int] | RejectReason:
        """The plugs a record is for: one channel's, or every channel's (availability)."""
        if isinstance(parsed, Availability):
            channels = self.devices.get((parsed.vendor.value, parsed.device_id))
            if channels:
                return list(channels.values())
            return self.lookup(parsed.vendor.value, parsed.device_id)
        found = self.lookup(parsed.vendor.value, parsed.device_id, parsed.channel)
        return [found] if isinstance(found, int) else found

    def template_filters(self) -> list[str]:
        """Subscriptions for the topic layouts the paired plugs were given."""
        vendors = {}
        for (vendor, device_id), channels in self.devices.items():
            for plug_id in channels.values():
                template = self.templates.get(plug_id)
                if template is not None:
                    vendors[(Vendor(vendor), template)] = True
        return topics.filters(vendors)

    def lwt_payload(self, topic: str, payload: bytes) -> bytes:
        """A Tasmota LWT in the words its discovery config announced, as Online / Offline
        (the default words always win, so an announced word cannot turn them around)."""
        words = self.lwt.get(topic[5:-4]) if topic.startswith("tele/") else None
        if words is None or payload in (b"Online", b"Offline"):
            return payload
        return words.get(payload, payload)

    def any_plug(self, vendor: str, device_id: str) -> int | None:
        channels = self.devices.get((vendor, device_id))
        return None if not channels else next(iter(channels.values()))

    async def resolve_or_load(self, parsed) -> list[int] | RejectReason:
        found = self.resolve(parsed)
        if not isinstance(found, RejectReason) or found is RejectReason.UNSUPPORTED_CHANNEL:
            return found
        vendor, device_id = parsed.vendor.value, parsed.device_id
        key, now = (vendor, device_id), time.monotonic()
        if now - self._misses.get(key, -1e9) < self.miss_ttl:
            return found
        self._misses[key] = now
        for row in await Plug.filter(vendor=vendor, device_id=device_id).order_by("id").values(*_DIRECTORY_COLUMNS):
            self._apply(row)
        return self.resolve(parsed)


@dataclass
class Batch:
    rows: list[store.StoredRow] = field(default_factory=list)
    rejects: Counter = field(default_factory=Counter)
    availability: dict[int, tuple[bool, datetime]] = field(default_factory=dict)
    relays: dict[int, tuple[bool, datetime]] = field(default_factory=dict)
    clocks: dict[int, tuple[int | None, bool | None, datetime]] = field(default_factory=dict)
    exports: dict[int, tuple[bool, float | None, datetime]] = field(default_factory=dict)
    meters: set[int] = field(default_factory=set)  # plugs that sent whole-home meter readings
    #: (row index, plug id, counter, received at) of redelivered readings to check against storage
    dup_checks: list[tuple[int, int, float | None, float | None, datetime]] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    pending_lookups: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows) + sum(self.rejects.values()) + len(self.acks)


@dataclass(frozen=True)
class FlushResult:
    stored: int
    duplicates: int
    rejects: dict[tuple[str, str], int]


def _vendor_of_topic(topic: str) -> str:
    """A best guess of the vendor for counting rejects of unparseable messages."""
    head = topic.split("/", 1)[0]
    if head in ("tele", "stat", "cmnd", "tasmota"):
        return Vendor.TASMOTA.value
    if head == "shellies":
        return Vendor.SHELLY_GEN1.value
    return Vendor.SHELLY_GEN2.value if topic.count("/") >= 1 else "unknown"


class Ingestor:
    """Buffers parsed messages and writes them in batches (see the module docstring)."""

    def __init__(self, *, batch_size: int = 5_000, flush_interval: float = 0.2,
                 directory: DeviceDirectory | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clocks = DeviceClocks(seed=self._stored_offset)
        self.batch_size, self.flush_interval = batch_size, flush_interval
        self.directory = directory or DeviceDirectory()
        self.clock = clock
        self.batch = Batch()
        self.totals: Counter = Counter()
        self._lock = asyncio.Lock()
        self._full = asyncio.Event()
        self._last_stamp = datetime.min.replace(tzinfo=UTC)
        self._recent: dict[tuple, deque] = {}

    # -- intake -----------------------------------------------------------------------------
    def submit(self, topic: str, payload: bytes, ack: Ack | None = None, received_at: datetime | None = None,
               dup: bool = False) -> None:
        """Take one MQTT message; never raises for bad input (it is counted instead).

        ``dup`` is the MQTT DUP flag: the broker is sending it again (see :meth:`_redelivered`)."""
        MESSAGES.inc()
        self.totals["messages"] += 1
        if received_at is None:
            # strictly increasing receive stamps: two messages of one device without a clock
            # (Shelly Gen1 power and energy) never share a timestamp and look like duplicates
            received_at = self.clock()
            if received_at <= self._last_stamp:
                received_at = self._last_stamp + timedelta(microseconds=1)
            self._last_stamp = received_at
        batch = self.batch
        directory = self.directory
        if directory.topics:  # plugs paired with their own topic layout
            topic = directory.topics.canonical(topic)
        try:
            if topic.startswith("tasmota/"):
                self._discovery(topic, payload)
                parsed = Ignored(topic)
            else:
                if directory.lwt and topic.endswith("/LWT"):
                    payload = directory.lwt_payload(topic, payload)
                parsed = parse_mqtt(topic, payload, received_at)
        except Rejected as exc:
            batch.rejects[(_vendor_of_topic(topic), exc.reason.value)] += 1
        except Exception as exc:  # a parser bug must not take the bridge down  # noqa: BLE001
            log.error("parser_failed", topic=topic[:200], error=repr(exc))
            batch.rejects[(_vendor_of_topic(topic), RejectReason.MALFORMED.value)] += 1
        else:
            if type(parsed) is Several:
                placed = None  # one device clock per message, placed once for all its channels
                for item in parsed.items:
                    if type(item) is Reading and item.clock is not None and placed is None:
                        placed = self.clocks.place((item.vendor, item.device_id), item.clock, received_at)
                    self._accept(batch, item, received_at, dup, placed)
            elif not isinstance(parsed, Ignored):
                placed = None
                if type(parsed) is Reading and parsed.clock is not None:
                    placed = self.clocks.place((parsed.vendor, parsed.device_id), parsed.clock, received_at)
                self._accept(batch, parsed, received_at, dup, placed)
        if ack is not None:
            batch.acks.append(ack)
        if len(batch.rows) + len(batch.acks) >= self.batch_size:
            self._full.set()

    def _discovery(self, topic: str, payload: bytes) -> None:
        """A Tasmota's retained discovery config: learn its LWT words and count a layout that
        differs from the one chosen at pairing (its readings would not arrive)."""
        found = topics.parse_discovery(topic, payload)
        values = topics.discovered_values(found)
        directory = self.directory
        for candidate in dict.fromkeys((found.topic, found.hostname, found.mac)):
            channels = directory.devices.get((Vendor.TASMOTA.value, candidate))
            template = directory.templates.get(next(iter(channels.values()))) if channels else None
            if channels and values[topics.key_token(template)] == candidate:
                break  # paired under the value of its layout's key token (Topic, hostname or MAC)
        else:
            return  # someone's other Tasmota device: not ours to read
        device = candidate
        directory.lwt[device] = {found.online.encode(): b"Online", found.offline.encode(): b"Offline"}
        if topics.concrete(found.full_topic, values) != topics.concrete(template, values):
            raise Rejected(RejectReason.TOPIC_MISMATCH, f"{device} announces FullTopic {found.full_topic}")
        directory.topics.learned[device] = {k: v for k, v in values.items() if v}

    def _accept(self, batch: Batch, parsed, received_at: datetime, dup: bool, placed: Placement | None) -> None:
        check: bool | None = False
        if type(parsed) is Reading:
            # every reading: a copy may be timed differently from its original
            # (receipt-timed before the device's zone offset was learned, device-timed after)
            check = self._redelivered(parsed, received_at, dup, placed is not None and placed.device_time)
        if check is None:
            batch.rejects[(parsed.vendor.value, RejectReason.DUPLICATE.value)] += 1
            return
        found = self.directory.resolve(parsed)
        if isinstance(found, list):
            for plug_id in found:
                self._take(batch, plug_id, parsed, received_at, placed, check)
        else:
            batch.pending_lookups.append((parsed, received_at, placed, check))

    def _stored_offset(self, key: tuple) -> int | None:
        """The zone offset learned before (by any bridge, kept on the plug row), in minutes."""
        plug_id = self.directory.any_plug(key[0].value, key[1])
        if plug_id is None:
            return None
        known = self.directory.state.get((plug_id, "clock"))
        return None if known is None else known[0]

    def _redelivered(self, reading: Reading, received_at: datetime, dup: bool,
                     device_timed: bool = False) -> bool | None:
        """Idempotency by value, for readings timed by receipt (no trusted device time, so the
        primary key cannot catch a second copy) and for copies timed differently. None: a copy
        of one already taken — the broker re-sending it (DUP) with the same values as one of the
        device's recent readings, or, for a receipt-timed reading, the device re-sending it
        (same counter and values within ``RESEND_WINDOW``; the broker forwards a device's own
        retry as a new message). A device-timed reading is never judged by that window: its
        re-send carries the same device time and the primary key catches it, while a device
        whose clock runs fast (a simulation) may report an idle counter many times a second.
        True: a DUP beyond that memory (e.g. after a restart), checked at the flush against this
        batch and the stored readings in one query. Normal traffic has no DUPs, so the hot path
        never queries."""
        key = (reading.vendor, reading.device_id, reading.channel)
        signature = (reading.counter_wh, reading.power_w, reading.returned_wh)
        recent = self._recent.get(key)
        if recent is None:
            recent = self._recent[key] = deque(maxlen=RECENT_PER_DEVICE)
        else:
            if dup:
                if signature in (sig for sig, _ in recent):
                    return None
            elif reading.counter_wh is not None and not device_timed:  # a steady power alone may repeat
                for sig, at in reversed(recent):  # newest first: usually one look
                    if received_at - at > RESEND_WINDOW:
                        break
                    if sig == signature:
                        return None
        recent.append((signature, received_at))
        return dup

    @staticmethod
    def _take(batch: Batch, plug_id: int, parsed, received_at: datetime, placed: Placement | None = None,
              check: bool = False) -> None:
        if isinstance(parsed, Reading):
            if check:
                batch.dup_checks.append((len(batch.rows), plug_id, parsed.counter_wh, parsed.power_w, received_at))
            ts, power_w = parsed.ts, parsed.power_w
            if placed is not None:
                ts = placed.ts
                batch.clocks[plug_id] = (placed.offset_min, placed.off, received_at)
            if parsed.meter:
                batch.meters.add(plug_id)
            if parsed.returned_wh is not None or (power_w is not None and power_w < 0):
                # feeding in: the reading keeps consumption only (0 W), the export goes on the plug
                exporting = power_w is not None and power_w < -EXPORT_NOISE_W
                if power_w is None and plug_id in batch.exports:  # a returned counter alone (Shelly EM)
                    exporting = batch.exports[plug_id][0]
                batch.exports[plug_id] = (exporting, parsed.returned_wh, received_at)
                if power_w is not None and power_w < 0:
                    power_w = 0.0
            if power_w is None and parsed.counter_wh is None:
                return  # only the returned-energy counter: kept on the plug, not a sample
            batch.rows.append(store.StoredRow(plug_id, ts, power_w, parsed.counter_wh, received_at))
            if parsed.relay_on is not None:
                batch.relays[plug_id] = (parsed.relay_on, received_at)
        elif isinstance(parsed, Availability):
            batch.availability[plug_id] = (parsed.online, received_at)
        elif isinstance(parsed, SwitchState):
            batch.relays[plug_id] = (parsed.on, received_at)

    # -- writing ----------------------------------------------------------------------------
    async def flush(self) -> FlushResult | None:
        """Write and acknowledge the current batch. On a database error the batch is kept
        (unacknowledged) and the error re-raised; the caller retries."""
        async with self._lock:
            batch, self.batch = self.batch, Batch()
            self._full.clear()
            try:
                result = await self._write(batch)
            except BaseException:
                self._restore(batch)
                raise
        for ack in batch.acks:
            ack()
        STORED.inc(result.stored)
        for (vendor, reason), n in result.rejects.items():
            REJECTS.labels(vendor, reason).inc(n)
        self.totals["stored"] += result.stored
        self.totals["duplicates"] += result.duplicates
        self.totals["rejected"] += sum(result.rejects.values())
        return result

    def _restore(self, batch: Batch) -> None:
        """Put a failed batch back in front of what arrived since."""
        newer, self.batch = self.batch, batch
        batch.rows += newer.rows
        batch.rejects += newer.rejects
        batch.availability.update(newer.availability)
        batch.relays.update(newer.relays)
        batch.clocks.update(newer.clocks)
        batch.exports.update(newer.exports)
        batch.meters |= newer.meters
        offset = len(batch.rows) - len(newer.rows)
        batch.dup_checks += [(i + offset, *rest) for i, *rest in newer.dup_checks]
        batch.acks += newer.acks
        batch.pending_lookups += newer.pending_lookups

    async def _write(self, batch: Batch) -> FlushResult:
        for parsed, received_at, placed, check in batch.pending_lookups:
            found = await self.directory.resolve_or_load(parsed)
            if isinstance(found, list):
                for plug_id in found:
                    self._take(batch, plug_id, parsed, received_at, placed, check)
            else:
                batch.rejects[(parsed.vendor.value, found.value)] += 1
        batch.pending_lookups = []
        rejects = Counter(batch.rejects)
        async with in_transaction() as conn:
            rows = batch.rows
            if batch.dup_checks:
                copies = await store.already_stored(conn, batch.dup_checks, REDELIVERY_LOOKBACK)
                copies |= _copies_in_batch(rows, batch.dup_checks)
                rows = [row for i, row in enumerate(rows) if i not in copies]
            stored = await self._insert(conn, rows)
            duplicates = len(batch.rows) - stored
            if duplicates:  # the database reports how many, not which: counted under vendor "*"
                rejects[("*", RejectReason.DUPLICATE.value)] += duplicates
            await store.add_reject_counts(conn, self.clock().date(), dict(rejects))
            # relay and online state repeat in every telemetry message: write only changes
            known = self.directory.state
            pg = store.is_postgres(conn)
            awaited = {p: report for p, report in batch.relays.items() if p in self.directory.awaiting}
            if awaited:
                await commands.confirm(conn, awaited)
            for column, changes in (("online", batch.availability), ("relay_on", batch.relays)):
                kind = "online" if column == "online" else "relay"
                rows = [[value, at, at, plug_id] for plug_id, (value, at) in changes.items()
                        if known.get((plug_id, kind)) != value]
                if rows:
                    marks = ("$1", "$2", "$3", "$4") if pg else ("?", "?", "?", "?")
                    changed = "online_changed_at" if column == "online" else "relay_changed_at"
                    # changed_at too, so other bridges (shared subscription) refresh their cache of it
                    await conn.execute_many(
                        f"UPDATE plug SET {column} = {marks[0]}, {changed} = {marks[1]}, changed_at = {marks[2]} "
                        f"WHERE id = {marks[3]}", rows)
            clock_rows = [[offset, off, at, at, plug_id] for plug_id, (offset, off, at) in batch.clocks.items()
                          if known.get((plug_id, "clock")) != (offset, off)]
            if clock_rows:
                m = ("$1", "$2", "$3", "$4", "$5") if pg else ("?",) * 5
                await conn.execute_many(
                    f"UPDATE plug SET clock_offset_min = {m[0]}, clock_off = {m[1]}, clock_changed_at = {m[2]}, "
                    f"changed_at = {m[3]} WHERE id = {m[4]}", clock_rows)
            now = self.clock()
            meter_rows = [[True, now, plug_id] for plug_id in batch.meters if not known.get((plug_id, "meter"))]
            if meter_rows:  # a channel that sends whole-home meter readings is a meter from now on
                m = ("$1", "$2", "$3") if pg else ("?",) * 3
                await conn.execute_many(f"UPDATE plug SET meter = {m[0]}, changed_at = {m[1]} WHERE id = {m[2]}",
                                        meter_rows)
            export_rows = [[exporting, returned, exporting, at, plug_id]
                           for plug_id, (exporting, returned, at) in batch.exports.items()
                           if known.get((plug_id, "export")) != (exporting, returned)]
            if export_rows:
                m = ("$1", "$2", "$3", "$4", "$5") if pg else ("?",) * 5
                await conn.execute_many(
                    f"UPDATE plug SET exporting = {m[0]}, returned_wh = COALESCE({m[1]}, returned_wh), "
                    f"feeds_in = (feeds_in OR {m[2]}), changed_at = {m[3]} WHERE id = {m[4]}", export_rows)
        for plug_id, (online, _) in batch.availability.items():
            known[(plug_id, "online")] = online
        for plug_id, (on, _) in batch.relays.items():
            known[(plug_id, "relay")] = on
        for plug_id, (offset, off, _) in batch.clocks.items():
            known[(plug_id, "clock")] = (offset, off)
        for plug_id, (exporting, returned, _) in batch.exports.items():
            known[(plug_id, "export")] = (exporting, returned)
        for plug_id in batch.meters:
            known[(plug_id, "meter")] = True
        return FlushResult(stored, duplicates, dict(rejects))

    async def _insert(self, conn, rows: list[store.StoredRow]) -> int:
        try:
            return await store.insert_readings(conn, rows)
        except Exception as exc:
            if "no partition" not in str(exc):
                raise
        # a reading for a day without a partition yet (e.g. the clock passed midnight)
        raise MissingPartition

    async def run(self, stop: asyncio.Event) -> None:
        """Flush every ``flush_interval`` or when a batch fills, until ``stop`` is set;
        retries failed writes with backoff and keeps the directory fresh."""
        delay, last_refresh = 0.5, 0.0
        while not stop.is_set():
            try:
                await asyncio.wait_for(self._full.wait(), self.flush_interval)
            except TimeoutError:
                pass
            try:
                if time.monotonic() - last_refresh > 2.0:
                    await self.directory.refresh()
                    last_refresh = time.monotonic()
                if len(self.batch):
                    await self.flush()
                delay = 0.5
            except MissingPartition:
                await self._ensure_partitions()
            except Exception as exc:  # noqa: BLE001
                FLUSH_ERRORS.inc()
                log.warning("flush_failed", error=repr(exc)[:300], retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        if len(self.batch):
            await self.flush()

    async def _ensure_partitions(self) -> None:
        async with in_transaction() as conn:
            await store.ensure_partitions(conn, self.clock().date())


def _copies_in_batch(rows: list[store.StoredRow], checks: list[tuple]) -> set[int]:
    """Re-sent readings whose original (same plug, counter or power) is earlier in the batch."""
    checked = {c[0] for c in checks}
    first: set[tuple] = set()
    copies: set[int] = set()
    for i, row in enumerate(rows):
        key = (row.plug_id, "c", row.counter_wh) if row.counter_wh is not None else (row.plug_id, "p", row.power_w)
        if i in checked and key in first:
            copies.add(i)
        first.add(key)
    return copies


class MissingPartition(Exception):
    """A reading's day has no partition yet; the caller creates it and retries."""
