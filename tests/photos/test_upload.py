"""uploadActivityPhoto over the real ASGI app: multipart, hostile files, privacy, scope, URLs."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from backend.photos.exif import read_exif
from backend.photos.models import Photo, PhotoBandKey, PhotoStatus
from backend.photos.service import store_for
from tests.builders import build_world, gql, sign_in, start_programmes
from tests.photos.fixtures.builders import encode, jpeg, photo, png_raw
from tests.photos.support import camera_jpeg, exif_taken, pending_activity, upload

NOW = datetime.now(UTC)


@pytest.fixture
async def world(db):
    world = await build_world()
    await start_programmes(world)
    return world


async def test_upload_stores_only_sanitised_pixels_and_strips_gps(client, db, world):
    token = await sign_in(client, world.family_a1.student.email)
    activity = await pending_activity(db, world.family_a1.student)
    original = camera_jpeg(1, NOW)
    assert read_exif(original).had_location
    result = await upload(client, token, activity, original)
    assert result["__typename"] == "PhotoUploaded" and result["replayed"] is False, result
    assert result["photo"]["status"] == "UPLOADED" and result["photo"]["hadLocation"] is True
    row = await Photo.get(id=int(result["photo"]["id"]))
    assert await PhotoBandKey.filter(photo_id=row.id).count() > 0
    store = store_for(db)
    stored = await store.get(row.store_key)
    thumb = await store.get(row.thumb_key)
    for data in (stored, thumb):
        assert b"Exif" not in data and b"Samsung" not in data and not read_exif(data).had_location
        im = Image.open(io.BytesIO(data))
        assert im.format == "JPEG" and not im.getexif() and not im.getexif().get_ifd(0x8825)
    assert stored != original and row.original_sha256 != row.sha256
    files = {p.read_bytes() for p in store.root.rglob("*.jpg")}
    assert original not in files  # the original bytes are never stored


@pytest.mark.parametrize("tag", ["original", "digitized", "modified"])
async def test_phone_photo_without_offset_tag_uploads(client, db, world, tag):
    """Most phones write DateTimeOriginal without OffsetTimeOriginal: the upload must succeed."""
    token = await sign_in(client, world.family_a1.student.email)
    activity = await pending_activity(db, world.family_a1.student)
    exif = exif_taken(NOW.replace(tzinfo=None), offset=None)
    sub = exif.get_ifd(0x8769)
    taken = sub.pop(0x9003)
    if tag == "digitized":
        sub[0x9004] = taken
    elif tag == "modified":
        exif[0x0132] = taken
    else:
        sub[0x9003] = taken
    original = encode(photo(1200, 900, seed=7), "JPEG", exif=exif.tobytes())
    result = await upload(client, token, activity, original)
    assert result["__typename"] == "PhotoUploaded", result
    row = await Photo.get(id=int(result["photo"]["id"]))
    assert row.captured_at_source == f"local:{tag}"
    assert row.captured_at.replace(tzinfo=None, microsecond=0) == NOW.replace(tzinfo=None, microsecond=0)


@pytest.mark.parametrize(("name", "data", "filename", "mime", "code"), [
    ("empty", b"", "a.jpg", "image/jpeg", "empty"),
    ("truncated", jpeg(photo(400, 300))[:1500], "a.jpg", "image/jpeg", "truncated"),
    ("bomb", png_raw(50_000, 50_000, 8, 0, rows=None), "a.png", "image/png", "decompression_bomb"),
    ("polyglot", jpeg(photo(300, 200)) + b"<html><script>alert(1)</script></html>", "a.jpg", "image/jpeg", "polyglot"),
    ("wrong mime", encode(photo(300, 200), "PNG"), "a.jpg", "image/jpeg", "type_mismatch"),
    ("not an image", b"%PDF-1.4\n1 0 obj <<>>", "a.pdf", "application/pdf", "unsupported_format"),
])
async def test_hostile_files_are_refused_with_typed_errors(client, db, world, name, data, filename, mime, code):
    token = await sign_in(client, world.family_a1.student.email)
    activity = await pending_activity(db, world.family_a1.student)
    result = await upload(client, token, activity, data, filename, mime)
    assert result["__typename"] == "PhotoRejected", (name, result)
    assert result["code"] == code and result["message"]
    assert await Photo.all().count() == 0


async def test_oversized_upload_is_refused_before_reading_it(client, db, world):
    token = await sign_in(client, world.family_a1.student.email)
    activity = await pending_activity(db, world.family_a1.student)
    big = b"\xff\xd8\xff" + b"\x00" * (db.photo_max_upload_bytes + 200_000)
    body = await upload(client, token, activity, big, expect_status=413)
    assert body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    # within the request limit but over the photo limit: a typed rejection
    slightly = b"\xff\xd8\xff" + b"\x00" * (db.photo_max_upload_bytes + 10)
    result = await upload(client, token, activity, slightly)
    assert result["__typename"] == "PhotoRejected" and result["code"] == "too_large"
    assert await Photo.all().count() == 0


async def test_only_the_owner_uploads_and_only_while_evidence_is_awaited(client, db, world):
    activity = await pending_activity(db, world.family_a1.student)
    for who in (world.family_a1.parent, world.family_a2.student, world.teacher_a):
        token = await sign_in(client, who.email)
        result = await upload(client, token, activity, camera_jpeg(2, NOW))
        assert result["__typename"] == "NotAllowed", result
    body = await upload(client, None, activity, camera_jpeg(2, NOW), expect_status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    token = await sign_in(client, world.family_a1.student.email)
    accepted = await pending_activity(db, world.family_a1.student, "gaming_reduced", {"device": "console", "hours": 1})
    result = await upload(client, token, accepted, camera_jpeg(3, NOW))
    assert result["__typename"] == "NotAwaitingEvidence" and result["status"] == "accepted"
    assert await Photo.all().count() == 0


async def test_same_photo_twice_is_idempotent_for_the_activity_and_refused_elsewhere(client, db, world):
    token = await sign_in(client, world.family_a1.student.email)
    first = await pending_activity(db, world.family_a1.student)
    data = camera_jpeg(4, NOW)
    a = await upload(client, token, first, data)
    b = await upload(client, token, first, data)
    assert b["__typename"] == "PhotoUploaded" and b["replayed"] is True and b["photo"]["id"] == a["photo"]["id"]
    other = await pending_activity(db, world.family_a1.student, params={"waste_kind": "empty_room_lights"})
    again = await upload(client, token, other, data)
    assert again["__typename"] == "DuplicatePhoto", again
    different = await upload(client, token, first, camera_jpeg(5, NOW))
    assert different["__typename"] == "NotAwaitingEvidence"  # one live photo per activity
    assert await Photo.all().count() == 1


async def test_photo_urls_are_signed_short_lived_and_scoped(client, db, world):
    token = await sign_in(client, world.family_a1.student.email)
    activity = await pending_activity(db, world.family_a1.student)
    result = await upload(client, token, activity, camera_jpeg(6, NOW))
    url, thumb = result["photo"]["url"], result["photo"]["thumbnailUrl"]
    ok = await client.get(url)
    assert ok.status_code == 200 and ok.headers["content-type"] == "image/jpeg"
    assert "private" in ok.headers["cache-control"] and Image.open(io.BytesIO(ok.content)).format == "JPEG"
    assert (await client.get(thumb)).status_code == 200
    path = urlsplit(url).path
    query = parse_qs(urlsplit(url).query)
    photo_id = path.split("/")[2]
    assert (await client.get(path)).status_code == 403  # no signature: not world-readable
    assert (await client.get(f"{path}?exp={query['exp'][0]}&sig={'0' * 40}")).status_code == 403
    assert (await client.get(f"{path}?exp=1000&sig={query['sig'][0]}")).status_code == 403  # expired / altered
    assert (await client.get(f"/photos/{int(photo_id) + 1}/full?exp={query['exp'][0]}&sig={query['sig'][0]}")
            ).status_code == 403  # a signature is for one photo only
    assert (await client.get(f"/photos/{photo_id}/thumb?exp={query['exp'][0]}&sig={query['sig'][0]}")
            ).status_code == 403  # and one variant

    query_photo = "query($id: ID!) { photo(id: $id) { __typename ... on Photo { id url } ... on Error { message } } }"
    expected = {world.family_a1.student: "Photo", world.family_a1.parent: "Photo", world.teacher_a: "Photo",
                world.admin_a: "Photo", world.operator: "Photo", world.family_a2.student: "NotAllowed",
                world.family_a2.parent: "NotAllowed", world.teacher_b: "NotAllowed", world.officer_a: "NotAllowed"}
    for user, typename in expected.items():
        body = await gql(client, query_photo, {"id": photo_id}, await sign_in(client, user.email))
        assert body["data"]["photo"]["__typename"] == typename, (user.email, body)
    row = await Photo.get(id=int(photo_id))
    assert row.status is PhotoStatus.UPLOADED


@pytest.mark.parametrize("value", [[1, 2], 1.5, True, "not a file", {"a": 1}])
async def test_a_file_variable_that_is_not_a_file_part_is_validation_failed(client, db, world, value):
    """``Upload`` takes any JSON value in a plain JSON request: only a multipart file part is a file."""
    from tests.photos.support import UPLOAD

    token = await sign_in(client, world.family_a1.student.email)
    activity = await pending_activity(db, world.family_a1.student)
    body = await gql(client, UPLOAD, {"activityId": str(activity), "file": value}, token)
    result = body["data"]["uploadActivityPhoto"]
    assert result["__typename"] == "ValidationFailed" and "multipart" in result["message"], body
    assert await Photo.all().count() == 0
