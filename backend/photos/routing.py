"""Where a verified photo goes: accepted, rejected, or to a person. Pure rules on plain data.

The classifier is weak (MODEL_CARD.md, ``routing_figures_held_out`` in evaluation.json): on
held-out photos it called 12 % of genuine evidence ``invalid``, at confidences from 0.33 up to
0.75, and a wrong category came with up to 0.976. So the rules are built to send almost
everything to a teacher or guardian:

* **auto-accept** only when the predicted category is one the activity expects, with at least
  :attr:`Thresholds.accept_confidence` (0.98: above every wrong-category answer measured), and
  nothing else is doubtful: no duplicate of any kind, no warning at or above
  :attr:`Thresholds.strong_warning` (missing capture time included), a capture date near the
  claimed day, and not a bill (bill numbers are always checked by a person);
* **auto-reject** only clear cases, each with a reason the child understands: an exact copy of
  another user's photo; a near-uniform (blank, covered lens) photo; a photo with a screenshot
  score of at least :attr:`Thresholds.reject_screenshot_score` (a screenshot marker or tool
  name; never for bills, which may legitimately be an app screenshot); the classifier saying
  ``invalid`` with at least :attr:`Thresholds.reject_invalid_confidence` (0.97, well above the
  0.75 at which it wrongly rejected genuine evidence; never for a bill whose kWh OCR could read);
* everything else: **needs review**, with the reasons listed for the reviewer.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

INVALID = "invalid"


class Route(enum.StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    REVIEW = "review"


class Duplicate(enum.StrEnum):
    NONE = "none"
    EXACT_OTHER_USER = "exact_other_user"  # the same stored pixels or the same file, someone else's
    EXACT_SAME_USER = "exact_same_user"
    NEAR_OTHER_USER = "near_other_user"    # resized, recompressed or cropped copy
    NEAR_SAME_USER = "near_same_user"


class Capture(enum.StrEnum):
    OK = "ok"
    FAR = "far"          # taken more than the allowed days from the claimed date
    MISSING = "missing"  # no capture time in EXIF


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Settings ``PVPP_PHOTO_*`` (see docs/photos.md for why these values)."""

    accept_confidence: float = 0.98
    reject_invalid_confidence: float = 0.97
    reject_screenshot_score: float = 0.90
    reject_uniform_score: float = 0.90
    strong_warning: float = 0.50


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the rules look at, gathered by the verify job."""

    expected_categories: frozenset[str]
    category: str | None = None
    confidence: float = 0.0
    warnings: Mapping[str, float] = field(default_factory=dict)
    duplicate: Duplicate = Duplicate.NONE
    capture: Capture = Capture.OK
    is_bill: bool = False
    bill_read: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    route: Route
    reason: str                       # a short machine-readable reason
    message: str                      # what the uploader (a child) is told
    review_reasons: tuple[str, ...] = ()


_REJECT_MESSAGES = {
    "duplicate_of_other_user": "This photo was already sent by someone else. Please take your own photo.",
    "blank": "The photo is blank or the lens was covered. Please take the photo again.",
    "screenshot": "This looks like a screenshot. Please take a photo of the real thing with your camera.",
    "not_evidence": "We could not see anything that shows wasted electricity. Please take a clearer photo.",
}
ACCEPT_MESSAGE = "Your photo was accepted."
REVIEW_MESSAGE = "Your photo will be checked by your teacher or guardian."


def _reject(reason: str) -> Decision:
    return Decision(Route.REJECT, reason, _REJECT_MESSAGES[reason])


def decide(evidence: Evidence, thresholds: Thresholds = Thresholds()) -> Decision:
    """Route one photo (see the module docstring for the rules and their order)."""
    w = evidence.warnings
    if evidence.duplicate is Duplicate.EXACT_OTHER_USER:
        return _reject("duplicate_of_other_user")
    if w.get("near_uniform", 0.0) >= thresholds.reject_uniform_score:
        return _reject("blank")
    if not evidence.is_bill and w.get("screenshot_like", 0.0) >= thresholds.reject_screenshot_score:
        return _reject("screenshot")
    if (evidence.category == INVALID and evidence.confidence >= thresholds.reject_invalid_confidence
            and not (evidence.is_bill and evidence.bill_read)):
        return _reject("not_evidence")

    reasons: list[str] = []
    if evidence.is_bill:
        reasons.append("bill_needs_person")
    if evidence.category is None:
        reasons.append("no_prediction")
    elif evidence.category not in evidence.expected_categories:
        reasons.append(f"category_{evidence.category}")
    elif evidence.confidence < thresholds.accept_confidence:
        reasons.append("low_confidence")
    if evidence.duplicate is not Duplicate.NONE:
        reasons.append(f"duplicate_{evidence.duplicate.value}")
    if evidence.capture is not Capture.OK:
        reasons.append(f"capture_time_{evidence.capture.value}")
    reasons += [f"warning_{name}" for name, score in sorted(w.items()) if score >= thresholds.strong_warning]
    if reasons:
        return Decision(Route.REVIEW, reasons[0], REVIEW_MESSAGE, tuple(reasons))
    return Decision(Route.ACCEPT, "model_confident", ACCEPT_MESSAGE)


# Which classifier categories count as evidence for which activity (variant).
EXPECTED_CATEGORIES: dict[str, dict[str | None, frozenset[str]]] = {
    "waste_found": {
        "street_light_daytime": frozenset({"street_light_on"}),
        "empty_room_lights": frozenset({"lights_on_room"}),
        "device_left_on": frozenset({"device_on", "charger_plugged", "laundry_appliance"}),
        None: frozenset({"street_light_on", "lights_on_room", "device_on", "charger_plugged",
                         "laundry_appliance"}),
    },
    "bill_comparison": {None: frozenset({"bill_or_meter"})},
}
BILL_TYPES = frozenset({"bill_comparison"})


def expected_categories(activity_type: str, params: Mapping[str, object]) -> frozenset[str]:
    """The categories that would show this activity; empty when the type takes no photo."""
    by_variant = EXPECTED_CATEGORIES.get(activity_type, {})
    variant = params.get("waste_kind") if isinstance(params.get("waste_kind"), str) else None
    return by_variant.get(variant) or by_variant.get(None, frozenset())


def primary_category(activity_type: str, params: Mapping[str, object]) -> str | None:
    """The single category an approved photo of this activity is labelled with for training."""
    cats = expected_categories(activity_type, params)
    if len(cats) == 1:
        return next(iter(cats))
    variant = params.get("waste_kind")
    return {"device_left_on": "device_on"}.get(variant) if isinstance(variant, str) else None
