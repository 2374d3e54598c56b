"""The pure rules of DR events: validation, overlap, opt-out deadline, what is due, forgiveness.

No I/O: plain values in, decisions out, so every rule is tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from backend.dr.models import DrScope, DrState
from backend.errors import ValidationFailed

TITLE_MAX = 80
MAX_TARGET_KW = 10_000_000.0  # 10 GW: anything above is a typo, not a plan


@dataclass(frozen=True)
class Window:
    starts_at: datetime
    ends_at: datetime

    def overlaps(self, other: Window) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


@dataclass(frozen=True)
class Area:
    """Where an event applies: the scope plus the municipality it lies in (for a school, the
    school's municipality)."""

    scope: DrScope
    municipality_id: int | None = None
    school_id: int | None = None

    def intersects(self, other: Area) -> bool:
        """National overlaps everything; a municipality overlaps itself and its schools; a
        school overlaps itself and its municipality."""
        if DrScope.NATIONAL in (self.scope, other.scope):
            return True
        if self.municipality_id != other.municipality_id:
            return False
        if self.scope is DrScope.SCHOOL and other.scope is DrScope.SCHOOL:
            return self.school_id == other.school_id
        return True


@dataclass(frozen=True)
class Limits:
    min_notice: timedelta
    max_duration: timedelta
    min_duration: timedelta = timedelta(minutes=5)


def validate_new_event(title: str, window: Window, target_kw: float, short_notice: bool, now: datetime,
                       limits: Limits) -> str:
    """The cleaned title, or ``ValidationFailed`` naming the first wrong field."""
    cleaned = " ".join(str(title).split())
    if not 1 <= len(cleaned) <= TITLE_MAX:
        raise ValidationFailed("title", f"A title has 1 to {TITLE_MAX} characters.")
    for name, value in (("startsAt", window.starts_at), ("endsAt", window.ends_at)):
        if value.utcoffset() is None:
            raise ValidationFailed(name, "Give the time with its UTC offset (e.g. 2026-07-01T14:00:00+09:00).")
    if not window.ends_at > window.starts_at:
        raise ValidationFailed("endsAt", "The end must be after the start.")
    if window.starts_at <= now:
        raise ValidationFailed("startsAt", "The start must be in the future.")
    duration = window.ends_at - window.starts_at
    if duration < limits.min_duration:
        raise ValidationFailed("endsAt", f"An event lasts at least {_minutes(limits.min_duration)} minutes.")
    if duration > limits.max_duration:
        raise ValidationFailed("endsAt", f"An event lasts at most {_minutes(limits.max_duration)} minutes.")
    if not (target_kw > 0 and target_kw <= MAX_TARGET_KW):  # also refuses NaN
        raise ValidationFailed("targetKw", "The target must be a positive number of kW (at most 10 GW).")
    if not short_notice and window.starts_at - now < limits.min_notice:
        raise ValidationFailed(
            "startsAt", f"Announce an event at least {_minutes(limits.min_notice)} minutes ahead, or flag it as "
                        "short notice (its households are then forgiven automatically).")
    return cleaned


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def conflicts(area: Area, window: Window, others: Iterable[tuple[Area, Window]]) -> bool:
    """Whether an event would overlap another live one in time and in place."""
    return any(area.intersects(a) and window.overlaps(w) for a, w in others)


def opt_out_deadline(starts_at: datetime, grace: timedelta) -> datetime:
    """Households may opt out until ``grace`` after the start."""
    return starts_at + grace


def check_decision(opt_out: bool, state: DrState, starts_at: datetime, now: datetime, grace: timedelta) -> None:
    """Opting out is allowed until the deadline; opting back in only before the start."""
    if state in (DrState.ENDED, DrState.CANCELLED):
        raise ValidationFailed("eventId", "This event is over.")
    if opt_out and now > opt_out_deadline(starts_at, grace):
        raise ValidationFailed("optedIn", f"Opting out is possible until {_minutes(grace)} minutes after the start.")
    if not opt_out and now >= starts_at:
        raise ValidationFailed("optedIn", "Opting back in is possible only before the event starts.")


class Step(StrEnum):
    NOTIFY = "notify"
    START = "start"
    END = "end"
    NONE = "none"


def due(state: DrState, starts_at: datetime, ends_at: datetime, now: datetime) -> Step:
    """The next transition the clock calls for (one step at a time: scheduled → notified →
    running → ended). An event whose whole window passed while no worker ran still goes
    through start (which switches nothing once the end has passed) and end."""
    if state is DrState.SCHEDULED:
        return Step.NOTIFY
    if state is DrState.NOTIFIED and now >= starts_at:
        return Step.START
    if state is DrState.RUNNING and now >= ends_at:
        return Step.END
    return Step.NONE


class Forgiven(StrEnum):
    SHORT_NOTICE = "short_notice"
    LATE_NOTICE = "late_notice"
    SWITCH_FAILED = "switch_failed"
    RESTORE_FAILED = "restore_failed"


def notice_forgiveness(short_notice: bool, starts_at: datetime, notified_at: datetime,
                       min_notice: timedelta) -> Forgiven | None:
    """A short-notice event, or a household told later than the minimum notice before the start."""
    if short_notice:
        return Forgiven.SHORT_NOTICE
    if notified_at > starts_at - min_notice:
        return Forgiven.LATE_NOTICE
    return None


def command_forgiveness(off_failed: int, restore_failed: int) -> Forgiven | None:
    """The platform failed to switch a plug off, or to switch it back on."""
    if off_failed:
        return Forgiven.SWITCH_FAILED
    if restore_failed:
        return Forgiven.RESTORE_FAILED
    return None
