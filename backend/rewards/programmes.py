"""Programmes: who runs them, which schools enrol, and which programme covers a person on a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError

from backend.accounts.models import Role, User
from backend.accounts.principal import Principal
from backend.errors import AlreadyExists, NotAllowed, ValidationFailed
from backend.municipalities.models import Municipality
from backend.rewards.formula import MAX_WON, available_years
from backend.rewards.models import Programme, ProgrammeEnrolment
from backend.schools.models import School


async def create_programme(principal: Principal, municipality_id: int, name: str, year: int,
                           starts_on: date, ends_on: date, coin_budget_won: int,
                           rules_year: int | None = None) -> Programme:
    """Operators, or the municipality's own officers, start a programme year."""
    if not principal.can_view_municipality_data(municipality_id):
        raise NotAllowed("Only the municipality's officers or the operator create its programmes.")
    municipality = await Municipality.get_or_none(id=municipality_id)
    if municipality is None:
        raise ValidationFailed("municipalityId", "No such municipality.")
    years = available_years()
    if rules_year is None:
        rules_year = max((y for y in years if y <= year), default=None)
    if rules_year not in years:
        raise ValidationFailed("rulesYear", f"There are conversion rules for {', '.join(map(str, years))} only.")
    if not (starts_on.year == year and ends_on.year == year and starts_on <= ends_on):
        raise ValidationFailed("endsOn", f"The programme must run within {year}, starting before it ends.")
    if not 0 <= coin_budget_won <= MAX_WON:
        raise ValidationFailed("coinBudgetWon", f"The coin budget must be between 0 and {MAX_WON} won.")
    try:
        return await Programme.create(municipality=municipality, name=name, year=year, rules_year=rules_year,
                                      starts_on=starts_on,
                                      ends_on=ends_on, coin_budget_won=coin_budget_won)
    except IntegrityError:
        raise AlreadyExists("year", f"{municipality.name} already has a programme for {year}.") from None


async def enrol_school(principal: Principal, programme_id: int, school_id: int) -> ProgrammeEnrolment:
    """A school joins a programme of its own municipality (its admin, the officers, or the operator)."""
    programme = await Programme.get_or_none(id=programme_id)
    school = await School.get_or_none(id=school_id)
    if programme is None:
        raise ValidationFailed("programmeId", "No such programme.")
    if school is None:
        raise ValidationFailed("schoolId", "No such school.")
    allowed = (principal.can_view_municipality_data(programme.municipality_id)
               or (principal.role is Role.SCHOOL_ADMIN and principal.school_id == school_id))
    if not allowed:
        raise NotAllowed("Only the school's administrator, the municipality's officers or the operator enrol a school.")
    if school.municipality_id != programme.municipality_id:
        raise ValidationFailed("schoolId", "A school enrols in a programme of its own municipality.")
    try:
        return await ProgrammeEnrolment.create(programme=programme, school=school)
    except IntegrityError:
        raise AlreadyExists("schoolId", "The school is already enrolled in this programme.") from None


def _covering(programmes: list[Programme], on: date, field: str) -> Programme:
    for programme in programmes:
        if programme.starts_on <= on <= programme.ends_on:
            return programme
    later = [p for p in programmes if p.starts_on > on]
    if later:
        raise ValidationFailed(field, f"The programme starts on {min(p.starts_on for p in later)}; "
                                      "activities before it do not count.")
    raise ValidationFailed(field, "No programme of yours covers this date.")


async def household_programme(user: User, on: date, field: str = "occurredOn") -> Programme:
    """The programme of the municipality where the user's household lives, on a day."""
    if user.household_id is None:
        raise NotAllowed("Join a household first.")
    programmes = await Programme.filter(
        municipality__households__id=user.household_id, year=on.year
    ).prefetch_related("municipality")
    return _covering(list(programmes), on, field)


async def school_programme(user: User, on: date, field: str = "occurredOn") -> Programme:
    """The programme the student's school enrolled in (the only route to volunteer hours)."""
    if user.role is not Role.STUDENT or user.school_id is None:
        raise NotAllowed("Volunteer hours are for students of an enrolled school.")
    programmes = await Programme.filter(enrolments__school_id=user.school_id, year=on.year)
    if not programmes:
        raise NotAllowed("Your school has not enrolled in a programme, so volunteer hours cannot be issued.")
    return _covering(list(programmes), on, field)


async def programme_for_activity(user: User, on: date) -> Programme:
    """Students count through their school's programme, else through their household's."""
    if user.role is Role.STUDENT and user.school_id is not None:
        try:
            return await school_programme(user, on)
        except (NotAllowed, ValidationFailed):
            pass
    return await household_programme(user, on)


def local_date(at: datetime, tz_name: str) -> date:
    return at.astimezone(ZoneInfo(tz_name)).date()


def local_day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """The instants (in UTC) where a local day starts and ends.

    UTC because SQLite compares stored datetimes as text: a bound written with the local offset
    would be compared wrongly with values stored in UTC whenever the two dates differ.
    """
    tz = ZoneInfo(tz_name)
    start = datetime.combine(day, time(), tz)
    return start.astimezone(UTC), datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)


def local_month_bounds(year: int, month: int, tz_name: str) -> tuple[datetime, datetime]:
    """The instants (in UTC, see :func:`local_day_bounds`) where a local month starts and ends."""
    tz = ZoneInfo(tz_name)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)
