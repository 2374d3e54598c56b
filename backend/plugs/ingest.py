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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from tortoise.transactions import in_transaction

from backend.plugs import commands, store
from backend.plugs.models import Plug
from backend.plugs.readings import (
    Availability,
    Ignored,
    Reading,
    Rejected,
    RejectReason,
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


class DeviceDirectory:
    """Maps (vendor, device id) to the active pairing's plug id, from the ``plug`` table.

    Refreshed incrementally by ``changed_at``; a miss is checked against the database at
    most every ``miss_ttl`` seconds per device, so a plug paired a moment ago is found."""

    def __init__(self, miss_ttl: float = 5.0) -> None:
        self.active: dict[tuple[str, str], int] = {}
        self.unpaired: set[tuple[str, str]] = set()
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
        rows = await query.values("id", "vendor", "device_id", "unpaired_at", "changed_at", "online", "relay_on")
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
        key = (str(row["vendor"]), row["device_id"])
        if row["unpaired_at"] is None:
            self.active[key] = row["id"]
            self.unpaired.discard(key)
        elif self.active.get(key) in (None, row["id"]):
            self.active.pop(key, None)
            self.unpaired.add(key)

    def lookup(self, vendor: str, device_id: str) -> int | RejectReason:
        key = (vendor, device_id)
        plug_id = self.active.get(key)
        if plug_id is not None:
            return plug_id
        return RejectReason.UNPAIRED if key in self.unpaired else RejectReason.UNKNOWN_DEVICE

    async def lookup_or_load(self, vendor: str, device_id: str) -> int | RejectReason:
        found = self.lookup(vendor, device_id)
        if isinstance(found, int):
            return found
        key, now = (vendor, device_id), time.monotonic()
        if now - self._misses.get(key, -1e9) < self.miss_ttl:
            return found
        self._misses[key] = now
        for row in await Plug.filter(vendor=vendor, device_id=device_id).order_by("id").values(
                "id", "vendor", "device_id", "unpaired_at", "changed_at", "online", "relay_on"):
            self._apply(row)
        return self.lookup(vendor, device_id)


@dataclass
class Batch:
    rows: list[store.StoredRow] = field(default_factory=list)
    rejects: Counter = field(default_factory=Counter)
    availability: dict[int, tuple[bool, datetime]] = field(default_factory=dict)
    relays: dict[int, tuple[bool, datetime]] = field(default_factory=dict)
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
    if head in ("tele", "stat", "cmnd"):
        return Vendor.TASMOTA.value
    if head == "shellies":
        return Vendor.SHELLY_GEN1.value
    return Vendor.SHELLY_GEN2.value if topic.count("/") >= 1 else "unknown"


class Ingestor:
    """Buffers parsed messages and writes them in batches (see the module docstring)."""

    def __init__(self, *, tz: str = "Asia/Seoul", batch_size: int = 5_000, flush_interval: float = 0.2,
                 directory: DeviceDirectory | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.tz = ZoneInfo(tz)
        self.batch_size, self.flush_interval = batch_size, flush_interval
        self.directory = directory or DeviceDirectory()
        self.clock = clock
        self.batch = Batch()
        self.totals: Counter = Counter()
        self._lock = asyncio.Lock()
        self._full = asyncio.Event()
        self._last_stamp = datetime.min.replace(tzinfo=UTC)

    # -- intake -----------------------------------------------------------------------------
    def submit(self, topic: str, payload: bytes, ack: Ack | None = None, received_at: datetime | None = None) -> None:
        """Take one MQTT message; never raises for bad input (it is counted instead)."""
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
        try:
            parsed = parse_mqtt(topic, payload, received_at, self.tz)
        except Rejected as exc:
            batch.rejects[(_vendor_of_topic(topic), exc.reason.value)] += 1
        except Exception as exc:  # a parser bug must not take the bridge down  # noqa: BLE001
            log.error("parser_failed", topic=topic[:200], error=repr(exc))
            batch.rejects[(_vendor_of_topic(topic), RejectReason.MALFORMED.value)] += 1
        else:
            if not isinstance(parsed, Ignored):
                found = self.directory.lookup(parsed.vendor.value, parsed.device_id)
                if isinstance(found, int):
                    self._take(batch, found, parsed, received_at)
                else:
                    batch.pending_lookups.append((parsed, received_at))
        if ack is not None:
            batch.acks.append(ack)
        if len(batch.rows) + len(batch.acks) >= self.batch_size:
            self._full.set()

    @staticmethod
    def _take(batch: Batch, plug_id: int, parsed, received_at: datetime) -> None:
        if isinstance(parsed, Reading):
            batch.rows.append(store.StoredRow(plug_id, parsed.ts, parsed.power_w, parsed.counter_wh, received_at))
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
        batch.acks += newer.acks
        batch.pending_lookups += newer.pending_lookups

    async def _write(self, batch: Batch) -> FlushResult:
        for parsed, received_at in batch.pending_lookups:
            found = await self.directory.lookup_or_load(parsed.vendor.value, parsed.device_id)
            if isinstance(found, int):
                self._take(batch, found, parsed, received_at)
            else:
                batch.rejects[(parsed.vendor.value, found.value)] += 1
        batch.pending_lookups = []
        rejects = Counter(batch.rejects)
        async with in_transaction() as conn:
            stored = await self._insert(conn, batch.rows)
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
        for plug_id, (online, _) in batch.availability.items():
            known[(plug_id, "online")] = online
        for plug_id, (on, _) in batch.relays.items():
            known[(plug_id, "relay")] = on
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


class MissingPartition(Exception):
    """A reading's day has no partition yet; the caller creates it and retries."""
