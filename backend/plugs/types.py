"""GraphQL types of the smart-plug domain: plugs, their live state, energy and hourly series.

Live state and energy are read through per-request DataLoaders, so a list of plugs costs
a fixed number of rollup queries whatever its length (live state is per plug in the store).
A plug's token hash and who paired it are never exposed; its device id only to those who
manage the household (device ids are what pairing uses).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import strawberry
from strawberry.dataloader import DataLoader

from backend.errors import ValidationFailed as ValidationFailedError
from backend.graphql.access import public_type, visible
from backend.graphql.context import Context, Info
from backend.graphql.errors import ValidationFailed, result_union
from backend.graphql.permissions import CanManageHousehold
from backend.graphql.results import returns_errors
from backend.graphql.scalars import to_display
from backend.plugs import commands, service
from backend.plugs.models import CommandStatus
from backend.plugs.models import Plug as PlugModel
from backend.plugs.models import PlugCommand as PlugCommandModel
from backend.plugs.readings import Vendor
from backend.savings import ebrain
from backend.savings.standby import StandbyEstimate

PlugVendor = strawberry.enum(Vendor, name="PlugVendor")
PlugCommandStatus = strawberry.enum(CommandStatus, name="PlugCommandStatus",
                                    description="pending → sent → confirmed by the device, or failed / superseded")

HOUR = timedelta(hours=1)
MAX_HOURLY_RANGE = timedelta(days=31)
DEFAULT_HOURLY_RANGE = timedelta(hours=24)
MISSING_BELOW = 0.9  # an hour (or period) with less coverage than this is flagged as missing data


def _kwh(wh: float) -> float:
    return round(wh / 1000.0, 6)


def _share(value: float) -> float:
    return round(min(max(value, 0.0), 1.0), 4)


@dataclass(frozen=True)
class Energy:
    today_wh: float
    today_coverage: float
    month_wh: float
    month_coverage: float


@dataclass
class PlugLoaders:
    """One per request: every plug of the response is read at the same ``now``."""

    tz_name: str
    price_won_per_kwh: float = 0.0
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self.live: DataLoader[PlugModel, service.PlugLive] = DataLoader(self._load_live, cache_key_fn=lambda p: p.id)
        self.energy: DataLoader[int, Energy] = DataLoader(self._load_energy)
        self.hours: DataLoader[tuple[int, datetime, datetime], list[service.HourPoint]] = DataLoader(self._load_hours)
        self.last_command: DataLoader[int, PlugCommandModel | None] = DataLoader(self._load_last_command)
        self.standby: DataLoader[int, StandbyEstimate | None] = DataLoader(self._load_standby)

    async def _load_standby(self, plug_ids: Sequence[int]) -> list[StandbyEstimate | None]:
        found = await ebrain.standby_of(plug_ids, self.now, self.tz_name, self.price_won_per_kwh)
        return [found.get(i) for i in plug_ids]

    async def _load_last_command(self, plug_ids: Sequence[int]) -> list[PlugCommandModel | None]:
        latest = await commands.latest_commands(plug_ids)
        return [latest.get(i) for i in plug_ids]

    async def _load_live(self, plugs: Sequence[PlugModel]) -> list[service.PlugLive]:
        return await service.live_states(plugs, self.now)

    async def _load_energy(self, plug_ids: Sequence[int]) -> list[Energy]:
        today, month, next_hour = service.local_bounds(self.now, self.tz_name)
        ids = list(plug_ids)
        day = await service.energy_since(ids, today, next_hour)
        period = await service.energy_since(ids, month, next_hour)
        return [Energy(*day[i], *period[i]) for i in ids]

    async def _load_hours(self, keys: Sequence[tuple[int, datetime, datetime]]) -> list[list[service.HourPoint]]:
        ranges: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
        for plug_id, start, end in keys:
            ranges[(start, end)].append(plug_id)
        series: dict[tuple[int, datetime, datetime], list[service.HourPoint]] = {}
        for (start, end), ids in ranges.items():
            for plug_id, points in (await service.hourly(sorted(set(ids)), start, end)).items():
                series[(plug_id, start, end)] = points
        return [series[key] for key in keys]


def plug_loaders(info: Info) -> PlugLoaders:
    """The request's plug loaders (kept on the context, created on first use)."""
    context: Context = info.context
    loaders = context.__dict__.get("_plug_loaders")
    if loaders is None:
        loaders = context.__dict__["_plug_loaders"] = PlugLoaders(context.settings.display_timezone,
                                                                  context.settings.electricity_price_won_per_kwh)
    return loaders


