"""GraphQL types of photo evidence. Scope is checked where a photo is reached (the ``photo``
and ``photoReviewQueue`` roots, the upload and review mutations); a duplicate's thumbnail is
shown only when the reader may see that other photo too. File URLs are signed and expire."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from backend import errors as domain
from backend.activities.models import Activity as ActivityModel
from backend.graphql.access import public_type
from backend.graphql.context import Info
from backend.graphql.errors import Error, to_graphql_error
from backend.graphql.results import catching_errors
from backend.graphql.scalars import to_display
from backend.photos import errors as photo_errors
from backend.photos import routing, urls
from backend.photos.images import PhotoRejected as PhotoRejectedError
from backend.photos.models import Photo as PhotoModel
from backend.photos.permissions import may_view
from backend.photos.service import uploader_of



@strawberry.enum
class PhotoStatus(Enum):
    UPLOADED = "uploaded"
    VERIFYING = "verifying"
    AUTO_ACCEPTED = "auto_accepted"
    AUTO_REJECTED = "auto_rejected"
    NEEDS_REVIEW = "needs_review"
    APPROVED = "approved"
    REJECTED = "rejected"


@public_type
@strawberry.type(description="An upload refused before storing; code is one of the rejection codes in docs/photos.md.")
class PhotoRejected(Error):
    code: str


@public_type
@strawberry.type
class DuplicatePhoto(Error):
    pass


@public_type
@strawberry.type
class NotAwaitingEvidence(Error):
    status: str


@public_type
@strawberry.type
class AlreadyDecided(Error):
    status: str


def to_photo_error(exc: domain.DomainError) -> Error:
    match exc:
        case PhotoRejectedError():
            return PhotoRejected(message=exc.message, code=str(exc.code))
        case photo_errors.DuplicatePhoto():
            return DuplicatePhoto(message=exc.message)
        case photo_errors.NotAwaitingEvidence():
            return NotAwaitingEvidence(message=exc.message, status=exc.status)
        case photo_errors.AlreadyDecided():
            return AlreadyDecided(message=exc.message, status=exc.status)
        case _:
            return to_graphql_error(exc)


#: Like ``returns_errors``, with the photo domain's own union members.
returns_photo_errors = catching_errors(to_photo_error)


@public_type
@strawberry.type(description="A named signal for reviewers (score 0-1), e.g. screenshot_like, capture_time_far.")
class PhotoWarning:
    name: str
    score: float
    detail: str | None


@public_type
@strawberry.type(description="Another photo that shows the same picture (exact or resized/recompressed/cropped).")
class PhotoDuplicate:
    photo_id: strawberry.ID
    distance: int = strawberry.field(description="Hamming distance of the closest hashes (0: exact)")
    same_uploader: bool
    thumbnail_url: str | None = strawberry.field(description="Only when you may see that photo too")


@public_type
@strawberry.type(description="kWh read from a bill photo by OCR (a proposal) and what the uploader confirmed.")
class BillReading:
    proposed_this_month_kwh: str | None
    proposed_last_year_kwh: str | None
    candidates: list[str]
    confirmed_this_month_kwh: str | None
    confirmed_last_year_kwh: str | None


@public_type
@strawberry.type(description="The activity a photo is evidence for, as claimed by the student.")
class PhotoActivity:
    id: strawberry.ID
    activity_type: str
    occurred_on: date
    params: strawberry.scalars.JSON
    points: int
    status: str
    expected_categories: list[str]


@public_type
@strawberry.type(description="One evidence photo. Reached only by its uploader and their reviewers.")
class Photo:
    id: strawberry.ID
    status: PhotoStatus
    status_reason: str
    width: int
    height: int
    had_location: bool = strawberry.field(description="The camera recorded a position (removed before storing)")
    model_category: str | None
    model_confidence: float | None
    model_version: str | None
    review_category: str | None
    warnings: list[PhotoWarning]
    model: strawberry.Private[PhotoModel]

    @classmethod
    def from_model(cls, p: PhotoModel) -> Photo:
        return cls(
            id=strawberry.ID(str(p.id)), status=PhotoStatus(p.status), status_reason=p.status_reason,
            width=p.width, height=p.height, had_location=p.had_location, model_category=p.model_category,
            model_confidence=p.model_confidence, model_version=p.model_version, review_category=p.review_category,
            warnings=[PhotoWarning(name=str(w.get("name")), score=float(w.get("score", 0)), detail=w.get("detail"))
                      for w in p.warnings or []],
            model=p,
        )

    @strawberry.field(description="Signed URL of the sanitised photo; expires after PVPP_PHOTO_URL_TTL_SECONDS")
    def url(self, info: Info) -> str:
        s = info.context.settings
        return urls.signed_path(s.signing_key, self.model.id, "full", s.photo_url_ttl_seconds)

    @strawberry.field(description="Signed URL of the 320 px thumbnail; expires like url")
    def thumbnail_url(self, info: Info) -> str:
        s = info.context.settings
        return urls.signed_path(s.signing_key, self.model.id, "thumb", s.photo_url_ttl_seconds)

    @strawberry.field
    def created_at(self, info: Info) -> datetime | None:
        return to_display(self.model.created_at, info.context.settings.display_timezone)

    @strawberry.field(description="When the camera says it was taken (camera clock)")
    def captured_at(self, info: Info) -> datetime | None:
        return to_display(self.model.captured_at, info.context.settings.display_timezone)

    @strawberry.field
    def reviewed_at(self, info: Info) -> datetime | None:
        return to_display(self.model.reviewed_at, info.context.settings.display_timezone)

    @strawberry.field
    async def activity(self) -> PhotoActivity:
        a = await ActivityModel.get(id=self.model.activity_id)
        return PhotoActivity(
            id=strawberry.ID(str(a.id)), activity_type=a.activity_type, occurred_on=a.occurred_on, params=a.params,
            points=a.points, status=str(a.status),
            expected_categories=sorted(routing.expected_categories(a.activity_type, a.params)),
        )

    @strawberry.field
    async def duplicate(self, info: Info) -> PhotoDuplicate | None:
        if self.model.duplicate_of_id is None:
            return None
        other = await PhotoModel.get_or_none(id=self.model.duplicate_of_id)
        if other is None:
            return None
        principal = info.context.principal
        s = info.context.settings
        visible = principal is not None and may_view(principal, await uploader_of(other))
        return PhotoDuplicate(
            photo_id=strawberry.ID(str(other.id)), distance=self.model.duplicate_distance or 0,
            same_uploader=other.uploader_id == self.model.uploader_id,
            thumbnail_url=urls.signed_path(s.signing_key, other.id, "thumb", s.photo_url_ttl_seconds)
            if visible else None,
        )

    @strawberry.field
    def bill_reading(self) -> BillReading | None:
        reading = self.model.bill_reading
        if not reading:
            return None
        proposed = reading.get("proposed") or {}
        confirmed = reading.get("confirmed") or {}
        return BillReading(
            proposed_this_month_kwh=proposed.get("this_month_kwh"), proposed_last_year_kwh=proposed.get("last_year_kwh"),
            candidates=list(proposed.get("candidates") or []),
            confirmed_this_month_kwh=confirmed.get("this_month_kwh"),
            confirmed_last_year_kwh=confirmed.get("last_year_kwh"),
        )


@public_type
@strawberry.type
class PhotoUploaded:
    photo: Photo
    replayed: bool = strawberry.field(description="True when exactly this photo was already uploaded for this activity")


@public_type
@strawberry.type
class PhotoReviewQueue:
    items: list[Photo]


@public_type
@strawberry.type(description="What the photo verifier (worker) serves; not accepting means photos wait.")
class PhotoVerifierHealth:
    accepting: bool
    model_version: str | None
    error_reason: str | None
    error: str | None
    reported_at: float | None


@public_type
@strawberry.type
class PhotoTrainingConsentState:
    user_id: strawberry.ID
    given: bool
    guardian_given: bool
