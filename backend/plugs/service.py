"""Smart plug services: pairing codes, pairing, naming, unpairing, HTTP push and reads.

A parent creates a pairing code (10 Crockford characters, single use, minutes long);
whoever holds it — the parent's app, an installer, a home bridge — registers one device of a
given vendor to that household. A device is paired to one household at a time. HTTP-push
plugs get a token at pairing, shown once and stored only as a hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from tortoise.transactions import in_transaction

from backend.accounts.principal import Principal
from backend.accounts.ratelimit import AttemptCounter
from backend.errors import (
    AlreadyExists,
    IdempotencyConflict,
    InvalidToken,
    NotAllowed,
    RateLimited,
    ValidationFailed,
)
from backend.households.models import Household
from backend.plugs import broker_auth, broker_sync, store, topics
from backend.plugs.models import PairingCode, Plug, PushBatch, RejectCount
from backend.plugs.readings import Rejected, RejectReason, Vendor
from backend.plugs.vendors import RESERVED_PREFIXES, parse_http_item, valid_device_id
from backend.settings import Settings

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PAIRING_CODE_LENGTH = 10
MAX_PUSH_ITEMS = 1_000
OFFLINE_AFTER = timedelta(minutes=15)
NAME_MAX = 40


def _hash(secret: str, text: str, purpose: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{text}".encode(), hashlib.sha256).hexdigest()


def normalise_pairing_code(code: str) -> str:
    text = "".join(ch for ch in str(code).upper() if ch not in "- ")
    return text.translate(str.maketrans("OIL", "011"))


def _clean_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not 1 <= len(cleaned) <= NAME_MAX:
        raise ValidationFailed("name", f"A plug name has 1 to {NAME_MAX} characters.")
    return cleaned


@dataclass(frozen=True)
class IssuedPairingCode:
    code: str
    household_id: int
    expires_at: datetime


async def create_pairing_code(settings: Settings, principal: Principal, household_id: int,
                              now: datetime | None = None) -> IssuedPairingCode:
    """A parent of the household (or an operator) creates a single-use pairing code."""
    if not principal.can_manage_household(household_id):
        raise NotAllowed("Only a parent of this household can pair plugs.")
    if not await Household.exists(id=household_id):
        raise NotAllowed("Only a parent of this household can pair plugs.")
    now = now or datetime.now(UTC)
    raw = "".join(secrets.choice(_CROCKFORD) for _ in range(PAIRING_CODE_LENGTH))
    expires = now + timedelta(seconds=settings.plug_pairing_code_ttl_seconds)
    await PairingCode.create(code_hash=_hash(settings.signing_key, raw, "pairing"), household_id=household_id,
                             created_by_id=principal.user_id, expires_at=expires)
    return IssuedPairingCode(f"{raw[:5]}-{raw[5:]}", household_id, expires)


@dataclass(frozen=True)
class Paired:
    plug: Plug  # the first channel's plug
    token: str | None  # only for HTTP-push plugs, shown once
    mqtt_password: str | None = None  # only for MQTT plugs, shown once (user: plug.mqtt_username)
    plugs: tuple[Plug, ...] = ()  # one per paired channel


MAX_CHANNEL = 15


def _clean_channels(vendor: Vendor, channels: Sequence[int] | None) -> list[int]:
    """The device channels the household pairs (outlets of a strip, meter phases): 0 by default."""
    chosen = sorted(set(channels)) if channels else [0]
    if any(type(c) is not int or not 0 <= c <= MAX_CHANNEL for c in chosen):
        raise ValidationFailed("channels", f"Channels are numbered 0 to {MAX_CHANNEL} (the first outlet is 0).")
    if vendor is Vendor.HTTP and chosen != [0]:
        raise ValidationFailed("channels", "An HTTP plug has one channel; pair each device id on its own.")
    return chosen


def _channel_name(name: str, channel: int, channels: list[int]) -> str:
    if len(channels) == 1:
        return name
    suffix = f" {channel + 1}"
    return name[:NAME_MAX - len(suffix)].rstrip() + suffix


async def pair_plug(settings: Settings, code: str, vendor: Vendor, device_id: str, name: str,
                    principal: Principal | None = None, now: datetime | None = None,
                    channels: Sequence[int] | None = None, topic_template: str | None = None) -> Paired:
    """Register ``vendor``/``device_id`` to the code's household, consuming the code: one plug
    per channel in ``channels`` (the outlets or meter channels that are the household's; named
    "<name> <n>" when there are several), all sharing the device's one broker account.
    ``topic_template`` is the device's topic layout when it is not the vendor default
    (:mod:`backend.plugs.topics`)."""
    now = now or datetime.now(UTC)
    name = _clean_name(name)
    chosen = _clean_channels(vendor, channels)
    template = topics.clean_template(vendor, topic_template)
    device_id = str(device_id).strip()
    if not valid_device_id(device_id):
        raise ValidationFailed("deviceId", "A device id has 1 to 64 letters, digits or . _ : -")
    if vendor is Vendor.SHELLY_GEN2 and device_id.lower() in RESERVED_PREFIXES:
        raise ValidationFailed("deviceId", "This topic prefix is reserved; give the device its own prefix.")
    text = normalise_pairing_code(code)
    if len(text) != PAIRING_CODE_LENGTH or not set(text) <= set(_CROCKFORD):
        raise InvalidToken("This is not a pairing code (10 letters and digits).")
    code_hash = _hash(settings.signing_key, text, "pairing")
    token = secrets.token_urlsafe(32) if vendor is Vendor.HTTP else None
    async with in_transaction() as conn:
        row = await PairingCode.filter(code_hash=code_hash).using_db(conn).select_for_update().first()
        if row is None:
            raise InvalidToken("This pairing code is wrong. Ask a parent for a new one.")
        if row.used_at is not None:
            raise InvalidToken("This pairing code was already used. Ask a parent for a new one.")
        if row.expires_at <= now:
            raise InvalidToken("This pairing code has expired. Ask a parent for a new one.")
        if principal is not None and principal.household_id not in (None, row.household_id) \
                and not principal.is_operator:
            raise NotAllowed("This pairing code belongs to another household.")
        # a device belongs to one household: its other channels cannot go elsewhere
        active = await Plug.filter(vendor=vendor, device_id=device_id, unpaired_at=None).using_db(conn)
        if any(p.household_id != row.household_id for p in active):
            raise AlreadyExists("deviceId", "This plug is paired to another household. It must be unpaired there first.")
        if any(p.channel in chosen for p in active):
            raise AlreadyExists("deviceId" if chosen == [0] else "channels",
                                "This plug is already paired to your household.")
        plugs = []
        for channel in chosen:
            plugs.append(await Plug.create(
                household_id=row.household_id, vendor=vendor, device_id=device_id, channel=channel,
                name=_channel_name(name, channel, chosen), paired_by_id=row.created_by_id, paired_at=now,
                topic_template=template,
                token_hash=_hash(settings.signing_key, token, "plug-token") if token else None, using_db=conn))
        plug = plugs[0]
        updated = await PairingCode.filter(id=row.id, used_at=None).using_db(conn).update(used_at=now, plug_id=plug.id)
        if updated != 1:  # raced with another use of the same code
            raise InvalidToken("This pairing code was already used. Ask a parent for a new one.")
        credentials = None
        if vendor is not Vendor.HTTP:
            credentials = broker_auth.new_credentials(plug.id)
            for each in plugs:  # one device, one login: every channel's row carries it
                each.mqtt_username, each.mqtt_password_hash = credentials.username, credentials.password_hash
                await each.save(using_db=conn, update_fields=["mqtt_username", "mqtt_password_hash"])
    if credentials is not None:
        await broker_sync.sync_broker(settings)
    return Paired(plug, token, credentials.password if credentials else None, tuple(plugs))


async def _managed_plug(principal: Principal, plug_id: int) -> Plug:
    plug = await Plug.get_or_none(id=plug_id)
    if plug is None or not principal.can_manage_household(plug.household_id):
        raise NotAllowed("Only a parent of this plug's household can change it.")
    return plug


async def rename_plug(principal: Principal, plug_id: int, name: str) -> Plug:
    plug = await _managed_plug(principal, plug_id)
    plug.name = _clean_name(name)
    await plug.save(update_fields=["name", "changed_at"])
    return plug


async def unpair_plug(principal: Principal, plug_id: int, now: datetime | None = None,
                      settings: Settings | None = None) -> Plug:
    """End the pairing (its token and broker account with it); the plug's readings and
    rollups stay with the household."""
    plug = await _managed_plug(principal, plug_id)
    if plug.unpaired_at is None:
        plug.unpaired_at = now or datetime.now(UTC)
        plug.token_hash = plug.mqtt_password_hash = None
        await plug.save(update_fields=["unpaired_at", "token_hash", "mqtt_password_hash", "changed_at"])
        if settings is not None and plug.mqtt_username:
            await broker_sync.sync_broker(settings)
    return plug


async def household_plugs(principal: Principal, household_id: int, include_unpaired: bool = False) -> list[Plug]:
    if not principal.can_view_household(household_id):
        raise NotAllowed("You cannot see this household's plugs.")
    query = Plug.filter(household_id=household_id)
    if not include_unpaired:
        query = query.filter(unpaired_at=None)
    return await query.order_by("id")


async def visible_plug(principal: Principal, plug_id: int) -> Plug:
    plug = await Plug.get_or_none(id=plug_id)
    if plug is None or not principal.can_view_household(plug.household_id):
        raise NotAllowed("You cannot see this plug.")
    return plug


# -- HTTP push ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PushResult:
    accepted: int
    duplicates: int
    rejected: list[tuple[int, str]]  # (item index, reason)
    replayed: bool


def _digest(items: Sequence[Mapping]) -> str:
    return hashlib.sha256(json.dumps(list(items), sort_keys=True, default=str).encode()).hexdigest()


async def _count_reject(vendor: str, reason: RejectReason, now: datetime, n: int = 1) -> None:
    async with in_transaction() as conn:
        await store.add_reject_counts(conn, now.date(), {(vendor, reason.value): n})


@dataclass(frozen=True)
class PushLimits:
    """Redis counters for HTTP pushes: forged tokens per client address, pushes per plug."""

    redis: Redis
    address: str
    settings: Settings

    def _bad_tokens(self) -> AttemptCounter:
        return AttemptCounter(self.redis, "plug-push-bad-token", limit=self.settings.plug_push_bad_tokens_per_address,
                              window_seconds=300)

    async def check_address(self) -> None:
        retry = await self._bad_tokens().retry_after(self.address)
        if retry is not None:
            raise RateLimited(retry)

    async def bad_token(self) -> None:
        await self._bad_tokens().hit(self.address)

    async def push(self, plug_id: int) -> None:
        counter = AttemptCounter(self.redis, "plug-push", limit=self.settings.plug_push_per_minute, window_seconds=60)
        if await counter.hit(str(plug_id)) > self.settings.plug_push_per_minute:
            raise RateLimited(await counter.retry_after(str(plug_id)) or 60)


async def push_readings(settings: Settings, device_id: str, token: str, batch_id: str,
                        items: Sequence[Mapping], now: datetime | None = None,
                        limits: PushLimits | None = None) -> PushResult:
    """Store a batch pushed over HTTP by a bridge holding the plug's token.

    A batch id is taken once per plug: the same batch again returns the first result
    (``replayed``), a different batch under a used id is refused. With ``limits`` (the API),
    an address that sent too many wrong tokens, or a plug pushing too often, is refused
    with RateLimited (an address only for its wrong tokens)."""
    now = now or datetime.now(UTC)
    if not 1 <= len(str(batch_id)) <= 64:
        raise ValidationFailed("batchId", "A batch id has 1 to 64 characters.")
    if not valid_device_id(str(device_id)):
        raise ValidationFailed("deviceId", "A device id has 1 to 64 letters, digits or . _ : -")
    if not 1 <= len(items) <= MAX_PUSH_ITEMS:
        raise ValidationFailed("readings", f"Send 1 to {MAX_PUSH_ITEMS} readings per batch.")
    plug = await Plug.filter(vendor=Vendor.HTTP, device_id=str(device_id), unpaired_at=None).first()
    expected = plug.token_hash if plug else _hash(settings.signing_key, "absent", "plug-token")
    if not hmac.compare_digest(expected or "", _hash(settings.signing_key, str(token), "plug-token")) or plug is None:
        # Only wrong tokens meet the per-address limit: plugs behind the same address (a
        # school's or an apartment block's NAT) with valid tokens keep pushing. Tokens are
        # 256-bit random, so letting a right one through a blocked address helps no guesser.
        if limits is not None:
            await limits.check_address()
        await _count_reject(Vendor.HTTP.value, RejectReason.BAD_TOKEN, now)
        if limits is not None:
            await limits.bad_token()
        raise InvalidToken("The plug id or token is wrong, or the plug is no longer paired.")
    if limits is not None:
        await limits.push(plug.id)
    digest = _digest(items)
    previous = await PushBatch.get_or_none(plug_id=plug.id, batch_id=batch_id)
    if previous is not None:
        return _replay(previous, digest)
    rows, rejected, counts = [], [], Counter()
    for index, item in enumerate(items):
        try:
            if not isinstance(item, Mapping):
                raise Rejected(RejectReason.WRONG_TYPE, "a reading is an object")
            reading = parse_http_item(plug.device_id, item, now)
        except Rejected as exc:
            rejected.append((index, exc.reason.value))
            counts[(Vendor.HTTP.value, exc.reason.value)] += 1
            continue
        rows.append(store.StoredRow(plug.id, reading.ts, reading.power_w, reading.counter_wh, now))
    try:
        async with in_transaction() as conn:
            stored = await store.insert_readings(conn, rows)
            if len(rows) - stored:
                counts[("*", RejectReason.DUPLICATE.value)] += len(rows) - stored
            await store.add_reject_counts(conn, now.date(), dict(counts))
            await PushBatch.create(plug_id=plug.id, batch_id=batch_id, digest=digest, accepted=stored,
                                   rejected=[[i, r] for i, r in rejected], using_db=conn)
    except Exception as exc:  # the same batch id pushed concurrently: the other one won
        previous = await PushBatch.get_or_none(plug_id=plug.id, batch_id=batch_id)
        if previous is None:
            raise
        if "no partition" in str(exc):
            raise
        return _replay(previous, digest)
    return PushResult(stored, len(rows) - stored, rejected, False)


def _replay(previous: PushBatch, digest: str) -> PushResult:
    if previous.digest != digest:
        raise IdempotencyConflict("This batch id was already used for different readings.")
    return PushResult(previous.accepted, 0, [(int(i), str(r)) for i, r in previous.rejected], True)


# -- reads --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlugLive:
    power_w: float | None
    last_seen_at: datetime | None
    online: bool


async def live_states(plugs: Sequence[Plug], now: datetime | None = None) -> list[PlugLive]:
    """Latest power and whether each plug is online: paired, reported within
    ``OFFLINE_AFTER``, and not announced offline by its last will unless it reported since."""
    now = now or datetime.now(UTC)
    from tortoise import Tortoise

    latest = await store.latest_readings(Tortoise.get_connection("default"), [p.id for p in plugs],
                                         now - timedelta(days=1))
    return [_live(plug, latest.get(plug.id), now) for plug in plugs]


def _live(plug: Plug, latest: store.Latest | None, now: datetime) -> PlugLive:
    seen = latest.seen_at if latest else None
    fresh = seen is not None and now - seen <= OFFLINE_AFTER
    announced_offline = plug.online is False and not (plug.online_changed_at and seen and seen > plug.online_changed_at)
    online = fresh and not announced_offline and plug.unpaired_at is None
    power = latest.power_w if latest and online and latest.power_at and now - latest.power_at <= OFFLINE_AFTER else None
    return PlugLive(power, seen, online)


async def live_state(plug: Plug, now: datetime | None = None) -> PlugLive:
    return (await live_states([plug], now))[0]


@dataclass(frozen=True)
class HourPoint:
    hour: datetime
    energy_wh: float
    coverage: float
    resets: int
    spikes: int


async def hourly(plug_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, list[HourPoint]]:
    """Every hour in [start, end) per plug; hours without a rollup have coverage 0."""
    from tortoise import Tortoise

    conn = Tortoise.get_connection("default")
    stored = await store.hours_of(conn, plug_ids, start, end)
    by_plug: dict[int, dict[datetime, store.StoredHour]] = {}
    for row in stored:
        by_plug.setdefault(row.plug_id, {})[row.hour] = row
    out: dict[int, list[HourPoint]] = {}
    hours = []
    cursor = start
    while cursor < end:
        hours.append(cursor)
        cursor += timedelta(hours=1)
    for plug_id in plug_ids:
        rows = by_plug.get(plug_id, {})
        out[plug_id] = [
            HourPoint(h, rows[h].energy_wh, min(rows[h].covered_s / 3600.0, 1.0), rows[h].resets, rows[h].spikes)
            if h in rows else HourPoint(h, 0.0, 0.0, 0, 0)
            for h in hours
        ]
    return out


def local_bounds(now: datetime, tz_name: str) -> tuple[datetime, datetime, datetime]:
    """(start of today, start of this month, start of the next hour) in UTC for a timezone.

    Rollups are whole UTC hours, so in a zone whose offset is not whole hours (e.g. +05:30)
    the local day starts at the UTC hour that contains local midnight."""
    local = now.astimezone(ZoneInfo(tz_name))
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = today.replace(day=1)
    next_hour = _utc_hour(now) + timedelta(hours=1)
    return _utc_hour(today), _utc_hour(month), next_hour


def _utc_hour(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def energy_since(plug_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, tuple[float, float]]:
    """Per plug: (Wh in [start, end), share of those hours covered by data)."""
    series = await hourly(plug_ids, start, end)
    out = {}
    for plug_id, points in series.items():
        total = sum(p.energy_wh for p in points)
        coverage = sum(p.coverage for p in points) / len(points) if points else 0.0
        out[plug_id] = (total, coverage)
    return out


@dataclass(frozen=True)
class RejectTotal:
    day: str
    vendor: str
    reason: str
    count: int


async def reject_totals(principal: Principal, days: int = 7, now: datetime | None = None) -> list[RejectTotal]:
    """Operators: rejected plug messages per day, vendor and reason."""
    if not principal.is_operator:
        raise NotAllowed("Only operators can see ingestion statistics.")
    if not 1 <= days <= 90:
        raise ValidationFailed("days", "Ask for 1 to 90 days.")
    since = ((now or datetime.now(UTC)) - timedelta(days=days - 1)).date()
    rows = await RejectCount.filter(day__gte=since).order_by("-day", "vendor", "reason")
    return [RejectTotal(r.day.isoformat(), r.vendor, r.reason, r.count) for r in rows]
