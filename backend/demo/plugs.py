"""The demo households' smart plugs, backfilled through the bridge's own pipeline.

A :class:`~backend.plugs.fleet_model.FleetModel` (the one ``pvpp simulate-plugs`` drives) is
advanced over the history; each emission is rendered as the vendor's MQTT message and handed to
the bridge's :class:`~backend.plugs.ingest.Ingestor` (parse, validate, store, rollup marks), and
the rollup job (:func:`backend.plugs.rollups.rollup_pending`) turns readings into hours. Switch
commands of DR events are taken by the bridge's :class:`~backend.plugs.commands.CommandDispatcher`
and obeyed (or, for a "failing" household, ignored) by the model, as the simulator does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from backend.plugs import store
from backend.plugs.commands import CommandDispatcher
from backend.plugs.fleet_model import DEFAULT_VENDOR_MIX, FleetModel
from backend.plugs.ingest import Ingestor
from backend.plugs.models import Plug
from backend.plugs.rollups import rollup_pending
from backend.plugs.simulator import messages_of, register_fleet
from backend.plugs.vendors import parse_command, render_switch_state
from backend.settings import Settings

#: Reports every 15 minutes: within the rollup's 900 s gap rule, so every hour is covered.
REPORT_INTERVAL_S = 900.0
FLUSH_ROWS = 20_000


class PlugHistory:
    """Drives the fleet of the households ``household_ids`` (fleet household i → the i-th id)."""

    def __init__(self, settings: Settings, household_ids: Sequence[int], seed: int,
                 steady: Sequence[int] = ()) -> None:
        """``steady``: positions in ``household_ids`` whose plugs never drop offline."""
        self.settings = settings
        self.household_ids = list(household_ids)
        # the same seed and first households as `pvpp simulate-plugs --seed S --households 2`
        self.fleet = FleetModel(len(household_ids), seed=seed, report_interval_s=REPORT_INTERVAL_S,
                                vendor_mix=DEFAULT_VENDOR_MIX, steady_households=steady)
        self.tz = ZoneInfo(settings.display_timezone)
        self.clock_at = datetime.min.replace(tzinfo=UTC)
        self.ingestor = Ingestor(clock=lambda: self.clock_at)
        self.dispatcher = CommandDispatcher(confirm_s=settings.plug_command_confirm_seconds,
                                            attempts=settings.plug_command_attempts, clock=lambda: self.clock_at)
        self.deaf: set[str] = set()  # device ids that ignore commands (a failing switch)
        self.readings = 0

    async def pair(self, since: datetime, until: datetime) -> dict[int, list[Plug]]:
        """Pair the fleet's plugs (skipping those paired already) and make the reading partitions
        of the whole period; returns each household's plugs."""
        if self.household_ids:
            await register_fleet(self.fleet, self.household_ids, paired_at=since)
        async with in_transaction() as conn:
            days = (until.date() - since.date()).days + 2
            await store.ensure_partitions(conn, until.date(), days_back=days)
        await self.ingestor.directory.refresh()
        plugs = await Plug.filter(household_id__in=self.household_ids, unpaired_at=None).order_by("id")
        out: dict[int, list[Plug]] = {}
        for plug in plugs:
            out.setdefault(plug.household_id, []).append(plug)
        return out

    def devices_of(self, household_id: int) -> list[str]:
        i = self.household_ids.index(household_id)
        return [p.device_id for p in self.fleet.plugs if p.household == i]

    def _submit(self, emissions) -> None:
        for emission in emissions:
            self.readings += 1
            # whole seconds, like the device's own Time: receipt and device clock agree
            received = datetime.fromtimestamp(int(emission.ts), UTC)
            for topic, payload in messages_of(emission, self.tz):
                self.ingestor.submit(topic, payload, received_at=received)

    async def advance(self, at: datetime) -> None:
        """Everything the plugs reported up to ``at``, stored (flushed in large batches)."""
        if not self.fleet.plugs:
            return
        if self.fleet.now is None or at.timestamp() > self.fleet.now:
            self.clock_at = at
            self._submit(self.fleet.advance(at.timestamp()))
        if len(self.ingestor.batch) >= FLUSH_ROWS:
            await self.ingestor.flush()

    async def settle_data(self) -> None:
        """Store what is buffered and bring the hourly rollups up to date."""
        if len(self.ingestor.batch):
            await self.ingestor.flush()
        await rollup_pending()

    async def deliver_commands(self, at: datetime) -> None:
        """One bridge round at ``at``: publish pending commands to the model, store confirmations."""
        await self.advance(at)
        await self.ingestor.directory.refresh()
        confirmations: list[tuple[str, bytes]] = []

        async def publish(topic: str, payload: bytes) -> None:
            command = parse_command(topic, payload)
            if command is None or command[1] in self.deaf:
                return
            vendor, device_id, on, _ = command
            if self.fleet.set_relay(device_id, on):
                confirmations.append(render_switch_state(vendor, device_id, on, ts=at))

        await self.dispatcher.tick(publish)
        for topic, payload in confirmations:
            self.ingestor.submit(topic, payload, received_at=at + timedelta(milliseconds=500))
        await self.ingestor.flush()

    async def run_commands(self, at: datetime) -> None:
        """Bridge rounds until every command issued at ``at`` is confirmed or has failed."""
        step = timedelta(seconds=self.settings.plug_command_confirm_seconds + 1)
        for n in range(self.settings.plug_command_attempts + 2):
            await self.deliver_commands(at + n * step)
