"""``pvpp simulate-plugs --transport http``: the fleet's plugs push readings over HTTP.

Every plug is an ``HTTP`` plug (the generic bridge push). With ``--register`` each one is
paired through the pairing service, which hands out its token once; the simulator keeps it.
Each plug buffers the readings the fleet model emits and, every ``batch_s``, sends them with
the ``pushPlugReadings`` mutation as one batch under a fresh batch id. A batch that meets a
network error or a 5xx stays the plug's current batch and is sent again, with the same id
and readings, at the next flush: if the server had committed it, it answers with the first
result (``replayed``) instead of storing it twice. Duplicates and counter resets come from
the fleet model; an offline spell is silence (HTTP has no last will).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx

from backend.plugs.fleet_model import EmissionKind, FleetModel
from backend.plugs.readings import Vendor
from backend.plugs.service import MAX_PUSH_ITEMS
from backend.plugs.simulator import KIND_NAMES, _sleep_or_stop
from backend.plugs.vendors import render_http_item

HTTP_VENDOR_MIX: Mapping[Vendor, float] = {Vendor.HTTP: 1.0}

PUSH = """
mutation($device: String!, $token: String!, $batch: String!, $readings: [PlugReadingInput!]!) {
  pushPlugReadings(deviceId: $device, token: $token, batchId: $batch, readings: $readings) {
    __typename
    ... on PlugReadingsPushed { accepted duplicates replayed rejected { index reason } }
    ... on Error { message }
  }
}"""
# A refused batch counts all its readings under this reason (the server counts the request).
_REFUSED = {"InvalidToken": "bad_token", "IdempotencyConflict": "replayed"}


def default_api_url(settings) -> str:
    """The GraphQL endpoint of ``pvpp serve`` on ``PVPP_HOST:PVPP_PORT``."""
    host = settings.host if settings.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}/graphql"


async def pair_http_plugs(settings, fleet: FleetModel, household_ids: Sequence[int]) -> dict[str, str]:
    """Pair the fleet's HTTP plugs (simulated household i → ``household_ids[i % n]``) the way
    a parent does: a pairing code, then ``pair_plug``. Returns each plug's token. A token is
    shown only once, so a plug still paired by an earlier run is unpaired and paired again."""
    from backend.accounts.models import Role, User
    from backend.accounts.service import principal_for
    from backend.plugs import service
    from backend.plugs.models import Plug

    operator = await User.filter(role=Role.OPERATOR).order_by("id").first()
    actors = {}

    async def actor(household_id: int):
        """A parent of the household, else an operator: someone who may create its codes."""
        if household_id not in actors:
            user = await User.filter(role=Role.PARENT, household_id=household_id).order_by("id").first()
            if user is None and operator is None:
                raise LookupError(f"household {household_id} has no parent and there is no operator "
                                  "to create its pairing codes")
            actors[household_id] = await principal_for(user or operator, uuid.uuid4())
        return actors[household_id]

    tokens: dict[str, str] = {}
    for plug in fleet.plugs:
        if plug.vendor is not Vendor.HTTP:
            continue
        household_id = household_ids[plug.household % len(household_ids)]
        earlier = await Plug.filter(vendor=Vendor.HTTP, device_id=plug.device_id, unpaired_at=None).first()
        if earlier is not None:
            await service.unpair_plug(await actor(earlier.household_id), earlier.id)
        principal = await actor(household_id)
        issued = await service.create_pairing_code(settings, principal, household_id)
        paired = await service.pair_plug(settings, issued.code, Vendor.HTTP, plug.device_id,
                                         KIND_NAMES.get(str(plug.kind), str(plug.kind)), principal)
        assert paired.token is not None  # HTTP plugs always get one
        tokens[plug.device_id] = paired.token
    return tokens


@dataclass
class PushStats:
    readings: int = 0      # readings the plugs took (duplicates included)
    batches: int = 0       # batches the server answered
    accepted: int = 0      # readings stored
    duplicates: int = 0    # readings the server already had
    replayed: int = 0      # batches answered with their first result (a resend after a lost answer)
    errors: int = 0        # network errors and 5xx; the batch is sent again with the same id
    rejected: Counter[str] = field(default_factory=Counter)  # readings by reason

    def summary(self) -> str:
        reasons = ", ".join(f"{reason} {n}" for reason, n in self.rejected.most_common())
        return (f"{self.accepted} accepted, {self.duplicates} duplicates, {self.rejected.total()} rejected"
                f"{f' ({reasons})' if reasons else ''}, {self.errors} send errors ({self.replayed} batches replayed)")


@dataclass
class _Outbox:
    pending: list[dict] = field(default_factory=list)
    batch: tuple[str, list[dict]] | None = None  # (batch id, readings) until the server answers it


class HttpSimulator:
    """Drives a fleet model in real time and pushes every plug's readings to the API."""

    def __init__(self, fleet: FleetModel, api_url: str, tokens: Mapping[str, str], *, tz: str = "Asia/Seoul",
                 batch_s: float = 5.0, tick_s: float = 0.05, concurrency: int = 32,
                 transport: httpx.AsyncBaseTransport | None = None, timeout_s: float = 10.0) -> None:
        self.fleet, self.api_url, self.tokens = fleet, api_url, tokens
        self.tz, self.batch_s, self.tick_s = ZoneInfo(tz), batch_s, tick_s
        self.stats = PushStats()
        self._outboxes = {plug.device_id: _Outbox() for plug in fleet.plugs}
        self._slots = asyncio.Semaphore(concurrency)
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout_s,
                                         limits=httpx.Limits(max_connections=concurrency))

    @property
    def unsent(self) -> int:
        """Readings not yet answered by the server."""
        return sum(len(o.pending) + (len(o.batch[1]) if o.batch else 0) for o in self._outboxes.values())

    async def run(self, stop: asyncio.Event, clock: Callable[[], float] = time.time,
                  on_tick: Callable[[PushStats], None] | None = None) -> PushStats:
        last_flush = time.monotonic()
        async with self._client:
            while not stop.is_set():
                started = time.monotonic()
                for emission in self.fleet.advance(clock()):
                    if emission.kind is EmissionKind.AVAILABILITY:
                        continue
                    self.stats.readings += 1
                    ts = datetime.fromtimestamp(emission.ts, self.tz)
                    self._outboxes[emission.plug.device_id].pending.append(
                        render_http_item(ts, round(emission.power_w, 2), round(emission.counter_wh, 3)))
                if started - last_flush >= self.batch_s:
                    last_flush = started
                    await self.flush()
                if on_tick is not None:
                    on_tick(self.stats)
                await _sleep_or_stop(stop, max(0.0, self.tick_s - (time.monotonic() - started)))
            await self.flush()
        return self.stats

    async def flush(self) -> None:
        """Send every plug's current batch, then its further readings, until it is empty or a
        send fails (that batch waits for the next flush)."""
        await asyncio.gather(*(self._drain(device_id, outbox) for device_id, outbox in self._outboxes.items()
                               if outbox.pending or outbox.batch))

    async def _drain(self, device_id: str, outbox: _Outbox) -> None:
        while outbox.batch or outbox.pending:
            if outbox.batch is None:
                outbox.batch = (uuid.uuid4().hex, outbox.pending[:MAX_PUSH_ITEMS])
                del outbox.pending[:MAX_PUSH_ITEMS]
            async with self._slots:
                answered = await self._push(device_id, *outbox.batch)
            if not answered:
                self.stats.errors += 1
                return
            outbox.batch = None

    async def _push(self, device_id: str, batch_id: str, readings: list[dict]) -> bool:
        """One ``pushPlugReadings``; False when it should be sent again (network error, 5xx)."""
        variables = {"device": device_id, "token": self.tokens.get(device_id, ""), "batch": batch_id,
                     "readings": readings}
        try:
            response = await self._client.post(self.api_url, json={"query": PUSH, "variables": variables})
        except httpx.TransportError:
            return False
        if response.status_code >= 500:
            return False
        stats = self.stats
        try:
            result = response.json()["data"]["pushPlugReadings"]
            kind = result["__typename"]
        except (ValueError, KeyError, TypeError):
            stats.rejected[f"http_{response.status_code}"] += len(readings)
            return True
        if kind == "RateLimited":
            return False  # the same batch again, later
        stats.batches += 1
        if kind != "PlugReadingsPushed":
            stats.rejected[_REFUSED.get(kind, kind)] += len(readings)
            return True
        stats.accepted += result["accepted"]
        stats.duplicates += result["duplicates"]
        stats.replayed += int(result["replayed"])
        stats.rejected.update(r["reason"] for r in result["rejected"])
        return True
