"""The activity catalogue and the deemed-savings formula, as data.

``load_catalogue(version=None)`` reads ``data/activity_types.v<N>.json`` (the highest version when
``version`` is None), validates every field and returns a frozen :class:`Catalogue`.
``deemed_savings_kwh(activity_type, params)`` validates one report's parameters against the
type's limits and returns the deemed kWh as a :class:`~decimal.Decimal`, rounded down to 1 Wh.
Bad input raises :class:`backend.errors.ValidationFailed` naming the offending field.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping

from backend.errors import ValidationFailed
from backend.numbers import read_versioned_json, to_decimal, versions_in

DATA_DIR = Path(__file__).parent / "data"
_FILE_RE = re.compile(r"^activity_types\.v(\d+)\.json$")
KWH_QUANTUM = Decimal("0.001")

BASES = ("deemed", "measured", "none")
FORMULA_KINDS = ("power_x_hours", "per_unit", "per_occurrence", "load_shift", "bill_difference", "none")
PARAM_TYPES = ("decimal", "integer", "choice", "hour")


class CatalogueError(ValidationFailed):
    """The data file itself is invalid; ``field`` is the JSON path of the bad value."""


@dataclass(frozen=True)
class Option:
    """One choice of a formula: a device with its power, or a waste kind with its fixed kWh."""

    key: str
    value: Decimal  # W for devices, kWh for per-occurrence variants
    source: str


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: str  # decimal | integer | choice | hour
    required: bool = True
    min: Decimal | None = None
    max: Decimal | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Formula:
    kind: str
    source: str
    power_w: Decimal | None = None
    devices: tuple[Option, ...] = ()
    variants: tuple[Option, ...] = ()
    kwh_per_unit: Decimal | None = None
    shift_kwh_per_unit: Decimal | None = None
    min_reduction_percent: Decimal | None = None
    hours_param: str | None = None
    count_param: str | None = None
    device_param: str | None = None
    unit_param: str | None = None
    variant_param: str | None = None
    window_param: str | None = None
    this_param: str | None = None
    last_param: str | None = None

    def device(self, key: str) -> Option:
        return next(o for o in self.devices if o.key == key)

    def variant(self, key: str) -> Option:
        return next(o for o in self.variants if o.key == key)


@dataclass(frozen=True)
class ActivityType:
    key: str
    name_ko: str
    name_en: str
    basis: str  # deemed | measured | none: how the rewards formula weights the kWh
    formula: Formula
    params: tuple[ParamSpec, ...]
    photo_required: bool
    max_per_day: int
    max_per_week: int
    max_per_month: int | None
    off_peak_windows: tuple[tuple[int, int], ...] = ()

    def param(self, name: str) -> ParamSpec:
        return next(p for p in self.params if p.name == name)


@dataclass(frozen=True)
class Catalogue:
    version: int
    effective_from: str
    types: tuple[ActivityType, ...]
    off_peak_windows: tuple[tuple[int, int], ...]

    def get(self, key: str) -> ActivityType:
        for t in self.types:
            if t.key == key:
                return t
        raise ValidationFailed("activityType", f"Unknown activity type {key!r}.")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.types)


# --------------------------------------------------------------------------- numbers


def _check_range(value: Decimal, spec: ParamSpec, field: str) -> None:
    if value < 0:
        raise ValidationFailed(field, f"{field} must not be negative.")
    if spec.min is not None and value < spec.min:
        raise ValidationFailed(field, f"{field} must be at least {spec.min}{_u(spec)}.")
    if spec.max is not None and value > spec.max:
        raise ValidationFailed(field, f"{field} must be at most {spec.max}{_u(spec)}.")


def _u(spec: ParamSpec) -> str:
    return f" {spec.unit}" if spec.unit else ""


def validate_params(activity_type: ActivityType, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check one report's parameters; return them normalised (Decimal, int or str)."""
    if not isinstance(params, Mapping):
        raise ValidationFailed("params", "params must be an object.")
    known = {p.name for p in activity_type.params}
    for name in params:
        if name not in known:
            raise ValidationFailed(f"params.{name}", f"Unknown parameter {name!r} for {activity_type.key}.")
    out: dict[str, Any] = {}
    for spec in activity_type.params:
        field = f"params.{spec.name}"
        if spec.name not in params or params[spec.name] is None:
            if spec.required:
                raise ValidationFailed(field, f"{spec.name} is required.")
            continue
        raw = params[spec.name]
        if spec.type == "choice":
            if not isinstance(raw, str) or raw not in spec.choices:
                raise ValidationFailed(field, f"{spec.name} must be one of {', '.join(spec.choices)}.")
            out[spec.name] = raw
            continue
        value = to_decimal(raw, field)
        if spec.type in ("integer", "hour"):
            if value != value.to_integral_value():
                raise ValidationFailed(field, f"{spec.name} must be a whole number.")
            if spec.type == "hour" and not 0 <= value <= 23:
                raise ValidationFailed(field, f"{spec.name} must be an hour from 0 to 23.")
            _check_range(value, spec, field)
            out[spec.name] = int(value)
        else:
            _check_range(value, spec, field)
            out[spec.name] = value
    return out


