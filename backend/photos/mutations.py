"""Mutations of photo evidence: upload (GraphQL multipart request), review, bill, consent."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from backend.errors import ValidationFailed as ValidationFailedError
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal
from backend.photos import service
from backend.photos.images import PhotoRejected as PhotoRejectedError
from backend.photos.images import RejectCode
from backend.photos.types import (
    AlreadyDecided,
    DuplicatePhoto,
    NotAwaitingEvidence,
    Photo,
    PhotoRejected,
    PhotoTrainingConsentState,
    PhotoUploaded,
    returns_photo_errors,
)

UploadActivityPhotoResult = result_union("UploadActivityPhotoResult", PhotoUploaded, PhotoRejected, DuplicatePhoto,
                                         NotAwaitingEvidence, NotAllowed, ValidationFailed)
ReviewPhotoResult = result_union("ReviewPhotoResult", Photo, AlreadyDecided, NotAwaitingEvidence, NotAllowed,
                                 ValidationFailed)
PhotoTrainingConsentResult = result_union("PhotoTrainingConsentResult", PhotoTrainingConsentState, NotAllowed,
                                          ValidationFailed)


async def read_upload(file: Upload, limit: int) -> tuple[bytes, str | None, str | None]:
    """The uploaded bytes (at most ``limit``; larger is refused without reading it all).

    ``Upload`` accepts any JSON value in ``variables``: only a file part of a multipart
    request is a file (anything else is a ``ValidationFailed`` on ``file``).
    """
    if not isinstance(file, UploadFile):
        raise ValidationFailedError("file", "Send the photo as a file part of a multipart request.")
    try:
        size = getattr(file, "size", None)
        if isinstance(size, int) and size > limit:
            raise PhotoRejectedError(RejectCode.TOO_LARGE, f"{size} bytes declared")
        data = await file.read(limit + 1)
    finally:
        await file.close()  # the form's spooled temporary file
    if len(data) > limit:
        raise PhotoRejectedError(RejectCode.TOO_LARGE, f"more than {limit} bytes")
    return data, getattr(file, "content_type", None), getattr(file, "filename", None)


def _kwh(value: str, field: str) -> Decimal:
    try:
        number = Decimal(value.strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        raise ValidationFailedError(field, "Type the kWh as a number, e.g. 312.") from None
    if not number.is_finite():
        raise ValidationFailedError(field, "Type the kWh as a number, e.g. 312.")
    return number


@strawberry.type
class PhotoMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Send the photo for your own activity that waits for evidence "
                                     "(multipart request; JPEG, PNG or WebP). Location data is removed.")
    @returns_photo_errors
    async def upload_activity_photo(self, info: Info, activity_id: strawberry.ID, file: Upload) -> UploadActivityPhotoResult:
        settings = info.context.settings
        data, mime, filename = await read_upload(file, settings.photo_max_upload_bytes)
        principal = require_principal(info)
        activity = parse_id(activity_id, "activityId")
        uploaded = await service.upload_photo(principal, settings, activity, data, mime, filename)
        if not uploaded.replayed:
            await service.enqueue_verify_soon(info.context.redis, uploaded.photo.id)
        return PhotoUploaded(photo=Photo.from_model(uploaded.photo), replayed=uploaded.replayed)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Approve or reject a photo waiting for review (teacher of the class or "
                                     "school, school admin, guardian, operator); points follow through the ledger.")
    @returns_photo_errors
    async def review_photo(self, info: Info, photo_id: strawberry.ID, approve: bool, reason: str = "",
                           category: str | None = None) -> ReviewPhotoResult:
        photo = await service.review_photo(require_principal(info), parse_id(photo_id, "photoId"), approve,
                                           reason[:200], category)
        return Photo.from_model(photo)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Confirm or correct the kWh read from your bill photo; a reviewer still checks it.")
    @returns_photo_errors
    async def confirm_bill_reading(self, info: Info, photo_id: strawberry.ID, this_month_kwh: str,
                                   last_year_kwh: str) -> ReviewPhotoResult:
        photo = await service.confirm_bill_reading(
            require_principal(info), parse_id(photo_id, "photoId"), _kwh(this_month_kwh, "thisMonthKwh"),
            _kwh(last_year_kwh, "lastYearKwh"))
        return Photo.from_model(photo)

    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Allow (or stop) your reviewed photos being used to train the classifier; a "
                                     "guardian decides too for a child under 14. Off unless given.")
    @returns_photo_errors
    async def set_photo_training_consent(self, info: Info, given: bool,
                                         user_id: strawberry.ID | None = None) -> PhotoTrainingConsentResult:
        principal = require_principal(info)
        target = parse_id(user_id, "userId") if user_id is not None else None
        row = await service.set_training_consent(principal, info.context.settings, target, given)
        return PhotoTrainingConsentState(user_id=strawberry.ID(str(row.user_id)), given=row.given_at is not None,
                                         guardian_given=row.guardian_given_at is not None)
