"""Switching plugs: commands as an outbox that bridges publish and devices confirm.

:func:`queue_switch` (the API, a DR event) writes a PENDING row and supersedes any unfinished
command for the same plug. A bridge's :class:`CommandDispatcher` claims pending rows, publishes
the vendor's switch command at QoS 1 and marks them SENT; the device's next report of its
relay (Tasmota ``stat/<t>/POWER`` or STATE, Shelly ``relay/0``, Gen2 ``status/switch:0``) is
matched by the ingestor (:func:`confirm`) and marks the command CONFIRMED. Without a
confirmation within ``confirm_s`` the command is sent again, up to ``attempts`` sends, and then
FAILED — a DR event treats that as the platform's failure, never the household's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from backend.accounts.principal import Principal
from backend.errors import NotAllowed, ValidationFailed
from backend.plugs.models import CommandStatus, Plug, PlugCommand
from backend.plugs.readings import Vendor
from backend.plugs.topics import command_topic
from backend.plugs.vendors import COMMAND_CHANNELS, switch_command

UNFINISHED = (CommandStatus.PENDING, CommandStatus.SENT)
CLAIM_BATCH = 200
Publish = Callable[[str, bytes], Awaitable[object]]


def switchable(plug: Plug) -> str | None:
    """Why the platform cannot switch this plug, or None when it can."""
    if plug.unpaired_at is not None:
        return "The plug is no longer paired."
    if plug.vendor == Vendor.HTTP:
        return "This plug reports over HTTP and cannot be switched remotely."
    if plug.meter:
        return "This is an energy meter channel; it has no switch."
    if plug.channel >= COMMAND_CHANNELS:
        return f"Outlet {plug.channel + 1} of this device cannot be switched remotely."
    return None


async def queue_switch(plug: Plug, on: bool, *, purpose: str = "manual", requested_by_id: int | None = None,
                       now: datetime | None = None) -> PlugCommand:
    """Record a switch request. A plug that cannot be switched gets a FAILED row with the
    reason, so callers such as DR events have the failure on record."""
    now = now or datetime.now(UTC)
    refusal = switchable(plug)
    async with in_transaction() as conn:
        await PlugCommand.filter(plug_id=plug.id, status__in=UNFINISHED).using_db(conn).update(
            status=CommandStatus.SUPERSEDED, finished_at=now)
        return await PlugCommand.create(
            plug_id=plug.id, switch_on=on, purpose=purpose, requested_by_id=requested_by_id,
            status=CommandStatus.FAILED if refusal else CommandStatus.PENDING,
            finished_at=now if refusal else None, error=refusal, using_db=conn)


async def request_switch(principal: Principal, plug_id: int, on: bool) -> PlugCommand:
    """A parent switches one of the household's plugs (typed errors, nothing recorded)."""
    plug = await Plug.get_or_none(id=plug_id)
    if plug is None or not principal.can_manage_household(plug.household_id):
        raise NotAllowed("Only a parent of this plug's household can switch it.")
    refusal = switchable(plug)
    if refusal:
        raise ValidationFailed("plugId", refusal)
    return await queue_switch(plug, on, requested_by_id=principal.user_id)


async def latest_commands(plug_ids: Iterable[int]) -> dict[int, PlugCommand]:
    """The newest command of each plug."""
    ids = list(plug_ids)
    if not ids:
        return {}
    latest: dict[int, PlugCommand] = {}
    for command in await PlugCommand.filter(plug_id__in=ids).order_by("plug_id", "-id"):
        latest.setdefault(command.plug_id, command)
    return latest


async def confirm(conn, reports: dict[int, tuple[bool, datetime]]) -> int:
    """Mark SENT commands confirmed by relay reports ``{plug id: (on, received at)}``;
    a report counts only if it arrived after the command was sent. Returns how many."""
    confirmed = 0
    for plug_id, (on, at) in reports.items():
        confirmed += await PlugCommand.filter(
            plug_id=plug_id, status=CommandStatus.SENT, switch_on=on, sent_at__lte=at,
        ).using_db(conn).update(status=CommandStatus.CONFIRMED, finished_at=at)
    return confirmed


async def awaiting_plugs() -> set[int]:
    """Plugs with a command waiting for the device's confirmation."""
    return set(await PlugCommand.filter(status=CommandStatus.SENT).distinct().values_list("plug_id", flat=True))


class CommandDispatcher:
    """The bridge's side: resend or fail overdue commands, then publish pending ones."""

    def __init__(self, *, confirm_s: float, attempts: int,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 learned: Mapping[str, Mapping[str, str]] | None = None) -> None:
        """``learned``: Tasmota device id -> its layout's token values the bridge has seen."""
        self.confirm_s, self.attempts, self.clock, self.learned = confirm_s, attempts, clock, learned

    async def expire(self) -> None:
        """SENT commands past their confirmation time go back to PENDING, or FAIL when
        every attempt is used."""
        overdue = self.clock() - timedelta(seconds=self.confirm_s)
        stale = PlugCommand.filter(status=CommandStatus.SENT, sent_at__lt=overdue)
        await stale.filter(attempts__gte=self.attempts).update(
            status=CommandStatus.FAILED, finished_at=self.clock(),
            error=f"The plug did not confirm the switch after {self.attempts} attempts.")
        await stale.filter(attempts__lt=self.attempts).update(status=CommandStatus.PENDING)

    async def claim(self) -> list[tuple[PlugCommand, Plug]]:
        """Take pending commands (skipping rows another bridge holds) and mark them SENT."""
        now = self.clock()
        async with in_transaction() as conn:
            rows = await (PlugCommand.filter(status=CommandStatus.PENDING).order_by("id").limit(CLAIM_BATCH)
                          .select_for_update(skip_locked=True).using_db(conn))
            if not rows:
                return []
            for row in rows:
                row.status, row.sent_at, row.attempts = CommandStatus.SENT, now, row.attempts + 1
                await row.save(update_fields=["status", "sent_at", "attempts"], using_db=conn)
            plugs = {p.id: p for p in await Plug.filter(id__in=[r.plug_id for r in rows]).using_db(conn)}
        return [(row, plugs[row.plug_id]) for row in rows]

    async def tick(self, publish: Publish) -> set[int]:
        """One round; returns the plugs whose commands were published."""
        await self.expire()
        sent: set[int] = set()
        for command, plug in await self.claim():
            topic, payload = switch_command(plug.vendor, plug.device_id, command.switch_on, request_id=command.id,
                                            channel=plug.channel)
            topic = command_topic(plug.vendor, plug.device_id, plug.topic_template, topic,
                                  self.learned.get(plug.device_id) if self.learned is not None else None)
            if "+" in topic.split("/"):
                continue  # its layout's %hostname%/%id% not seen yet: retried, then failed with a reason
            await publish(topic, payload)
            sent.add(plug.id)
        return sent
