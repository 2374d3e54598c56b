"""The conversion formula of one programme year, as pure functions over plain numbers.

kWh saved -> points (:func:`kwh_to_points`); points -> volunteer minutes for students
(:func:`convert_to_volunteer_minutes`); points -> mileage in won (:func:`convert_to_mileage`);
mileage -> local coins (:func:`convert_to_coins`). Every number comes from
``data/conversion.<year>.json``; :func:`load_rules` validates it. Bad input raises
:class:`backend.errors.ValidationFailed` naming the argument.

Rounding: everything is rounded DOWN to whole units (points, minutes, won, coin units); whatever
does not make a whole unit stays on the balance it came from (``points_left``, ``mileage_left``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from backend.errors import ValidationFailed
from backend.numbers import read_versioned_json, to_decimal, versions_in

DATA_DIR = Path(__file__).parent / "data"
_FILE_RE = re.compile(r"^conversion\.(\d{4})\.json$")
MAX_POINTS = 10**12
MAX_WON = 10**13
MINUTES_PER_DAY = 24 * 60
LEGAL_MAX_MINUTES_PER_DAY = 8 * 60  # volunteer-service rules: at most 8 hours a day


class RulesError(ValidationFailed):
    """The conversion data file is invalid; ``field`` is the JSON path of the bad value."""


@dataclass(frozen=True)
class ConversionRules:
    programme_year: int
    points_per_kwh: int
    weights: tuple[tuple[str, Decimal], ...]  # basis -> weight
    dr_event_multiplier: Decimal
    max_kwh_per_entry: Decimal
    points_per_minute: int
    max_minutes_per_day: int
    max_minutes_per_month: int
    neis_unit_minutes: int
    points_per_block: int
    won_per_block: int
    coin_threshold_won: int
    coin_unit_won: int
    coin_max_won_per_month: int
    kg_co2eq_per_kwh: Decimal

    def weight(self, basis: str) -> Decimal:
        for name, w in self.weights:
            if name == basis:
                return w
        raise ValidationFailed("basis", f"basis must be one of {', '.join(n for n, _ in self.weights)}.")


@dataclass(frozen=True)
class PointsResult:
    kwh: Decimal
    basis: str
    during_dr_event: bool
    weight: Decimal  # basis weight x DR multiplier (when in an event)
    exact_points: Decimal  # before rounding down
    points: int
    reason: str


@dataclass(frozen=True)
class VolunteerResult:
    minutes: int  # granted now (for the 1365 portal, which records minutes)
    points_used: int
    points_left: int
    capped_by: str | None  # None | "daily_cap" | "monthly_cap"
    today_minutes_after: int
    month_minutes_after: int
    neis_hours_month: int  # whole hours of this month's total, for NEIS
    neis_carry_minutes: int  # minutes of this month's total not yet a whole hour
    reason: str


@dataclass(frozen=True)
class MileageResult:
    won: int
    points_used: int
    points_left: int
    reason: str


@dataclass(frozen=True)
class CoinResult:
    coins_won: int  # value of local coins issued now
    mileage_used: int
    mileage_left: int
    capped_by: str | None  # None | "below_threshold" | "monthly_cap" | "budget"
    month_won_after: int
    budget_left_after: int
    reason: str


# --------------------------------------------------------------------------- inputs


def _number(value: Any, field: str) -> Decimal:
    value = to_decimal(value, field)
    if value < 0:
        raise ValidationFailed(field, f"{field} must not be negative.")
    return value


def _whole(value: Any, field: str, maximum: int) -> int:
    if type(value) is int and 0 <= value <= maximum:  # the common case, e.g. a settlement's balances
        return value
    number = _number(value, field)
    if number > maximum:
        raise ValidationFailed(field, f"{field} must be at most {maximum}.")
    if number != number.to_integral_value():
        raise ValidationFailed(field, f"{field} must be a whole number.")
    return int(number)


# --------------------------------------------------------------------------- kWh -> points


def kwh_to_points(kwh: Any, basis: str, during_dr_event: bool, rules: ConversionRules) -> PointsResult:
    """Points for one saving: kWh x points_per_kwh x basis weight (x DR multiplier), rounded down."""
    amount = _number(kwh, "kwh")
    if amount > rules.max_kwh_per_entry:
        raise ValidationFailed("kwh", f"kwh must be at most {rules.max_kwh_per_entry} for one entry.")
    if not isinstance(during_dr_event, bool):
        raise ValidationFailed("duringDrEvent", "duringDrEvent must be true or false.")
    if not isinstance(basis, str):
        raise ValidationFailed("basis", "basis must be a string.")
    weight = rules.weight(basis) * (rules.dr_event_multiplier if during_dr_event else 1)
    exact = amount * rules.points_per_kwh * weight
    points = int(exact.to_integral_value(rounding=ROUND_DOWN))
    event = f" x {rules.dr_event_multiplier} (DR event)" if during_dr_event else ""
    reason = (f"{amount} kWh x {rules.points_per_kwh} points/kWh x {rules.weight(basis)} ({basis}){event}"
              f" = {exact.normalize():f} -> {points} points (rounded down)")
    return PointsResult(amount, basis, during_dr_event, weight, exact, points, reason)


def avoided_co2_kg(kwh: Any, rules: ConversionRules) -> Decimal:
    """kg CO2eq avoided by a saving, at the year's grid emission factor, to 1 g (rounded down)."""
    amount = _number(kwh, "kwh")
    if amount > rules.max_kwh_per_entry:
        raise ValidationFailed("kwh", f"kwh must be at most {rules.max_kwh_per_entry} for one entry.")
    return (amount * rules.kg_co2eq_per_kwh).quantize(Decimal("0.001"), rounding=ROUND_DOWN)


