"""Plain data that flows from a plug's message to storage: no I/O, no ORM.

A vendor parser turns one MQTT message (or one HTTP push item) into one of these
records, or raises :class:`Rejected` naming why it cannot be used. Energy is always
the device's own cumulative counter, normalised to watt-hours; power is in watts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Vendor(enum.StrEnum):
    TASMOTA = "tasmota"
    SHELLY_GEN1 = "shelly_gen1"
    SHELLY_GEN2 = "shelly_gen2"
    HTTP = "http"


class RejectReason(enum.StrEnum):
    """Why a message or reading was not stored; every reject is counted by reason."""

    MALFORMED = "malformed"            # not JSON / not a number / missing fields
    WRONG_TYPE = "wrong_type"          # a field of the wrong type (string power, list total)
    UNKNOWN_TOPIC = "unknown_topic"    # a topic no vendor format matches
    UNKNOWN_DEVICE = "unknown_device"  # no plug paired under this vendor and device id
    UNPAIRED = "unpaired"              # the device was unpaired; its readings are not taken
    NEGATIVE = "negative"              # negative power or counter
    NOT_FINITE = "not_finite"          # NaN or infinity
    FUTURE = "future"                  # timestamp too far ahead of the receive time
    TOO_OLD = "too_old"                # timestamp older than the accepted delay
    SPIKE = "spike"                    # power above what a plug can carry
    COUNTER_SPIKE = "counter_spike"    # counter rose faster than the plug's maximum power
    DUPLICATE = "duplicate"            # same plug and timestamp stored before (QoS 1 redelivery)
    REPLAYED = "replayed"              # an HTTP push batch id seen before
    BAD_TOKEN = "bad_token"            # HTTP push with a wrong plug token
    OVERSIZED = "oversized"            # payload larger than accepted
    UNSUPPORTED_CHANNEL = "unsupported_channel"  # a channel of a paired device the household did not pair
    TOPIC_MISMATCH = "topic_mismatch"  # a device announces a topic layout other than the one paired


class Rejected(Exception):
    """A message that cannot become a reading; ``reason`` is counted, ``detail`` logged."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Reading:
    """One measurement of one device.

    ``ts`` is timezone-aware UTC: the device's own time when it is trusted (``device_time``
    True), otherwise the time the message was received. Either of
    ``power_w`` and ``counter_wh`` may be missing (Shelly Gen1 sends them apart).
    """

    vendor: Vendor
    device_id: str
    ts: datetime
    power_w: float | None
    counter_wh: float | None
    device_time: bool = False
    relay_on: bool | None = None
    #: the device's own clock, not yet trusted (naive: Tasmota ``Time`` in the device's zone;
    #: aware: Gen2 ``ts``); the ingestor decides the reading's time (``backend.plugs.clock``)
    clock: datetime | None = None
    #: energy fed back to the grid (Gen2 ``ret_aenergy``, Tasmota ``ExportActive``), Wh;
    #: while feeding in, ``power_w`` is negative
    returned_wh: float | None = None
    #: the outlet or meter channel of a multi-channel device (Tasmota ``Power[i]``, Shelly
    #: ``relay/i``, ``switch:i``, ``emeter/i``, ``em:i``); 0 for a single-outlet plug
    channel: int = 0
    #: a whole-home meter channel (Shelly EM/3EM): may carry far more than a plug
    meter: bool = False


@dataclass(frozen=True, slots=True)
class Availability:
    """A device's last-will / online topic: ``online`` False when it dropped off."""

    vendor: Vendor
    device_id: str
    online: bool


@dataclass(frozen=True, slots=True)
class SwitchState:
    """A device confirming its relay state (after a switch command or a button press)."""

    vendor: Vendor
    device_id: str
    on: bool
    channel: int = 0


@dataclass(frozen=True, slots=True)
class Ignored:
    """A well-formed message we do not need (e.g. Tasmota ``tele/<topic>/INFO1``)."""

    topic: str


@dataclass(frozen=True, slots=True)
class Several:
    """One message carrying several channels' records (a 4-outlet strip's NotifyStatus)."""

    items: tuple[Reading | SwitchState, ...]


Parsed = Reading | Availability | SwitchState | Ignored | Several
