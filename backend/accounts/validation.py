"""Input rules for account fields; each failure names the field."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from backend.codes import age_on
from backend.errors import ValidationFailed

_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
MIN_STUDENT_AGE = 6
MAX_STUDENT_AGE = 20


def clean_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email) or any(unicodedata.category(ch)[0] in "CZ" for ch in email):
        raise ValidationFailed("email", "Enter a valid email address.")
    return email


def clean_name(value: str, field: str = "displayName", max_length: int = 60) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ValidationFailed(field, "This cannot be empty.")
    if len(value) > max_length:
        raise ValidationFailed(field, f"Use at most {max_length} characters.")
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ValidationFailed(field, "Control characters are not allowed.")
    return value


def check_student_birth_date(birth_date: date | None, today: date) -> date:
    if birth_date is None:
        raise ValidationFailed("birthDate", "Students must give their date of birth.")
    if birth_date > today:
        raise ValidationFailed("birthDate", "The date of birth is in the future.")
    age = age_on(birth_date, today)
    if not MIN_STUDENT_AGE <= age <= MAX_STUDENT_AGE:
        raise ValidationFailed(
            "birthDate", f"Students must be between {MIN_STUDENT_AGE} and {MAX_STUDENT_AGE} years old."
        )
    return birth_date