def _floor_hour(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(dt: datetime) -> datetime:
    floor = _floor_hour(dt)
    return floor if floor == dt.astimezone(UTC) else floor + HOUR


def hourly_range(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """Whole UTC hours covering [start, end); the last 24 hours by default; at most 31 days."""
    for name, value in (("from", start), ("to", end)):
        if value is not None and value.utcoffset() is None:
            raise ValidationFailedError(name, f"Give '{name}' with its UTC offset (e.g. 2026-05-01T00:00:00+09:00).")
    end_hour = _ceil_hour(end) if end is not None else _floor_hour(now) + HOUR
    start_hour = _floor_hour(start) if start is not None else end_hour - DEFAULT_HOURLY_RANGE
    if start is not None and end is not None and not start < end:
        raise ValidationFailedError("from", "'from' must be before 'to'.")
    if start_hour >= end_hour:
        raise ValidationFailedError("from", "'from' must be before 'to'.")
    if end_hour - start_hour > MAX_HOURLY_RANGE:
        raise ValidationFailedError("to", "Ask for at most 31 days of hours at a time.")
    return start_hour, end_hour


@public_type
@strawberry.type(description="One hour of a plug's energy; hours without data have coverage 0 and are missing.")
class PlugHour:
    hour: datetime = strawberry.field(description="Start of the hour, in the display timezone")
    kwh: float
    coverage: float = strawberry.field(description="Share of the hour (0-1) covered by readings")
    missing: bool = strawberry.field(description="Coverage below 0.9: show 'data missing', not a saving")
    resets: int = strawberry.field(description="Times the plug's energy counter restarted in this hour")


@public_type
@strawberry.type(description="A plug's hourly energy over [start, end).")
class PlugHourly:
    start: datetime
    end: datetime
    hours: list[PlugHour]


PlugHourlyResult = result_union("PlugHourlyResult", PlugHourly, ValidationFailed)


@public_type
@strawberry.type(description="A plug's always-on (standby) power, read from its quietest night hours "
                             "(01-05 local) over the last 14 days, and what it costs over a year.")
class PlugStandby:
    watts: float
    kwh_per_year: float
    won_per_year: int = strawberry.field(description="At the configured electricity price")
    night_hours: int = strawberry.field(description="Well-covered night hours the estimate rests on")


@public_type
@strawberry.type(description="A request to switch a plug's relay and how far it got.")
class PlugCommand:
    id: strawberry.ID
    on: bool
    purpose: str = strawberry.field(description="manual, or what switched it (e.g. a DR event)")
    status: PlugCommandStatus  # type: ignore[valid-type]
    attempts: int = strawberry.field(description="Times the command was sent to the device")
    created_at: datetime
    sent_at: datetime | None
    finished_at: datetime | None
    error: str | None = strawberry.field(description="Why it failed, in words for the household")

    @classmethod
    def from_model(cls, command: PlugCommandModel, tz_name: str) -> PlugCommand:
        return cls(id=strawberry.ID(str(command.id)), on=command.switch_on, purpose=command.purpose,
                   status=PlugCommandStatus(command.status.value), attempts=command.attempts,
                   created_at=to_display(command.created_at, tz_name), sent_at=to_display(command.sent_at, tz_name),
                   finished_at=to_display(command.finished_at, tz_name), error=command.error)


@strawberry.type(description="A smart plug paired to a household. Reachable by the household's members and operators.")
class Plug:
    id: strawberry.ID = visible()
    name: str = visible()
    vendor: PlugVendor = visible()  # type: ignore[valid-type]
    household_id: strawberry.Private[int]
    model: strawberry.Private[PlugModel]

    @classmethod
    def from_model(cls, plug: PlugModel) -> Plug:
        return cls(id=strawberry.ID(str(plug.id)), name=plug.name, vendor=PlugVendor(plug.vendor.value),
                   household_id=plug.household_id, model=plug)

    @strawberry.field(permission_classes=[CanManageHousehold],
                      description="The vendor's device id (what pairing uses): parents and operators only.")
    def device_id(self) -> str | None:
        return self.model.device_id

    @visible(description="The device's outlet or meter channel, from 0 (one plug per paired channel).")
    def channel(self) -> int:
        return self.model.channel

    @visible(description="A whole-home meter channel (Shelly EM/3EM): shown, never switched, not a plug load.")
    def meter(self) -> bool:
        return self.model.meter

    @strawberry.field(permission_classes=[CanManageHousehold],
                      description="The device's own topic layout chosen at pairing; null for the vendor "
                                  "default. Parents and operators only.")
    def topic_template(self) -> str | None:
        return self.model.topic_template

    @visible()
    def paired_at(self, info: Info) -> datetime:
        return to_display(self.model.paired_at, info.context.settings.display_timezone)

    @visible(description="Set once the plug was unpaired; its past data stays with the household.")
    def unpaired_at(self, info: Info) -> datetime | None:
        return to_display(self.model.unpaired_at, info.context.settings.display_timezone)

    @visible(description="Reported within the last 15 minutes and not announced offline.")
    async def online(self, info: Info) -> bool:
        return (await plug_loaders(info).live.load(self.model)).online

    @visible()
    async def last_seen_at(self, info: Info) -> datetime | None:
        live = await plug_loaders(info).live.load(self.model)
        return to_display(live.last_seen_at, info.context.settings.display_timezone)

    @visible(description="Latest power in watts; null when the plug is offline or has not reported lately.")
    async def power_w(self, info: Info) -> float | None:
        return (await plug_loaders(info).live.load(self.model)).power_w

    @visible(description="The relay's last confirmed state, if the plug reports it.")
    def relay_on(self) -> bool | None:
        return self.model.relay_on

    @visible(description="The plug's clock is unset or wrong (its readings are timed by the platform); "
                         "set NTP and the time zone on the device. Null until it has sent a timed reading.")
    def clock_off(self) -> bool | None:
        return self.model.clock_off

    @visible(description="The plug is feeding energy back to the grid now (balcony solar); null if it never reported.")
    def exporting(self) -> bool | None:
        return self.model.exporting

    @visible(description="Energy this plug has fed back to the grid by its own counter, kWh. A plug that "
                         "feeds in never counts towards savings.")
    def returned_kwh(self) -> float | None:
        return None if self.model.returned_wh is None else self.model.returned_wh / 1000.0

    @visible(description="A parent allowed DR events to switch this plug off (and back on) automatically.")
    def dr_automation(self) -> bool:
        return self.model.dr_automation

    @visible(description="Always-on power and its yearly cost; null until there are enough night readings.")
    async def standby(self, info: Info) -> PlugStandby | None:
        found = await plug_loaders(info).standby.load(self.model.id)
        if found is None:
            return None
        return PlugStandby(watts=round(found.watts, 2), kwh_per_year=round(found.kwh_per_year, 2),
                           won_per_year=round(found.won_per_year), night_hours=found.samples)

    @visible(description="The newest switch command and whether the plug confirmed it.")
    async def last_command(self, info: Info) -> PlugCommand | None:
        command = await plug_loaders(info).last_command.load(self.model.id)
        return PlugCommand.from_model(command, info.context.settings.display_timezone) if command else None

    @visible(description="kWh since local midnight (display timezone).")
    async def today_kwh(self, info: Info) -> float:
        return _kwh((await plug_loaders(info).energy.load(self.model.id)).today_wh)

    @visible(description="Share (0-1) of today's hours so far with data; below 0.9 some data is missing.")
    async def today_coverage(self, info: Info) -> float:
        return _share((await plug_loaders(info).energy.load(self.model.id)).today_coverage)

    @visible(description="kWh since the first of the month, local time.")
    async def month_kwh(self, info: Info) -> float:
        return _kwh((await plug_loaders(info).energy.load(self.model.id)).month_wh)

    @visible(description="Share (0-1) of this month's hours so far with data.")
    async def month_coverage(self, info: Info) -> float:
        return _share((await plug_loaders(info).energy.load(self.model.id)).month_coverage)

    @visible(description="Hourly energy in whole hours covering [from, to) (default: the last 24 hours); "
                         "at most 31 days.")
    @returns_errors
    async def hourly(
        self, info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> PlugHourlyResult:
        loaders = plug_loaders(info)
        start, end = hourly_range(from_, to, loaders.now)
        points = await loaders.hours.load((self.model.id, start, end))
        tz = info.context.settings.display_timezone
        return PlugHourly(
            start=to_display(start, tz), end=to_display(end, tz),
            hours=[PlugHour(hour=to_display(p.hour, tz), kwh=_kwh(p.energy_wh), coverage=_share(p.coverage),
                            missing=p.coverage < MISSING_BELOW, resets=p.resets) for p in points],
        )


@public_type
@strawberry.type
class PlugList:
    items: list[Plug]


@public_type
@strawberry.type(description="Give this code to whoever pairs the plug (app, installer, home bridge) before it expires.")
class PlugPairingCode:
    code: str
    expires_at: datetime


@public_type
@strawberry.type(description="What to enter in the device's MQTT settings now (the password is shown once).")
class PlugDeviceSetup:
    host: str | None = strawberry.field(description="The broker's host as devices reach it (null: not configured)")
    port: int | None
    tls: bool = strawberry.field(description="Connect with TLS (Tasmota SetOption103 1, Shelly \"Use TLS\")")
    username: str
    password: str = strawberry.field(description="Shown once; enter it now.")
    topic: str | None = strawberry.field(description="Tasmota only: Topic")
    full_topic: str | None = strawberry.field(description="Tasmota only: Full Topic")
    prefix: str | None = strawberry.field(description="Shelly Gen2+ only: MQTT prefix")


@public_type
@strawberry.type
class PlugPaired:
    plug: Plug
    plugs: list[Plug] = strawberry.field(
        default_factory=list, description="One plug per paired channel (the first is `plug`).")
    token: str | None = strawberry.field(
        description="HTTP-push plugs only: the token the bridge sends with readings. Shown once; store it now.")
    mqtt_username: str | None = strawberry.field(
        default=None, description="MQTT plugs only: the user name to set in the device's MQTT settings.")
    mqtt_password: str | None = strawberry.field(
        default=None, description="MQTT plugs only: the device's MQTT password. Shown once; enter it now.")
    device_setup: PlugDeviceSetup | None = strawberry.field(
        default=None, description="MQTT plugs only: everything to enter in the device's MQTT settings.")


@public_type
@strawberry.type
class PlugReadingRejected:
    index: int = strawberry.field(description="Position of the reading in the pushed list")
    reason: str


@public_type
@strawberry.type
class PlugReadingsPushed:
    accepted: int
    duplicates: int = strawberry.field(description="Readings stored before (same plug and timestamp)")
    rejected: list[PlugReadingRejected]
    replayed: bool = strawberry.field(description="This batch id was pushed before; the first result is returned")


@public_type
@strawberry.type(description="Rejected plug messages of one UTC day, vendor ('*' for duplicates) and reason.")
class PlugRejectCount:
    day: date
    vendor: str
    reason: str
    count: int


@public_type
@strawberry.type
class PlugIngestStats:
    items: list[PlugRejectCount]
