"""The verify step of a stored photo: fingerprints, capture time, classifier, OCR, routing.

Called by the ``verify_photo`` job. Idempotent: a photo that was decided or sent to review is
left alone. When the classifier cannot be loaded (:class:`ModelUnavailable`) the photo goes
back to ``uploaded`` and the exception propagates so the job retries later: nothing is ever
accepted without the model.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image
from tortoise.expressions import F, Q

from backend.activities.models import Activity
from backend.photos import routing
from backend.photos.bills import read_bill
from backend.photos.errors import AlreadyDecided, NotAwaitingEvidence
from backend.photos.hashing import PhotoHashes, band_keys, compare, from_signed64
from backend.photos.models import Photo, PhotoBandKey, PhotoStatus
from backend.photos.service import decide_photo
from backend.photos.storage import PhotoStore
from backend.settings import Settings
from ml_models.photo_classifier.inference import ModelUnavailable
from ml_models.photo_classifier.reload import ReloadingClassifier

log = logging.getLogger("pvpp.photos.verify")

HEALTH_KEY = "pvpp:photos:verifier"
_OPEN = frozenset({PhotoStatus.UPLOADED, PhotoStatus.VERIFYING})


@dataclass(frozen=True)
class Verified:
    photo_id: int
    status: str
    reason: str
    changed: bool


def thresholds(settings: Settings) -> routing.Thresholds:
    return routing.Thresholds(
        accept_confidence=settings.photo_auto_accept_confidence,
        reject_invalid_confidence=settings.photo_auto_reject_invalid_confidence,
        reject_screenshot_score=settings.photo_auto_reject_screenshot_score,
        reject_uniform_score=settings.photo_auto_reject_uniform_score,
    )


def capture_status(captured_at: datetime | None, source: str | None, occurred_on: date, timezone: str,
                   max_days: int) -> tuple[routing.Capture, int | None]:
    """Whether the camera's date is within ``max_days`` of the claimed day, and the gap in days.

    A capture time without offset is the camera's wall clock: it is compared as a local date.
    """
    if captured_at is None:
        return routing.Capture.MISSING, None
    if (source or "").startswith("local:"):
        local = captured_at.replace(tzinfo=None).date()
    else:
        local = captured_at.astimezone(ZoneInfo(timezone)).date()
    gap = abs((local - occurred_on).days)
    return (routing.Capture.FAR if gap > max_days else routing.Capture.OK), gap


def hashes_of(photo: Photo) -> PhotoHashes:
    pairs = photo.crop_hashes
    return PhotoHashes(tuple(from_signed64(p) for p, _ in pairs), tuple(from_signed64(d) for _, d in pairs))


async def find_duplicate(photo: Photo) -> tuple[routing.Duplicate, Photo | None, int | None]:
    """The closest earlier photo that is the same picture (exact or near), across all programmes;
    of equally close ones, the earliest."""
    exact = await Photo.filter(Q(sha256=photo.sha256) | Q(original_sha256=photo.original_sha256),
                               id__lt=photo.id).exclude(activity_id=photo.activity_id).order_by("id").first()
    if exact is not None:
        same = exact.uploader_id == photo.uploader_id
        return (routing.Duplicate.EXACT_SAME_USER if same else routing.Duplicate.EXACT_OTHER_USER), exact, 0
    mine = hashes_of(photo)
    ids = await PhotoBandKey.filter(key__in=sorted(band_keys(mine)), photo_id__lt=photo.id).distinct(
        ).values_list("photo_id", flat=True)
    best: tuple[int, Photo] | None = None
    # by id, so that of equally close photos the earliest (the original, not a copy of it) wins
    for other in await Photo.filter(id__in=list(ids)).exclude(activity_id=photo.activity_id).order_by("id"):
        match = compare(mine, hashes_of(other))
        if match is not None:
            distance = match.phash_distance + match.dhash_distance
            if best is None or distance < best[0]:
                best = (distance, other)
    if best is None:
        return routing.Duplicate.NONE, None, None
    same = best[1].uploader_id == photo.uploader_id
    return (routing.Duplicate.NEAR_SAME_USER if same else routing.Duplicate.NEAR_OTHER_USER), best[1], best[0]


def _decode_for_model(data: bytes) -> Image.Image:
    """The stored JPEG decoded at the coarsest DCT scale that keeps the short side >= 256."""
    im = Image.open(io.BytesIO(data))
    im.draft("RGB", (max(256, im.width // 4), max(256, im.height // 4)))
    return im.convert("RGB")


def _decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


async def verify(photo_id: int, settings: Settings, classifier: ReloadingClassifier, store: PhotoStore,
                 now: datetime | None = None) -> Verified:
    """Verify one photo (see the module docstring); raises ModelUnavailable to be retried."""
    photo = await Photo.get_or_none(id=photo_id)
    if photo is None:
        return Verified(photo_id, "missing", "no such photo", False)
    if photo.status not in _OPEN:
        return Verified(photo_id, str(photo.status), "already verified", False)
    claimed = await Photo.filter(id=photo_id, status__in=list(_OPEN)).update(
        status=PhotoStatus.VERIFYING, attempts=F("attempts") + 1)
    if not claimed:
        return Verified(photo_id, "raced", "verified by another run", False)
    try:
        model = await asyncio.to_thread(classifier.get)
    except ModelUnavailable:
        await Photo.filter(id=photo_id, status=PhotoStatus.VERIFYING).update(status=PhotoStatus.UPLOADED)
        raise
    activity = await Activity.get(id=photo.activity_id)
    data = await store.get(photo.store_key)
    prediction = await asyncio.to_thread(lambda: model.predict(_decode_for_model(data)))
    duplicate, match, distance = await find_duplicate(photo)
    capture, gap = capture_status(photo.captured_at, photo.captured_at_source, activity.occurred_on,
                                  settings.display_timezone, settings.photo_capture_max_days)
    warnings: list[dict[str, Any]] = [w for w in photo.warnings if w.get("name") != "capture_time_far"]
    if capture is routing.Capture.FAR:
        warnings.append({"name": "capture_time_far", "score": 0.8,
                         "detail": f"taken {gap} days from the claimed date"})
    is_bill = activity.activity_type in routing.BILL_TYPES
    bill_reading = photo.bill_reading
    if is_bill and settings.photo_ocr_enabled:
        proposal = await asyncio.to_thread(lambda: read_bill(_decode(data)))
        bill_reading = {**(bill_reading or {}), "proposed": proposal.to_json()}
    evidence = routing.Evidence(
        expected_categories=routing.expected_categories(activity.activity_type, activity.params),
        category=prediction.category, confidence=prediction.confidence,
        warnings={w["name"]: float(w["score"]) for w in warnings}, duplicate=duplicate, capture=capture,
        is_bill=is_bill, bill_read=bool(bill_reading and bill_reading.get("proposed", {}).get("this_month_kwh")),
    )
    decision = routing.decide(evidence, thresholds(settings))
    await Photo.filter(id=photo_id, status=PhotoStatus.VERIFYING).update(
        model_category=prediction.category, model_confidence=round(prediction.confidence, 4),
        model_version=prediction.model_version, warnings=warnings,
        duplicate_of_id=match.id if match else None, duplicate_distance=distance, bill_reading=bill_reading,
    )
    log.info("photo %s: %s (%s) model=%s %.2f dup=%s", photo_id, decision.route, decision.reason,
             prediction.category, prediction.confidence, duplicate)
    if decision.route is routing.Route.REVIEW:
        await Photo.filter(id=photo_id, status=PhotoStatus.VERIFYING).update(
            status=PhotoStatus.NEEDS_REVIEW, status_reason=",".join(decision.review_reasons)[:200],
            verified_at=now or datetime.now(UTC))
        return Verified(photo_id, PhotoStatus.NEEDS_REVIEW, decision.reason, True)
    target = PhotoStatus.AUTO_ACCEPTED if decision.route is routing.Route.ACCEPT else PhotoStatus.AUTO_REJECTED
    try:
        await decide_photo(photo_id, frozenset({PhotoStatus.VERIFYING}), target, decision.message, now=now)
    except NotAwaitingEvidence:
        await Photo.filter(id=photo_id, status=PhotoStatus.VERIFYING).update(
            status=PhotoStatus.NEEDS_REVIEW, status_reason="activity_not_pending")
        return Verified(photo_id, PhotoStatus.NEEDS_REVIEW, "activity_not_pending", True)
    except AlreadyDecided as exc:
        return Verified(photo_id, exc.status, "decided meanwhile", False)
    return Verified(photo_id, target, decision.reason, True)


# --- health ---------------------------------------------------------------------------------


async def publish_health(redis: Any, classifier: ReloadingClassifier) -> dict[str, Any]:
    """What the worker's classifier serves and its last error, for ``photoVerifierHealth``."""
    status = classifier.status()
    error = status.last_error
    health = {"model_version": status.version, "model_path": str(status.path),
              "error_reason": error.reason if error else None,
              "error": str(error)[:300] if error else None,
              "accepting": status.version is not None, "updated_at": time.time()}
    try:
        await redis.set(HEALTH_KEY, json.dumps(health), ex=86_400)
    except Exception:  # noqa: BLE001 - health is informative; never fail a job over it
        log.warning("could not publish photo verifier health")
    return health


async def read_health(redis: Any) -> dict[str, Any] | None:
    raw = await redis.get(HEALTH_KEY)
    return json.loads(raw) if raw else None
