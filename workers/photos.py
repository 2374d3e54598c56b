"""Photo jobs: verify one uploaded photo; re-queue photos whose verification never finished."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from arq import Retry

from backend.photos.models import Photo, PhotoStatus
from backend.photos.service import enqueue_verify, store_for
from backend.photos.verification import publish_health, verify
from backend.settings import Settings, get_settings
from ml_models.photo_classifier.inference import ModelUnavailable
from ml_models.photo_classifier.reload import ReloadingClassifier
from ml_models.photo_classifier.spec import MODEL_PATH

log = logging.getLogger("pvpp.photos.worker")

_classifiers: dict[tuple[Path, float], ReloadingClassifier] = {}


def classifier_for(settings: Settings) -> ReloadingClassifier:
    """One hot-reloading classifier per model path and process (shared by the jobs)."""
    key = ((settings.photo_model_path or MODEL_PATH).resolve(), settings.photo_model_check_seconds)
    if key not in _classifiers:
        _classifiers[key] = ReloadingClassifier(key[0], check_interval=key[1])
    return _classifiers[key]


async def verify_photo(ctx: dict[str, Any], photo_id: int) -> dict[str, Any]:
    """Verify a photo and route it. Idempotent; retried with a delay while the model is
    unavailable (the photo stays ``uploaded``, nothing is accepted) or storage fails."""
    settings: Settings = ctx.get("settings") or get_settings()
    classifier = classifier_for(settings)
    try:
        result = await verify(photo_id, settings, classifier, store_for(settings))
    except ModelUnavailable as exc:
        await publish_health(ctx["redis"], classifier)
        log.error("photo %s not verified, classifier unavailable (%s): %s; retry %s in %ss",
                  photo_id, exc.reason, exc.detail, ctx.get("job_try"), settings.photo_verify_retry_seconds)
        raise Retry(defer=settings.photo_verify_retry_seconds) from exc
    except OSError as exc:  # the photo store (disk, network share) failed: transient
        await Photo.filter(id=photo_id, status=PhotoStatus.VERIFYING).update(status=PhotoStatus.UPLOADED)
        log.warning("photo %s: storage error %s; retrying", photo_id, exc)
        raise Retry(defer=settings.photo_verify_retry_seconds) from exc
    await publish_health(ctx["redis"], classifier)
    return {"photo_id": result.photo_id, "status": str(result.status), "reason": result.reason,
            "changed": result.changed}


async def requeue_unverified_photos(ctx: dict[str, Any], older_than_minutes: int = 10) -> list[int]:
    """Cron: queue again photos left ``uploaded``/``verifying`` (lost enqueue, retries used up).

    Job ids carry the attempt count, so one sweep queues each photo at most once."""
    cutoff = datetime.now(UTC) - timedelta(minutes=older_than_minutes)
    rows = await Photo.filter(status__in=[PhotoStatus.UPLOADED, PhotoStatus.VERIFYING],
                              created_at__lt=cutoff).order_by("id").limit(500).values_list("id", "attempts")
    queued = []
    for photo_id, attempts in rows:
        if await enqueue_verify(ctx["redis"], photo_id, attempts + 1):
            queued.append(photo_id)
    return queued