def in_window(hour: int, windows: tuple[tuple[int, int], ...]) -> bool:
    """Whether an hour of day falls in one of the [start, end) windows (which may wrap midnight)."""
    for start, end in windows:
        if start < end and start <= hour < end:
            return True
        if start > end and (hour >= start or hour < end):
            return True
    return False


# --------------------------------------------------------------------------- formulas


def deemed_savings_kwh(activity_type: ActivityType, params: Mapping[str, Any]) -> Decimal:
    """The kWh this report is credited with, rounded down to 0.001 kWh.

    Raises ValidationFailed for missing, unknown, non-numeric, negative, NaN, infinite, huge or
    over-limit parameters. Load-shift activities (laundry) return 0: see :func:`load_shift_kwh`.
    """
    p = validate_params(activity_type, params)
    f = activity_type.formula
    if f.kind == "power_x_hours":
        power = f.device(p[f.device_param]).value if f.device_param else f.power_w
        count = Decimal(p[f.count_param]) if f.count_param else Decimal(1)
        kwh = power * p[f.hours_param] * count / Decimal(1000)
    elif f.kind == "per_unit":
        kwh = f.kwh_per_unit * p[f.unit_param]
    elif f.kind == "per_occurrence":
        kwh = f.variant(p[f.variant_param]).value
    elif f.kind == "load_shift":
        _check_off_peak(activity_type, p)
        kwh = f.kwh_per_unit * p[f.unit_param]
    elif f.kind == "bill_difference":
        kwh = _bill_saving(f, p)
    else:  # "none"
        kwh = Decimal(0)
    return kwh.quantize(KWH_QUANTUM, rounding=ROUND_DOWN)


def load_shift_kwh(activity_type: ActivityType, params: Mapping[str, Any]) -> Decimal:
    """kWh moved out of peak hours by a load-shift activity (0 for every other kind)."""
    p = validate_params(activity_type, params)
    f = activity_type.formula
    if f.kind != "load_shift":
        return Decimal("0.000")
    _check_off_peak(activity_type, p)
    return (f.shift_kwh_per_unit * p[f.unit_param]).quantize(KWH_QUANTUM, rounding=ROUND_DOWN)


def _check_off_peak(activity_type: ActivityType, p: dict[str, Any]) -> None:
    name = activity_type.formula.window_param
    if not in_window(p[name], activity_type.off_peak_windows):
        windows = ", ".join(f"{s:02d}:00-{e:02d}:00" for s, e in activity_type.off_peak_windows)
        raise ValidationFailed(f"params.{name}", f"The wash must start in off-peak hours ({windows}).")


def _bill_saving(f: Formula, p: dict[str, Any]) -> Decimal:
    this, last = p[f.this_param], p[f.last_param]
    if last <= 0 or this >= last:
        return Decimal(0)
    reduction = last - this
    if reduction * 100 < f.min_reduction_percent * last:
        return Decimal(0)
    return reduction


def check_frequency(activity_type: ActivityType, already_today: int, already_this_week: int,
                    already_this_month: int = 0) -> None:
    """Raise ValidationFailed if one more report would exceed the per-day/week/month limits."""
    counts = {"alreadyToday": already_today, "alreadyThisWeek": already_this_week,
              "alreadyThisMonth": already_this_month}
    for field, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValidationFailed(field, f"{field} must be a whole number of at least 0.")
    limits = (("alreadyToday", already_today, activity_type.max_per_day, "a day"),
              ("alreadyThisWeek", already_this_week, activity_type.max_per_week, "a week"),
              ("alreadyThisMonth", already_this_month, activity_type.max_per_month, "a month"))
    for field, n, limit, period in limits:
        if limit is not None and n + 1 > limit:
            raise ValidationFailed(field, f"{activity_type.name_en} can be reported at most {limit} times {period}.")


# --------------------------------------------------------------------------- loading


def available_versions() -> tuple[int, ...]:
    return versions_in(DATA_DIR, _FILE_RE)


