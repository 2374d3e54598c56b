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


def photo_category(category: str | None) -> str:
    """The classifier's category (``ml_models/photo_classifier/spec.py``) in the user's language."""
    names = {
        "street_light_on": _("Street light on"),
        "lights_on_room": _("Lights on in a room"),
        "device_on": _("A device switched on"),
        "charger_plugged": _("A charger plugged in"),
        "laundry_appliance": _("Washing machine or dryer"),
        "bill_or_meter": _("Bill or meter"),
        "invalid": _("Not evidence"),
    }
    if not category:
        return _("No suggestion")
    return names.get(category, category)


def review_reason(code: str) -> str:
    """Why a photo waits for a person (``backend/photos/routing.py``), in the user's language."""
    fixed = {
        "bill_needs_person": _("A bill: read the figures"),
        "no_prediction": _("The classifier gave no answer"),
        "low_confidence": _("The classifier is unsure"),
        "duplicate_exact_same_user": _("The same photo was sent before"),
        "duplicate_near_same_user": _("A very similar photo was sent before"),
        "duplicate_near_other_user": _("Someone else sent a very similar photo"),
        "capture_time_far": _("Taken far from the claimed day"),
        "capture_time_missing": _("No date in the photo"),
        "activity_not_pending": _("The activity no longer waits for a photo"),
        "warning_near_uniform": _("Almost one colour (lens covered?)"),
        "warning_too_dark": _("Very dark"),
        "warning_screenshot_like": _("Looks like a screenshot"),
        "warning_edited": _("Edited with a photo editor"),
        "warning_no_capture_time": _("No date in the photo"),
        "warning_capture_time_far": _("Taken far from the claimed day"),
    }
    if code in fixed:
        return fixed[code]
    if code.startswith("category_"):
        return _("Looks like: {category}").format(category=photo_category(code.removeprefix("category_")))
    return _("Check: {code}").format(code=code.removeprefix("warning_"))