# --------------------------------------------------------------------------- points -> volunteer time


def neis_split(total_minutes: Any, rules: ConversionRules) -> tuple[int, int]:
    """(whole NEIS hours, minutes carried) of a total; the 1365 portal keeps the minutes."""
    total = _whole(total_minutes, "totalMinutes", MAX_POINTS)
    return divmod(total, rules.neis_unit_minutes)


def convert_to_volunteer_minutes(points: Any, already_today_min: Any, already_month_min: Any,
                                 rules: ConversionRules) -> VolunteerResult:
    """Turn points into whole volunteer minutes within the daily and monthly caps.

    Granted = min(points // points_per_minute, daily room, monthly room); only the points of the
    granted minutes are used, the rest stay on the balance.
    """
    balance = _whole(points, "points", MAX_POINTS)
    today = _whole(already_today_min, "alreadyTodayMinutes", MINUTES_PER_DAY)
    month = _whole(already_month_min, "alreadyMonthMinutes", 31 * MINUTES_PER_DAY)
    if today > month:
        raise ValidationFailed("alreadyTodayMinutes", "Today's minutes cannot exceed this month's.")
    affordable = balance // rules.points_per_minute
    day_room = max(0, rules.max_minutes_per_day - today)
    month_room = max(0, rules.max_minutes_per_month - month)
    minutes = min(affordable, day_room, month_room)
    capped_by = None
    if minutes < affordable:
        capped_by = "monthly_cap" if month_room <= day_room else "daily_cap"
    used = minutes * rules.points_per_minute
    month_after = month + minutes
    hours, carry = divmod(month_after, rules.neis_unit_minutes)
    if capped_by == "daily_cap":
        reason = f"daily cap of {rules.max_minutes_per_day} min reached ({today} min already today)"
    elif capped_by == "monthly_cap":
        reason = f"monthly cap of {rules.max_minutes_per_month} min reached ({month} min already this month)"
    else:
        reason = f"{balance} points // {rules.points_per_minute} points/min = {minutes} min"
    if balance - used:
        reason += f"; {balance - used} points kept"
    return VolunteerResult(minutes, used, balance - used, capped_by, today + minutes, month_after,
                           hours, carry, reason)


# --------------------------------------------------------------------------- points -> mileage -> coins


def convert_to_mileage(points: Any, rules: ConversionRules) -> MileageResult:
    """Whole blocks of points become won; points short of a block stay on the balance."""
    balance = _whole(points, "points", MAX_POINTS)
    blocks = balance // rules.points_per_block
    used = blocks * rules.points_per_block
    won = blocks * rules.won_per_block
    reason = (f"{balance} points // {rules.points_per_block} = {blocks} blocks x {rules.won_per_block} won"
              f" = {won} won; {balance - used} points kept")
    return MileageResult(won, used, balance - used, reason)


def convert_to_coins(mileage_won: Any, already_this_month_won: Any, budget_left_won: Any,
                     rules: ConversionRules) -> CoinResult:
    """Turn mileage into local coins once the threshold is reached, in whole units, within the
    person's monthly cap and the municipality's remaining budget."""
    mileage = _whole(mileage_won, "mileageWon", MAX_WON)
    month = _whole(already_this_month_won, "alreadyThisMonthWon", MAX_WON)
    budget = _whole(budget_left_won, "budgetLeftWon", MAX_WON)
    unit = rules.coin_unit_won

    def result(coins: int, capped_by: str | None, reason: str) -> CoinResult:
        return CoinResult(coins, coins, mileage - coins, capped_by, month + coins, budget - coins, reason)

    if mileage < rules.coin_threshold_won:
        return result(0, "below_threshold",
                      f"{mileage} won of mileage is below the {rules.coin_threshold_won} won threshold")
    wanted = mileage // unit * unit
    month_room = max(0, rules.coin_max_won_per_month - month) // unit * unit
    budget_room = budget // unit * unit
    coins = min(wanted, month_room, budget_room)
    if coins == wanted:
        capped_by, why = None, f"{mileage} won -> {coins} won in {unit} won units"
    elif budget_room < month_room:
        capped_by, why = "budget", f"municipality budget left ({budget} won) allows only {coins} won"
    else:
        capped_by, why = "monthly_cap", (f"monthly cap of {rules.coin_max_won_per_month} won"
                                         f" ({month} won already this month) allows only {coins} won")
    if mileage - coins:
        why += f"; {mileage - coins} won of mileage kept"
    return result(coins, capped_by, why)