@functools.cache
def load_catalogue(version: int | None = None) -> Catalogue:
    """Load and validate ``activity_types.v<version>.json`` (the newest when None)."""
    version, data = read_versioned_json(DATA_DIR, _FILE_RE, "activity_types.v{}.json", version, "version")
    catalogue = parse_catalogue(data)
    if catalogue.version != version:
        raise CatalogueError("version", f"File v{version} says version {catalogue.version}.")
    return catalogue


def parse_catalogue(data: Any) -> Catalogue:
    """Validate a catalogue document (already parsed JSON) and build the frozen objects."""
    d = _obj(data, "$")
    if d.get("schema") != "pvpp.activity_types":
        raise CatalogueError("$.schema", "schema must be 'pvpp.activity_types'.")
    version = _int(d, "version", "$", minimum=1)
    effective_from = _text(d, "effective_from", "$")
    windows = []
    for i, w in enumerate(_list(d, "off_peak_windows", "$")):
        path = f"$.off_peak_windows[{i}]"
        w = _obj(w, path)
        start, end = _int(w, "start_hour", path, 0, 23), _int(w, "end_hour", path, 0, 23)
        if start == end:
            raise CatalogueError(path, "An off-peak window must not be empty.")
        _text(w, "source", path)
        windows.append((start, end))
    types = []
    seen: set[str] = set()
    for i, raw in enumerate(_list(d, "activity_types", "$")):
        t = _parse_type(raw, f"$.activity_types[{i}]", tuple(windows))
        if t.key in seen:
            raise CatalogueError(f"$.activity_types[{i}].key", f"Duplicate key {t.key!r}.")
        seen.add(t.key)
        types.append(t)
    if not types:
        raise CatalogueError("$.activity_types", "The catalogue has no activity types.")
    return Catalogue(version, effective_from, tuple(types), tuple(windows))


def _parse_type(raw: Any, path: str, windows: tuple[tuple[int, int], ...]) -> ActivityType:
    t = _obj(raw, path)
    key = _text(t, "key", path)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
        raise CatalogueError(f"{path}.key", "key must be snake_case.")
    basis = _text(t, "basis", path)
    if basis not in BASES:
        raise CatalogueError(f"{path}.basis", f"basis must be one of {BASES}.")
    params = tuple(_parse_param(p, f"{path}.params[{j}]") for j, p in enumerate(_list(t, "params", path)))
    if len({p.name for p in params}) != len(params):
        raise CatalogueError(f"{path}.params", "Duplicate parameter names.")
    formula = _parse_formula(_obj(t.get("formula"), f"{path}.formula"), f"{path}.formula", params)
    if formula.kind == "load_shift" and not windows:
        raise CatalogueError(f"{path}.formula", "A load-shift activity needs off_peak_windows.")
    if (formula.kind in ("none", "load_shift")) != (basis == "none"):
        raise CatalogueError(f"{path}.basis", "basis 'none' goes with formula kinds 'none' and 'load_shift'.")
    photo = t.get("photo_required")
    if not isinstance(photo, bool):
        raise CatalogueError(f"{path}.photo_required", "photo_required must be true or false.")
    per_day = _int(t, "max_per_day", path, 1, 100)
    per_week = _int(t, "max_per_week", path, 1, 700)
    per_month = None if t.get("max_per_month") is None else _int(t, "max_per_month", path, 1, 3100)
    if per_week < per_day or per_week > 7 * per_day:
        raise CatalogueError(f"{path}.max_per_week", "max_per_week must be between max_per_day and 7 x max_per_day.")
    return ActivityType(
        key=key, name_ko=_text(t, "name_ko", path), name_en=_text(t, "name_en", path), basis=basis,
        formula=formula, params=params, photo_required=photo, max_per_day=per_day,
        max_per_week=per_week, max_per_month=per_month,
        off_peak_windows=windows if formula.kind == "load_shift" else (),
    )


def _parse_param(raw: Any, path: str) -> ParamSpec:
    p = _obj(raw, path)
    name = _text(p, "name", path)
    ptype = _text(p, "type", path)
    if ptype not in PARAM_TYPES:
        raise CatalogueError(f"{path}.type", f"type must be one of {PARAM_TYPES}.")
    required = p.get("required", True)
    if not isinstance(required, bool):
        raise CatalogueError(f"{path}.required", "required must be true or false.")
    if ptype == "choice":
        choices = p.get("choices")
        if not isinstance(choices, list) or not choices or not all(isinstance(c, str) and c for c in choices):
            raise CatalogueError(f"{path}.choices", "choices must be a non-empty list of strings.")
        return ParamSpec(name, ptype, required, choices=tuple(choices))
    if ptype == "hour":
        return ParamSpec(name, ptype, required, Decimal(0), Decimal(23), "h")
    lo, hi = _dec(p, "min", path), _dec(p, "max", path)
    if hi < lo or hi <= 0:
        raise CatalogueError(f"{path}.max", "max must be positive and at least min.")
    return ParamSpec(name, ptype, required, lo, hi, str(p.get("unit", "")))


