"""Photo evidence: upload, review, bill confirmation and training consent. No GraphQL here.

Upload order (nothing half-written): ownership and activity checks, then the CPU work in a
thread (validate, sanitise, fingerprint), then the two files under content keys, then the row
and its band keys in one transaction. If the transaction fails, the files this upload created
are deleted again unless another row uses the same content. The original bytes are never
stored: only the sanitised JPEG and thumbnail.

Exact duplicates at upload: the same file (or the same sanitised pixels) sent again by the
same person for the same activity returns the first photo (``replayed``: a phone that
retried); for another activity of theirs it is refused with :class:`DuplicatePhoto`. The same
photo from *another* person is stored and the verify job rejects it, naming the match to
reviewers (see :mod:`backend.photos.verification`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from backend.accounts.models import Role, User
from backend.accounts.principal import Principal
from backend.activities import catalogue as cat
from backend.activities.models import Activity, ActivityStatus
from backend.activities.service import decide_activity
from backend.codes import age_on, local_today
from backend.errors import NotAllowed, ValidationFailed
from backend.photos import routing
from backend.photos.errors import AlreadyDecided, DuplicatePhoto, NotAwaitingEvidence
from backend.photos.images import DEFAULT_LIMITS, PhotoLimits
from backend.photos.models import (
    DECIDED,
    Photo,
    PhotoBandKey,
    PhotoStatus,
    PhotoTrainingConsent,
)
from backend.photos.permissions import Uploader, is_reviewer, may_review, may_view
from backend.photos.pipeline import Processed, process
from backend.photos.storage import LocalDiskStore, PhotoStore, content_key
from backend.rewards import formula
from backend.rewards.models import Programme
from backend.settings import Settings

log = logging.getLogger("pvpp.photos")

VERIFY_JOB = "verify_photo"
NOT_FOUND = "This photo does not exist or you may not see it."


def photo_limits(settings: Settings) -> PhotoLimits:
    return replace(DEFAULT_LIMITS, max_bytes=settings.photo_max_upload_bytes)


@functools.cache
def _store(root: Path) -> LocalDiskStore:
    return LocalDiskStore(root)


def store_for(settings: Settings) -> PhotoStore:
    """The configured store (local disk under ``PVPP_PHOTO_DIR`` or ``var_dir/photos``)."""
    return _store(settings.photo_store_dir.resolve())


def verify_job_id(photo_id: int, attempt: int = 0) -> str:
    return f"verify-photo:{photo_id}:{attempt}"


async def enqueue_verify(redis: object, photo_id: int, attempt: int = 0, quiet: bool = False) -> bool:
    """Queue the verify job (arq); a failure is logged, the sweeper re-queues later."""
    from arq.connections import ArqRedis

    try:
        pool = redis if isinstance(redis, ArqRedis) else ArqRedis(connection_pool=redis.connection_pool)  # type: ignore[attr-defined]
        return await pool.enqueue_job(VERIFY_JOB, photo_id, _job_id=verify_job_id(photo_id, attempt)) is not None
    except Exception:
        if not quiet:
            log.exception("could not enqueue verification of photo %s", photo_id)
        return False


#: Waits between background attempts to queue a verification while Redis is down; after
#: them the worker's sweeper (every 5 minutes and at its start) queues the photo.
ENQUEUE_RETRY_SECONDS = (1, 2, 3, 5, 10, 20, 30, 60, 120, 300)
_retrying: set[asyncio.Task] = set()


async def enqueue_verify_soon(redis: object, photo_id: int) -> bool:
    """Queue the verify job now, or keep trying in the background while Redis is down, so a
    photo uploaded during an outage is verified seconds after Redis returns."""
    if await enqueue_verify(redis, photo_id):
        return True
    task = asyncio.get_running_loop().create_task(_retry_enqueue(redis, photo_id))
    _retrying.add(task)
    task.add_done_callback(_retrying.discard)
    return False


async def _retry_enqueue(redis: object, photo_id: int) -> None:
    for delay in ENQUEUE_RETRY_SECONDS:
        await asyncio.sleep(delay)
        if await enqueue_verify(redis, photo_id, quiet=True):
            log.info("verification of photo %s queued after Redis returned", photo_id)
            return


# --- upload ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uploaded:
    photo: Photo
    replayed: bool


async def _own_pending_activity(principal: Principal, activity_id: int) -> Activity:
    activity = await Activity.get_or_none(id=activity_id)
    if activity is None or activity.user_id != principal.user_id:
        raise NotAllowed("You can only add a photo to your own activity.")
    if activity.status is not ActivityStatus.PENDING_EVIDENCE:
        raise NotAwaitingEvidence(str(activity.status), "This activity is not waiting for a photo.")
    return activity


async def upload_photo(principal: Principal, settings: Settings, activity_id: int, data: bytes,
                       declared_mime: str | None = None, filename: str | None = None,
                       store: PhotoStore | None = None, now: datetime | None = None) -> Uploaded:
    """Check, sanitise and store one photo for the caller's own pending activity (``now``: the
    upload time to record, for replayed history; the clock by default)."""
    activity = await _own_pending_activity(principal, activity_id)
    store = store or store_for(settings)
    processed = await asyncio.to_thread(process, data, declared_mime, filename, photo_limits(settings))
    if (earlier := await _earlier_upload(principal, activity, processed.photo)) is not None:
        return Uploaded(earlier, True)
    photo, replayed = await _store_new(principal, activity, processed, store, now)
    return Uploaded(photo, replayed)


async def _earlier_upload(principal: Principal, activity: Activity, sanitised: Any,
                          conn: BaseDBAsyncClient | None = None) -> Photo | None:
    """The caller's earlier upload of this picture for this activity (a replay), or None;
    DuplicatePhoto when it was sent for another activity, NotAwaitingEvidence when the
    activity already has a live photo."""
    same_content = Q(original_sha256=sanitised.original_sha256) | Q(sha256=_sha(sanitised.data))
    mine = await _on(Photo.filter(same_content, uploader_id=principal.user_id), conn).order_by("id").first()
    if mine is not None:
        if mine.activity_id == activity.id:
            return mine
        raise DuplicatePhoto()
    live = await _on(Photo.filter(activity_id=activity.id).exclude(
        status__in=[PhotoStatus.AUTO_REJECTED, PhotoStatus.REJECTED]), conn).exists()
    if live:
        raise NotAwaitingEvidence(str(activity.status), "This activity already has a photo being checked.")
    return None


def _on(query: Any, conn: BaseDBAsyncClient | None) -> Any:
    return query.using_db(conn) if conn is not None else query


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


async def _store_new(principal: Principal, activity: Activity, processed: Processed,
                     store: PhotoStore, now: datetime | None = None) -> tuple[Photo, bool]:
    """Store the files and the row; the checks run again under a lock on the uploader's row,
    so the same picture sent at once for several activities is accepted only once."""
    sanitised = processed.photo
    full_key = content_key(sanitised.data, "photos")
    thumb_key = content_key(sanitised.thumbnail, "thumbs")
    created = []
    for key, data in ((full_key, sanitised.data), (thumb_key, sanitised.thumbnail)):
        if not await store.exists(key):
            await store.put(key, data, sanitised.content_type)
            created.append(key)
    try:
        exif = sanitised.exif
        captured = exif.captured_at
        async with in_transaction() as conn:
            await User.filter(id=principal.user_id).select_for_update().using_db(conn).first()
            earlier = await _earlier_upload(principal, activity, sanitised, conn)
            if earlier is not None:
                return earlier, True
            photo = await Photo.create(
                using_db=conn, activity_id=activity.id, uploader_id=principal.user_id,
                store_key=full_key, thumb_key=thumb_key, width=sanitised.width, height=sanitised.height,
                bytes=len(sanitised.data), thumb_bytes=len(sanitised.thumbnail),
                source_format=str(sanitised.source_format), source_bytes=sanitised.source_bytes,
                sha256=_sha(sanitised.data), original_sha256=sanitised.original_sha256,
                phash=processed.signed_crop_hashes()[0][0], dhash=processed.signed_crop_hashes()[0][1],
                crop_hashes=processed.signed_crop_hashes(),
                captured_at=captured.replace(tzinfo=UTC) if captured and captured.tzinfo is None else captured,
                captured_at_source=("local:" if captured and captured.tzinfo is None else "") + (
                    exif.captured_at_source or "") if captured else None,
                had_location=exif.had_location, warnings=processed.warnings_json(),
                **({"created_at": now} if now is not None else {}),
            )
            await PhotoBandKey.bulk_create([PhotoBandKey(key=k, photo_id=photo.id) for k in sorted(processed.band_keys)],
                                           using_db=conn)
    except BaseException:
        await _delete_unreferenced(store, created)
        raise
    return photo, False


async def _delete_unreferenced(store: PhotoStore, keys: list[str]) -> None:
    for key in keys:
        try:
            if not await Photo.filter(Q(store_key=key) | Q(thumb_key=key)).exists():
                await store.delete(key)
        except Exception:
            log.exception("could not remove photo file %s after a failed upload", key)


async def orphan_keys(store: LocalDiskStore) -> list[str]:
    """Files in a local store that no row references (left by a crash between file and row)."""
    root = store.root
    keys = [p.relative_to(root).as_posix() for p in root.rglob("*.jpg") if p.is_file()]
    used = set(await Photo.all().values_list("store_key", flat=True)) | set(
        await Photo.all().values_list("thumb_key", flat=True))
    return sorted(k for k in keys if k not in used)


# --- reading and scope ----------------------------------------------------------------------


async def uploader_of(photo: Photo) -> Uploader:
    user = await User.get(id=photo.uploader_id)
    return Uploader(user.id, user.school_id, user.school_class_id)


async def visible_photo(principal: Principal, photo_id: int) -> Photo:
    photo = await Photo.get_or_none(id=photo_id)
    if photo is None or not may_view(principal, await uploader_of(photo)):
        raise NotAllowed(NOT_FOUND)
    return photo


async def review_queue(principal: Principal, limit: int = 50) -> list[Photo]:
    """Photos waiting for this reviewer: their class or school, their children, or all (operator)."""
    if not is_reviewer(principal):
        raise NotAllowed("Only teachers, school admins, guardians and operators review photos.")
    if not 1 <= limit <= 200:
        raise ValidationFailed("limit", "limit must be between 1 and 200.")
    query = Photo.filter(status=PhotoStatus.NEEDS_REVIEW)
    if not principal.is_operator:
        scope = Q(uploader_id__in=list(principal.children_ids)) if principal.children_ids else Q(id=-1)
        if principal.is_school_staff and principal.school_id is not None:
            staff = Q(uploader__school_id=principal.school_id)
            if principal.role is Role.TEACHER and principal.school_class_id is not None:
                staff &= Q(uploader__school_class_id=principal.school_class_id)
            scope |= staff
        query = query.filter(scope).exclude(uploader_id=principal.user_id)
    return await query.order_by("id").limit(limit)


# --- decisions ------------------------------------------------------------------------------


async def decide_photo(photo_id: int, from_statuses: frozenset[PhotoStatus], to_status: PhotoStatus,
                       reason: str, *, reviewer_id: int | None = None, category: str | None = None,
                       now: datetime | None = None) -> Photo:
    """Move a photo to a decision and its activity with it, in one transaction.

    The photo is claimed with a conditional update (only from ``from_statuses``) inside
    ``decide_activity``'s transaction, under the ledger lock: two reviewers at once cannot
    both decide, and the points follow the photo or neither changes.
    """
    now = now or datetime.now(UTC)
    accepted = to_status in (PhotoStatus.AUTO_ACCEPTED, PhotoStatus.APPROVED)
    photo = await Photo.get(id=photo_id)

    async def claim(conn: BaseDBAsyncClient, activity: Activity) -> None:
        if accepted and activity.status is not ActivityStatus.PENDING_EVIDENCE:
            raise NotAwaitingEvidence(str(activity.status), "This activity is no longer waiting for a photo.")
        fields: dict[str, object] = {"status": to_status, "status_reason": reason[:200]}
        if reviewer_id is not None:
            fields |= {"reviewer_id": reviewer_id, "reviewed_at": now, "review_category": category}
        else:
            fields |= {"verified_at": now}
        updated = await Photo.filter(id=photo_id, status__in=list(from_statuses)).using_db(conn).update(**fields)
        if not updated:
            current = await Photo.filter(id=photo_id).using_db(conn).values_list("status", flat=True)
            raise AlreadyDecided(str(current[0]) if current else "missing")

    await decide_activity(photo.activity_id, accepted, reason[:200], now, hook=claim)
    return await Photo.get(id=photo_id)


async def review_photo(principal: Principal, photo_id: int, approve: bool, reason: str,
                       category: str | None = None, now: datetime | None = None) -> Photo:
    """A reviewer approves or rejects a photo waiting for review; points follow via the ledger.
    ``now`` dates the decision (the clock by default)."""
    photo = await Photo.get_or_none(id=photo_id)
    if photo is None or not may_review(principal, await uploader_of(photo)):
        raise NotAllowed("You may not review this photo.")
    if photo.status is not PhotoStatus.NEEDS_REVIEW:
        raise AlreadyDecided(str(photo.status))
    reason = reason.strip()[:200]
    if not approve and not reason:
        raise ValidationFailed("reason", "Say why the photo is rejected; the student will see it.")
    if category is not None:
        from ml_models.photo_classifier.spec import CATEGORIES

        if category not in CATEGORIES:
            raise ValidationFailed("category", f"category must be one of {', '.join(CATEGORIES)}.")
    return await decide_photo(
        photo_id, frozenset({PhotoStatus.NEEDS_REVIEW}), PhotoStatus.APPROVED if approve else PhotoStatus.REJECTED,
        reason or "approved by a reviewer", reviewer_id=principal.user_id, category=category, now=now,
    )


# --- bills ----------------------------------------------------------------------------------


async def confirm_bill_reading(principal: Principal, photo_id: int, this_month_kwh: Decimal,
                               last_year_kwh: Decimal) -> Photo:
    """The uploader confirms or corrects the kWh read from their bill photo.

    Updates the activity's claimed values, kWh and points (still pending: the photo goes to
    a reviewer, who sees OCR's proposal beside the confirmed values).
    """
    photo = await Photo.get_or_none(id=photo_id)
    if photo is None or photo.uploader_id != principal.user_id:
        raise NotAllowed("Only the person who sent the bill photo can confirm its reading.")
    if photo.status in DECIDED:
        raise AlreadyDecided(str(photo.status))
    async with in_transaction() as conn:
        activity = await Activity.filter(id=photo.activity_id).using_db(conn).select_for_update().get()
        if activity.activity_type not in routing.BILL_TYPES:
            raise ValidationFailed("photoId", "This photo is not a bill for a bill comparison.")
        if activity.status is not ActivityStatus.PENDING_EVIDENCE:
            raise NotAwaitingEvidence(str(activity.status), "This activity is no longer waiting for a photo.")
        activity_type = cat.load_catalogue(activity.catalogue_version).get(activity.activity_type)
        f = activity_type.formula
        params = {f.this_param: str(this_month_kwh), f.last_param: str(last_year_kwh)}
        try:
            normalised = cat.validate_params(activity_type, params)
            kwh = cat.deemed_savings_kwh(activity_type, params)
        except ValidationFailed as exc:
            field = {f"params.{f.this_param}": "thisMonthKwh", f"params.{f.last_param}": "lastYearKwh"}
            raise ValidationFailed(field.get(exc.field, exc.field), exc.message) from None
        programme = await Programme.get(id=activity.programme_id).using_db(conn)
        points = formula.kwh_to_points(kwh, activity_type.basis, False, formula.load_rules(programme.rules_year))
        activity.params = {k: str(v) if isinstance(v, Decimal) else v for k, v in normalised.items()}
        activity.kwh = kwh
        activity.points = points.points
        await activity.save(using_db=conn, update_fields=["params", "kwh", "points"])
        reading = dict(photo.bill_reading or {})
        reading["confirmed"] = {"this_month_kwh": str(normalised[f.this_param]),
                                "last_year_kwh": str(normalised[f.last_param]),
                                "at": datetime.now(UTC).isoformat()}
        photo.bill_reading = reading
        await photo.save(using_db=conn, update_fields=["bill_reading"])
    return photo


# --- consent to training use ----------------------------------------------------------------


async def set_training_consent(principal: Principal, settings: Settings, user_id: int | None,
                               given: bool) -> PhotoTrainingConsent:
    """The person's own consent, or a linked guardian's for their child; off by default."""
    target = user_id or principal.user_id
    own = target == principal.user_id
    if not own and not principal.is_guardian_of(target):
        raise NotAllowed("Only the person or their guardian can decide about training use.")
    now = datetime.now(UTC)
    row, _ = await PhotoTrainingConsent.get_or_create(user_id=target)
    if own:
        row.given_at = now if given else None
    else:
        row.guardian_given_at = now if given else None
        row.guardian_id = principal.user_id if given else None
    await row.save()
    return row


async def training_consent_in_force(settings: Settings, user: User) -> bool:
    """Own consent, plus a guardian's for a student under the consent age."""
    row = await PhotoTrainingConsent.get_or_none(user_id=user.id)
    if row is None or row.given_at is None:
        return False
    if await _is_minor(settings, user):
        return row.guardian_given_at is not None
    return True


async def _is_minor(settings: Settings, user: User) -> bool:
    if user.role is not Role.STUDENT:
        return False
    if user.birth_date is None:
        return True  # unknown age: treat as a child
    return age_on(user.birth_date, local_today(settings.display_timezone)) < settings.guardian_consent_age