# --------------------------------------------------------------------------- loading


def available_years() -> tuple[int, ...]:
    return versions_in(DATA_DIR, _FILE_RE)


@functools.cache
def load_rules(year: int | None = None) -> ConversionRules:
    """Load and validate ``conversion.<year>.json`` (the latest year when None)."""
    year, data = read_versioned_json(DATA_DIR, _FILE_RE, "conversion.{}.json", year, "year")
    rules = rules_from_dict(data)
    if rules.programme_year != year:
        raise RulesError("$.programme_year", f"conversion.{year}.json says programme year {rules.programme_year}.")
    return rules


def rules_from_dict(data: Any) -> ConversionRules:
    """Validate a conversion document (parsed JSON) and build :class:`ConversionRules`."""
    d = _obj(data, "$")
    if d.get("schema") != "pvpp.conversion":
        raise RulesError("$.schema", "schema must be 'pvpp.conversion'.")
    year = _int(d, "programme_year", "$", 2000, 2100)
    p = _obj(d.get("points"), "$.points")
    weights_raw = _obj(p.get("weights"), "$.points.weights")
    if set(weights_raw) != {"measured", "deemed", "none"}:
        raise RulesError("$.points.weights", "weights must be given for exactly measured, deemed and none.")
    weights = tuple((k, _dec(weights_raw, k, "$.points.weights", maximum=Decimal(1))) for k in sorted(weights_raw))
    if p.get("rounding") != "down":
        raise RulesError("$.points.rounding", "Only rounding 'down' is supported.")
    for section in ("points", "volunteer", "mileage", "coins", "carbon"):
        _text(_obj(d.get(section), f"$.{section}"), "source", f"$.{section}")
    v = _obj(d.get("volunteer"), "$.volunteer")
    per_day = _int(v, "max_minutes_per_day", "$.volunteer", 1, LEGAL_MAX_MINUTES_PER_DAY)
    per_month = _int(v, "max_minutes_per_month", "$.volunteer", 1, 31 * LEGAL_MAX_MINUTES_PER_DAY)
    m = _obj(d.get("mileage"), "$.mileage")
    c = _obj(d.get("coins"), "$.coins")
    unit = _int(c, "unit_won", "$.coins", 1, 10**7)
    cap = _int(c, "max_won_per_month", "$.coins", unit, 10**8)
    if cap % unit:
        raise RulesError("$.coins.max_won_per_month", "max_won_per_month must be a whole number of units.")
    threshold = _int(c, "threshold_won", "$.coins", 0, cap)
    return ConversionRules(
        programme_year=year,
        points_per_kwh=_int(p, "points_per_kwh", "$.points", 1, 10**6),
        weights=weights,
        dr_event_multiplier=_dec(p, "dr_event_multiplier", "$.points", minimum=Decimal(1), maximum=Decimal(10)),
        max_kwh_per_entry=_dec(p, "max_kwh_per_entry", "$.points", minimum=Decimal("0.001"), maximum=Decimal(10**6)),
        points_per_minute=_int(v, "points_per_minute", "$.volunteer", 1, 10**6),
        max_minutes_per_day=per_day,
        max_minutes_per_month=per_month,
        neis_unit_minutes=_int(v, "neis_unit_minutes", "$.volunteer", 1, MINUTES_PER_DAY),
        points_per_block=_int(m, "points_per_block", "$.mileage", 1, 10**6),
        won_per_block=_int(m, "won_per_block", "$.mileage", 1, 10**6),
        coin_threshold_won=threshold,
        coin_unit_won=unit,
        coin_max_won_per_month=cap,
        kg_co2eq_per_kwh=_dec(_obj(d.get("carbon"), "$.carbon"), "kg_co2eq_per_kwh", "$.carbon", maximum=Decimal(2)),
    )


def _obj(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise RulesError(path, f"{path} must be an object.")
    return value


def _text(d: dict, key: str, path: str) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RulesError(f"{path}.{key}", f"{key} must be a non-empty string.")
    return value


def _int(d: dict, key: str, path: str, minimum: int, maximum: int) -> int:
    value = d.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise RulesError(f"{path}.{key}", f"{key} must be a whole number from {minimum} to {maximum}.")
    return value


def _dec(d: dict, key: str, path: str, minimum: Decimal = Decimal(0), maximum: Decimal | None = None) -> Decimal:
    value = d.get(key)
    if not isinstance(value, str):
        raise RulesError(f"{path}.{key}", f"{key} must be a decimal written as a string.")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise RulesError(f"{path}.{key}", f"{key} is not a decimal number.") from None
    if not number.is_finite() or number < minimum or (maximum is not None and number > maximum):
        raise RulesError(f"{path}.{key}", f"{key} must be a finite number from {minimum} to {maximum}.")
    return number
