"""Typed rejections from the server, said to the user in their language."""

from __future__ import annotations

from typing import Any

from mobile.i18n import _


def rejection(error: dict[str, Any] | None) -> str:
    """One sentence for a recorded rejection (``Rejected.as_dict()``)."""
    if not error:
        return ""
    typename = error.get("typename", "")
    details = error.get("details") or {}
    limit = details.get("limit", "")
    if typename == "LimitReached":
        return {
            "daily_cap": _("You already logged this as often as allowed today."),
            "weekly_cap": _("You already logged this as often as allowed this week."),
            "monthly_cap": _("You already logged this as often as allowed this month."),
            "below_threshold": _("Not enough yet to convert."),
            "below_minimum": _("Not enough yet to convert."),
            "budget": _("This year's budget is used up."),
        }.get(limit, _("A limit was reached."))
    known = {
        "ValidationFailed": _("Please check this value: {field}."),
        "IdempotencyConflict": _("This was already sent with different content."),
        "NotAllowed": _("You are not allowed to do this."),
        "InsufficientBalance": _("Your balance is too low for this."),
        "ConsentRequired": _("Waiting for your guardian's consent."),
        "InvalidCredentials": _("Email or password is wrong."),
        "RateLimited": _("Too many tries. Please wait a little."),
        "PhotoRejected": _("The photo could not be used ({code})."),
        "DuplicatePhoto": _("This photo was already used."),
        "NotAwaitingEvidence": _("This activity needs no photo now."),
        "DependencyRejected": _("Not sent because the activity was not accepted."),
        "PhotoMissing": _("The photo file is missing on this phone."),
        "AlreadyDecided": _("Someone already decided this."),
        "AlreadyExists": _("This already exists."),
    }
    text = known.get(typename)
    if text is None:
        return _("The server refused this: {message}").format(message=error.get("message", ""))
    return text.format(field=details.get("field", ""), code=details.get("code", ""))
