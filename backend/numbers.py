"""Shared input checks for numbers in pure domain code, and versioned data files."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from backend.errors import ValidationFailed

MAX_TEXT_NUMBER = 40  # characters; longer numeric strings are refused as "huge"


def to_decimal(value: Any, field: str) -> Decimal:
    """A finite Decimal from int, Decimal, float or numeric string; bool, NaN, inf refused."""
    if isinstance(value, bool) or value is None:
        raise ValidationFailed(field, f"{field} must be a number.")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationFailed(field, f"{field} must be a finite number.")
        value = repr(value)
    if isinstance(value, str):
        if len(value.strip()) > MAX_TEXT_NUMBER:
            raise ValidationFailed(field, f"{field} is too large.")
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationFailed(field, f"{field} must be a number.") from None
    if isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise ValidationFailed(field, f"{field} must be a number.")
    if not value.is_finite():
        raise ValidationFailed(field, f"{field} must be a finite number.")
    return value


def versions_in(directory: Path, pattern: re.Pattern[str]) -> tuple[int, ...]:
    """The version numbers of the data files in ``directory`` whose names match ``pattern``."""
    found = (pattern.match(p.name) for p in directory.iterdir())
    return tuple(sorted(int(m.group(1)) for m in found if m))


def read_versioned_json(
    directory: Path, pattern: re.Pattern[str], template: str, version: int | None, field: str
) -> tuple[int, Any]:
    """Parse the data file of ``version`` (the newest when None): ``(version, data)``.

    ``template`` names a file from its version (e.g. ``"conversion.{}.json"``); an unknown
    version is a ``ValidationFailed`` on ``field``.
    """
    versions = versions_in(directory, pattern)
    if version is None:
        if not versions:
            raise ValidationFailed(field, f"No {template.format('*')} data file is packaged.")
        version = versions[-1]
    if isinstance(version, bool) or not isinstance(version, int) or version not in versions:
        raise ValidationFailed(field, f"No {template.format(version)} data file is packaged.")
    return version, json.loads((directory / template.format(version)).read_text(encoding="utf-8"))
