"""Numbers, won amounts, dates and durations in the app's language (babel, imported when first used)."""

from __future__ import annotations

from datetime import date, datetime

from mobile.i18n import _, language

_LOCALES = {"ko": "ko_KR", "en": "en_GB"}


def loc() -> str:
    return _LOCALES[language()]


def number(value: float | int, digits: int = 0) -> str:
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=loc())


def kwh(value: float | str) -> str:
    return _("{n} kWh").format(n=number(float(value), 2))


def won(value: int) -> str:
    return _("{n} won").format(n=number(value))


def points(value: int) -> str:
    return _("{n} points").format(n=number(value))


def minutes(value: int) -> str:
    return _("{n} min").format(n=number(value))


def day(value: date | str) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    from babel.dates import format_date

    return format_date(value, format="medium", locale=loc())


def period(kind: str, first_day: date | str) -> str:
    """A scoring period as people say it, from its kind (month, term, school_year in either case) and
    first day: "December 2026" / "2026년 12월", "Term 2 of 2026" / "2026학년도 2학기", "School year 2026"."""
    if isinstance(first_day, str):
        first_day = date.fromisoformat(first_day[:10])
    kind = kind.lower()
    if kind == "month":
        from babel.dates import format_skeleton

        return format_skeleton("yMMMM", first_day, locale=loc())
    if kind == "term":
        return _("Term {n} of {year}").format(n=1 if first_day.month == 3 else 2, year=first_day.year)
    return _("School year {year}").format(year=first_day.year)


def local(value: datetime | str) -> datetime:
    """A server time (ISO 8601 with offset) on the phone's clock: its own time zone."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone() if value.tzinfo else value


def moment(value: datetime | str) -> str:
    from babel.dates import format_datetime

    return format_datetime(local(value), format="short", locale=loc())


def clock(value: datetime | str) -> str:
    from babel.dates import format_time

    return format_time(local(value), format="short", locale=loc())


def countdown(seconds: int) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
