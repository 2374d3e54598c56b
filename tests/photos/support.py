"""Helpers for the photo service, GraphQL and worker tests."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

import httpx
from PIL import Image

from backend.activities import service as activity_service
from backend.codes import local_today
from backend.settings import Settings
from tests.builders import principal_of
from tests.photos.fixtures.builders import camera_exif, encode, photo

UPLOAD = """
mutation($activityId: ID!, $file: Upload!) {
  uploadActivityPhoto(activityId: $activityId, file: $file) {
    __typename
    ... on PhotoUploaded { replayed photo { id status url thumbnailUrl hadLocation } }
    ... on PhotoRejected { code message }
    ... on NotAwaitingEvidence { status message }
    ... on Error { message }
  }
}"""


def exif_taken(when: datetime, gps: bool = True, offset: str | None = "+09:00") -> Image.Exif:
    """Camera EXIF taken at ``when``; ``offset=None`` leaves out OffsetTimeOriginal, as most phones do."""
    exif = camera_exif(gps=gps)
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    if offset is None:
        sub.pop(0x9011, None)
    else:
        sub[0x9011] = offset
    return exif


def camera_jpeg(seed: int, when: datetime | None = None, size: tuple[int, int] = (1200, 900),
                gps: bool = True, quality: int = 90, offset: str | None = "+09:00") -> bytes:
    """A camera-like JPEG with EXIF (capture time, GPS) unless ``when`` is None."""
    im = photo(*size, seed=seed)
    if when is None:
        return encode(im, "JPEG", quality=quality)
    return encode(im, "JPEG", quality=quality, exif=exif_taken(when, gps, offset).tobytes())


async def pending_activity(settings: Settings, student, type_key: str = "waste_found",
                           params: dict[str, Any] | None = None, on: date | None = None) -> int:
    logged = await activity_service.log_activity(
        await principal_of(student), settings, str(uuid.uuid4()), type_key,
        on or local_today(settings.display_timezone), params or {"waste_kind": "device_left_on"},
    )
    return logged.activity.id


async def upload(client: httpx.AsyncClient, token: str | None, activity_id: int | str, data: bytes,
                 filename: str = "IMG_0001.jpg", mime: str = "image/jpeg",
                 expect_status: int | None = 200) -> dict[str, Any]:
    """A GraphQL multipart request (operations, map, one file part)."""
    operations = {"query": UPLOAD, "variables": {"activityId": str(activity_id), "file": None}}
    response = await client.post(
        "/graphql", headers={"authorization": f"Bearer {token}"} if token else {},
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, data, mime)},
    )
    if expect_status is not None:
        assert response.status_code == expect_status, response.text
    body = response.json()
    return body["data"]["uploadActivityPhoto"] if response.status_code == 200 and body.get("data") else body
