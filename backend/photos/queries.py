"""Queries of photo evidence: one photo, the review queue, the verifier's health."""

from __future__ import annotations


import strawberry

from backend.errors import NotAllowed as NotAllowedError
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal
from backend.photos import service
from backend.photos.types import (
    Photo,
    PhotoReviewQueue,
    PhotoVerifierHealth,
    returns_photo_errors,
)
from backend.photos.verification import read_health

PhotoResult = result_union("PhotoResult", Photo, NotAllowed, ValidationFailed)
PhotoReviewQueueResult = result_union("PhotoReviewQueueResult", PhotoReviewQueue, NotAllowed, ValidationFailed)
PhotoVerifierHealthResult = result_union("PhotoVerifierHealthResult", PhotoVerifierHealth, NotAllowed)


@strawberry.type
class PhotoQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="A photo: its uploader and their reviewers (guardian, teacher, school admin, operator).")
    @returns_photo_errors
    async def photo(self, info: Info, id: strawberry.ID) -> PhotoResult:
        return Photo.from_model(await service.visible_photo(require_principal(info), parse_id(id, "id")))

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Photos waiting for review that you may decide, oldest first.")
    @returns_photo_errors
    async def photo_review_queue(self, info: Info, limit: int = 50) -> PhotoReviewQueueResult:
        rows = await service.review_queue(require_principal(info), limit)
        return PhotoReviewQueue(items=[Photo.from_model(p) for p in rows])

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Operators: whether the worker's classifier is loaded (photos wait while not).")
    @returns_photo_errors
    async def photo_verifier_health(self, info: Info) -> PhotoVerifierHealthResult:
        if not require_principal(info).is_operator:
            raise NotAllowedError("Only operators see the verifier's health.")
        health = await read_health(info.context.redis) or {}
        return PhotoVerifierHealth(
            accepting=bool(health.get("accepting")), model_version=health.get("model_version"),
            error_reason=health.get("error_reason"), error=health.get("error"), reported_at=health.get("updated_at"),
        )
