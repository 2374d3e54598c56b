"""Shared input checks for numbers in pure domain code, and versioned data files."""

from __future__ import annotations

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