def _parse_formula(f: dict, path: str, params: tuple[ParamSpec, ...]) -> Formula:
    kind = _text(f, "kind", path)
    if kind not in FORMULA_KINDS:
        raise CatalogueError(f"{path}.kind", f"kind must be one of {FORMULA_KINDS}.")
    source = _text(f, "source", path)
    by_name = {p.name: p for p in params}

    def ref(field: str, types: tuple[str, ...], required: bool = True) -> str | None:
        name = f.get(field)
        if name is None and not required:
            return None
        if not isinstance(name, str) or name not in by_name or by_name[name].type not in types:
            raise CatalogueError(f"{path}.{field}", f"{field} must name a parameter of type {'/'.join(types)}.")
        if not by_name[name].required:
            raise CatalogueError(f"{path}.{field}", f"The parameter {name!r} must be required.")
        return name

    def options(field: str, value_key: str, choice_param: str) -> tuple[Option, ...]:
        raw = _obj(f.get(field), f"{path}.{field}")
        opts = []
        for k, v in raw.items():
            v = _obj(v, f"{path}.{field}.{k}")
            opts.append(Option(k, _dec(v, value_key, f"{path}.{field}.{k}"), _text(v, "source", f"{path}.{field}.{k}")))
        if set(raw) != set(by_name[choice_param].choices):
            raise CatalogueError(f"{path}.{field}", f"{field} must match the choices of {choice_param!r}.")
        return tuple(opts)

    if kind == "power_x_hours":
        hours = ref("hours_param", ("decimal",))
        count = ref("count_param", ("integer",), required=False)
        device = ref("device_param", ("choice",), required=False)
        if device:
            return Formula(kind, source, devices=options("devices", "power_w", device),
                           hours_param=hours, count_param=count, device_param=device)
        return Formula(kind, source, power_w=_dec(f, "power_w", path, positive=True),
                       hours_param=hours, count_param=count)
    if kind == "per_unit":
        return Formula(kind, source, kwh_per_unit=_dec(f, "kwh_per_unit", path, positive=True),
                       unit_param=ref("unit_param", ("decimal", "integer")))
    if kind == "per_occurrence":
        variant = ref("variant_param", ("choice",))
        return Formula(kind, source, variants=options("variants", "kwh", variant), variant_param=variant)
    if kind == "load_shift":
        return Formula(kind, source, kwh_per_unit=_dec(f, "kwh_per_unit", path),
                       shift_kwh_per_unit=_dec(f, "shift_kwh_per_unit", path, positive=True),
                       unit_param=ref("unit_param", ("integer",)), window_param=ref("window_param", ("hour",)))
    if kind == "bill_difference":
        pct = _dec(f, "min_reduction_percent", path)
        if pct >= 100:
            raise CatalogueError(f"{path}.min_reduction_percent", "min_reduction_percent must be below 100.")
        return Formula(kind, source, min_reduction_percent=pct,
                       this_param=ref("this_param", ("decimal",)), last_param=ref("last_param", ("decimal",)))
    if params:
        raise CatalogueError(f"{path}.kind", "A formula of kind 'none' takes no parameters.")
    return Formula(kind, source)


def _obj(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise CatalogueError(path, f"{path} must be an object.")
    return value


def _list(d: dict, key: str, path: str) -> list:
    value = d.get(key)
    if not isinstance(value, list):
        raise CatalogueError(f"{path}.{key}", f"{key} must be a list.")
    return value


def _text(d: dict, key: str, path: str) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{path}.{key}", f"{key} must be a non-empty string.")
    return value


def _int(d: dict, key: str, path: str, minimum: int = 0, maximum: int | None = None) -> int:
    value = d.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        raise CatalogueError(f"{path}.{key}", f"{key} must be a whole number from {minimum} to {maximum}.")
    return value


def _dec(d: dict, key: str, path: str, positive: bool = False) -> Decimal:
    """Numbers in the data files are JSON strings, so they reach Decimal without float rounding."""
    value = d.get(key)
    if not isinstance(value, str):
        raise CatalogueError(f"{path}.{key}", f"{key} must be a decimal written as a string.")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CatalogueError(f"{path}.{key}", f"{key} is not a decimal number.") from None
    if not number.is_finite() or number < 0 or (positive and number == 0) or number > Decimal(10) ** 9:
        raise CatalogueError(f"{path}.{key}", f"{key} must be a finite number {'above' if positive else 'of at least'} 0.")
    return number
