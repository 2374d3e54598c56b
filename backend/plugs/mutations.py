"""Mutations of the smart-plug domain.

``pushPlugReadings`` is the one operation open without a session: a bridge authenticates
with the plug's own token, which the service checks (a wrong one is ``InvalidToken``).
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from backend.graphql.context import Info
from backend.graphql.errors import (
    result_union,
    AlreadyExists,
    IdempotencyConflict,
    InvalidToken,
    NotAllowed,
    RateLimited,
    ValidationFailed,
)
from backend.graphql.permissions import Anyone, IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors
from backend.graphql.scalars import to_display
from backend.plugs import commands, service
from backend.plugs.device_setup import device_setup
from backend.plugs.queries import PlugResult
from backend.plugs.readings import Vendor
from backend.plugs.types import (
    Plug,
    PlugCommand,
    PlugDeviceSetup,
    PlugPaired,
    PlugPairingCode,
    PlugReadingRejected,
    PlugReadingsPushed,
    PlugVendor,
)

PlugPairingCodeResult = result_union("PlugPairingCodeResult", PlugPairingCode, ValidationFailed, NotAllowed)
PairPlugResult = result_union("PairPlugResult", PlugPaired, InvalidToken, AlreadyExists, ValidationFailed, NotAllowed)
SwitchPlugResult = result_union("SwitchPlugResult", PlugCommand, ValidationFailed, NotAllowed)
PushPlugReadingsResult = result_union("PushPlugReadingsResult", PlugReadingsPushed, InvalidToken, IdempotencyConflict,
                                      ValidationFailed, RateLimited)


@strawberry.input(description="One reading: a timestamp and at least one of power and the energy counter.")
class PlugReadingInput:
    ts: str = strawberry.field(description="ISO 8601 with a UTC offset, e.g. 2026-05-01T12:00:00+09:00")
    power_w: float | None = strawberry.field(default=None, description="Watts")
    energy_wh: float | None = strawberry.field(
        default=None, description="The device's cumulative energy counter in watt-hours")


def _item(reading: PlugReadingInput) -> dict[str, Any]:
    item: dict[str, Any] = {"ts": reading.ts[:64]}
    if reading.power_w is not None:
        item["powerW"] = reading.power_w
    if reading.energy_wh is not None:
        item["energyWh"] = reading.energy_wh
    return item


@strawberry.type
class PlugMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="A parent (or operator): a single-use code, valid for minutes, to pair one plug.")
    @returns_errors
    async def create_plug_pairing_code(self, info: Info, household_id: strawberry.ID) -> PlugPairingCodeResult:
        issued = await service.create_pairing_code(info.context.settings, require_principal(info),
                                                   parse_id(household_id, "householdId"))
        return PlugPairingCode(code=issued.code,
                               expires_at=to_display(issued.expires_at, info.context.settings.display_timezone))

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Pair a device to the household of a pairing code (consumes the code).")
    @returns_errors
    async def pair_plug(
        self, info: Info, code: str, vendor: PlugVendor, device_id: str,  # type: ignore[valid-type]
        name: str,
        channels: Annotated[list[int] | None, strawberry.argument(
            description="The device's channels that are the household's, from 0 (outlets of a strip, "
                        "switch:N, relay/N, meter channels); one plug each. Default: [0].")] = None,
        topic_template: Annotated[str | None, strawberry.argument(
            description="Only when the device does not use the default topics: a Tasmota FullTopic "
                        "(e.g. %topic%/%prefix%/) or a Shelly Gen2 MQTT prefix of several levels.")] = None,
    ) -> PairPlugResult:
        paired = await service.pair_plug(info.context.settings, code[:64], Vendor(vendor.value), device_id[:100],
                                         name[:200], require_principal(info),
                                         channels=None if channels is None else channels[:32],
                                         topic_template=None if topic_template is None else topic_template[:200])
        plug, setup = paired.plug, None
        if paired.mqtt_password:
            setup = PlugDeviceSetup(**vars(device_setup(info.context.settings, Vendor(plug.vendor), plug.device_id,
                                                        plug.topic_template, plug.mqtt_username,
                                                        paired.mqtt_password)))
        return PlugPaired(plug=Plug.from_model(plug), token=paired.token,
                          plugs=[Plug.from_model(p) for p in paired.plugs],
                          mqtt_username=plug.mqtt_username if paired.mqtt_password else None,
                          mqtt_password=paired.mqtt_password, device_setup=setup)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    @returns_errors
    async def rename_plug(self, info: Info, plug_id: strawberry.ID, name: str) -> PlugResult:
        plug = await service.rename_plug(require_principal(info), parse_id(plug_id, "plugId"), name[:200])
        return Plug.from_model(plug)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="End the pairing; the plug's past data stays with the household.")
    @returns_errors
    async def unpair_plug(self, info: Info, plug_id: strawberry.ID) -> PlugResult:
        return Plug.from_model(await service.unpair_plug(require_principal(info), parse_id(plug_id, "plugId"),
                                                         settings=info.context.settings))

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="A parent switches a plug on or off. The command is sent to the device and "
                                     "confirmed by its state report: poll the plug's lastCommand for the outcome.")
    @returns_errors
    async def switch_plug(self, info: Info, plug_id: strawberry.ID, on: bool) -> SwitchPlugResult:
        command = await commands.request_switch(require_principal(info), parse_id(plug_id, "plugId"), on)
        return PlugCommand.from_model(command, info.context.settings.display_timezone)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="A parent allows (or stops) DR events switching this plug off automatically "
                                     "during events and back on after them. Off by default.")
    @returns_errors
    async def set_plug_dr_automation(self, info: Info, plug_id: strawberry.ID, enabled: bool) -> PlugResult:
        from backend.dr.service import set_plug_dr_automation

        return Plug.from_model(await set_plug_dr_automation(require_principal(info), parse_id(plug_id, "plugId"),
                                                            enabled))

    @strawberry.mutation(permission_classes=[Anyone],
                         description="A bridge pushes readings of an HTTP plug, authenticated by the plug's token "
                                     "(no sign-in). A batch id is taken once: resending it returns the first result.")
    @returns_errors
    async def push_plug_readings(self, info: Info, device_id: str, token: str, batch_id: str,
                                 readings: list[PlugReadingInput]) -> PushPlugReadingsResult:
        context = info.context
        limits = service.PushLimits(context.redis, context.client_address, context.settings)
        result = await service.push_readings(context.settings, device_id, token, batch_id,
                                             [_item(r) for r in readings], limits=limits)
        return PlugReadingsPushed(
            accepted=result.accepted, duplicates=result.duplicates, replayed=result.replayed,
            rejected=[PlugReadingRejected(index=i, reason=r) for i, r in result.rejected],
        )
