"""verify_photo with a real arq Worker in burst mode: routing, duplicates, retries, model reloads,
review decisions through the ledger, and the training export's consent filter."""

from __future__ import annotations

import csv
import io
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import onnx
import pytest
from arq import create_pool
from arq.worker import Worker
from PIL import Image

from backend.activities.models import Activity, ActivityStatus
from backend.ledger.models import LedgerEntry
from backend.photos import service
from backend.photos.export import export_reviewed
from backend.photos.models import Photo, PhotoStatus
from backend.photos.verification import read_health
from ml_models.photo_classifier.spec import META_VERSION, MODEL_PATH
from tests.builders import build_world, gql, principal_of, sign_in, start_programmes
from tests.photos.support import camera_jpeg, pending_activity
from workers.main import WorkerSettings, redis_settings

NOW = datetime.now(UTC)


async def _run(settings, *photo_ids: int, max_tries: int = 5):
    pool = await create_pool(redis_settings(settings))
    try:
        jobs = [await pool.enqueue_job("verify_photo", pid, _job_id=f"test-{uuid.uuid4()}") for pid in photo_ids]
        worker = Worker(functions=WorkerSettings.functions, redis_pool=pool, burst=True, poll_delay=0.05,
                        handle_signals=False, ctx={"settings": settings}, max_tries=max_tries,
                        retry_jobs=True)
        await worker.main()
        results = []
        for job in jobs:
            try:
                results.append(await job.result(timeout=5))
            except Exception as exc:  # noqa: BLE001 - a job that failed for good
                results.append(exc)
        health = await read_health(pool)
    finally:
        await pool.aclose()
    return worker, results, health


@pytest.fixture
async def world(db):
    world = await build_world()
    await start_programmes(world)
    return world


async def _upload(settings, user, data: bytes, **activity) -> Photo:
    activity_id = await pending_activity(settings, user, **activity)
    return (await service.upload_photo(await principal_of(user), settings, activity_id, data, "image/jpeg",
                                       "IMG_1.jpg")).photo


def _variant(data: bytes, kind: str) -> bytes:
    im = Image.open(io.BytesIO(data))
    if kind == "resized":
        im = im.resize((im.width // 2, im.height // 2))
    elif kind == "cropped":
        im = im.crop((int(im.width * 0.06), int(im.height * 0.06), im.width, im.height))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=35 if kind == "recompressed" else 85)
    return out.getvalue()


async def test_verify_routes_flags_duplicates_and_is_idempotent(db, world):
    original = camera_jpeg(11, NOW)
    first = await _upload(db, world.family_a1.student, original)
    copies = {kind: await _upload(db, world.family_a2.student, _variant(original, kind),
                                  params={"waste_kind": kind_param})
              for kind, kind_param in (("resized", "device_left_on"), ("recompressed", "empty_room_lights"),
                                       ("cropped", "street_light_daytime"))}
    exact = await _upload(db, world.family_b.student, original)
    worker, results, health = await _run(db, first.id, *(p.id for p in copies.values()), exact.id)
    assert worker.jobs_failed == 0, results
    assert health["accepting"] is True and health["model_version"]
    await first.refresh_from_db()
    assert first.status in (PhotoStatus.NEEDS_REVIEW, PhotoStatus.AUTO_ACCEPTED, PhotoStatus.AUTO_REJECTED)
    assert first.model_version and first.model_category and first.duplicate_of_id is None
    for kind, photo in copies.items():
        await photo.refresh_from_db()
        assert photo.duplicate_of_id == first.id, kind
        assert photo.status in (PhotoStatus.NEEDS_REVIEW, PhotoStatus.AUTO_REJECTED), kind
        assert photo.status is not PhotoStatus.AUTO_ACCEPTED
    await exact.refresh_from_db()
    assert exact.status is PhotoStatus.AUTO_REJECTED and exact.duplicate_of_id == first.id
    assert "someone else" in exact.status_reason
    activity = await Activity.get(id=exact.activity_id)
    assert activity.status is ActivityStatus.REJECTED and "someone else" in activity.status_reason

    before = [(p.id, p.status, p.attempts) for p in await Photo.all().order_by("id")]
    worker, results, _ = await _run(db, first.id, exact.id)  # a second run changes nothing
    assert all(r["changed"] is False for r in results)
    assert [(p.id, p.status, p.attempts) for p in await Photo.all().order_by("id")] == before


async def test_missing_or_corrupt_model_refuses_and_retries_then_hot_reload(db, world, tmp_path):
    model = tmp_path / "model.onnx"
    settings = db.model_copy(update={"photo_model_path": model, "photo_model_check_seconds": 0.0,
                                     "photo_verify_retry_seconds": 1})
    photo = await _upload(db, world.family_a1.student, camera_jpeg(21, NOW))
    worker, [result], health = await _run(settings, photo.id, max_tries=2)
    assert worker.jobs_retried >= 1 and worker.jobs_failed == 1, result
    await photo.refresh_from_db()
    assert photo.status is PhotoStatus.UPLOADED and photo.attempts == 2 and photo.model_version is None
    assert health["accepting"] is False and health["error_reason"] == "missing"
    assert await LedgerEntry.all().count() == 0

    model.write_bytes(b"not an onnx model")
    photo2 = await _upload(db, world.family_a2.student, camera_jpeg(22, NOW))
    worker, _, health = await _run(settings, photo2.id, max_tries=1)
    await photo2.refresh_from_db()
    assert photo2.status is PhotoStatus.UPLOADED and health["error_reason"] == "corrupt"

    shutil.copyfile(MODEL_PATH, model)  # the fixed model appears: picked up without a restart
    worker, [result], health = await _run(settings, photo2.id)
    await photo2.refresh_from_db()
    assert worker.jobs_failed == 0 and photo2.status is not PhotoStatus.UPLOADED and health["accepting"] is True
    served = photo2.model_version

    proto = onnx.load(str(MODEL_PATH))  # a new model version replaces the file atomically
    for prop in proto.metadata_props:
        if prop.key == META_VERSION:
            prop.value = "test-reloaded-version"
    onnx.save(proto, str(tmp_path / "next.onnx"))
    (tmp_path / "next.onnx").replace(model)
    photo3 = await _upload(db, world.family_b.student, camera_jpeg(23, NOW))
    await _run(settings, photo3.id)
    await photo3.refresh_from_db()
    assert photo3.model_version == "test-reloaded-version" != served


async def _needs_review(db, user, seed: int, **activity) -> Photo:
    photo = await _upload(db, user, camera_jpeg(seed, NOW), **activity)
    await Photo.filter(id=photo.id).update(status=PhotoStatus.NEEDS_REVIEW)
    return await Photo.get(id=photo.id)


async def test_review_decisions_move_points_through_the_ledger(client, db, world):
    student = world.family_a1.student
    approve_me = await _needs_review(db, student, 31)
    reject_me = await _needs_review(db, student, 32, params={"waste_kind": "empty_room_lights"})
    other_school = await _needs_review(db, world.family_b.student, 33)
    teacher = await sign_in(client, world.teacher_a.email)
    queue = await gql(client, "{ photoReviewQueue { __typename ... on PhotoReviewQueue { items { id status "
                              "activity { activityType expectedCategories } thumbnailUrl url warnings { name } } } } }",
                      token=teacher)
    ids = {item["id"] for item in queue["data"]["photoReviewQueue"]["items"]}
    assert ids == {str(approve_me.id), str(reject_me.id)}
    review = """mutation($id: ID!, $ok: Boolean!, $reason: String!) { reviewPhoto(photoId: $id, approve: $ok,
      reason: $reason) { __typename ... on Photo { status } ... on AlreadyDecided { current: status } ... on Error { message } } }"""
    r = await gql(client, review, {"id": str(approve_me.id), "ok": True, "reason": ""}, teacher)
    assert r["data"]["reviewPhoto"] == {"__typename": "Photo", "status": "APPROVED"}
    again = await gql(client, review, {"id": str(approve_me.id), "ok": False, "reason": "changed my mind"}, teacher)
    assert again["data"]["reviewPhoto"]["__typename"] == "AlreadyDecided"
    denied = await gql(client, review, {"id": str(other_school.id), "ok": True, "reason": ""}, teacher)
    assert denied["data"]["reviewPhoto"]["__typename"] == "NotAllowed"
    guardian = await sign_in(client, world.family_a1.parent.email)
    r = await gql(client, review, {"id": str(reject_me.id), "ok": False, "reason": "the lights are off"}, guardian)
    assert r["data"]["reviewPhoto"]["status"] == "REJECTED"
    own = await gql(client, review, {"id": str(other_school.id), "ok": True, "reason": ""},
                    await sign_in(client, world.family_b.student.email))
    assert own["data"]["reviewPhoto"]["__typename"] == "NotAllowed"

    accepted = await Activity.get(id=approve_me.activity_id)
    rejected = await Activity.get(id=reject_me.activity_id)
    assert accepted.status is ActivityStatus.ACCEPTED and rejected.status is ActivityStatus.REJECTED
    award = await LedgerEntry.get(ref=f"activity:{accepted.id}:award")
    assert award.amount == accepted.points > 0 and award.account == student.pseudonym
    assert not await LedgerEntry.filter(ref__startswith=f"activity:{rejected.id}:").exists()


def _labels(folder: Path) -> list[dict[str, str]]:
    with (folder / "labels.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


async def test_export_reviewed_only_with_consent(client, db, world, tmp_path):
    older, child = world.family_a2.student, world.family_a1.student  # 15 and 12 years old
    ok = await _needs_review(db, older, 41)
    young = await _needs_review(db, child, 42)
    none = await _needs_review(db, world.family_b.student, 43)
    for photo, reviewer in ((ok, world.teacher_a), (young, world.teacher_a), (none, world.teacher_b)):
        await service.review_photo(await principal_of(reviewer), photo.id, True, "")
    await service.set_training_consent(await principal_of(older), db, None, True)
    await service.set_training_consent(await principal_of(child), db, None, True)  # the guardian has not

    report = await export_reviewed(db, tmp_path / "out")
    rows = _labels(tmp_path / "out")
    assert [r["source"] for r in rows] == [f"photo:{ok.id}"] and report.skipped_no_consent == 2
    assert rows[0]["category"] == "device_on" and rows[0]["licence"] == "pvpp-training-consent"
    assert (tmp_path / "out" / rows[0]["file"]).read_bytes() == await service.store_for(db).get(ok.store_key)

    await service.set_training_consent(await principal_of(world.family_a1.parent), db, child.id, True)
    await export_reviewed(db, tmp_path / "out2")
    rows = _labels(tmp_path / "out2")
    assert sorted(r["source"] for r in rows) == sorted([f"photo:{ok.id}", f"photo:{young.id}"])
    from ml_models.photo_classifier.dataset import load_extra

    assert all(e.trainable for e in load_extra(Path(tmp_path / "out2")))


async def test_requeue_sweeper_requeues_stale_uploads(db, world):
    from workers.photos import requeue_unverified_photos

    photo = await _upload(db, world.family_a1.student, camera_jpeg(51, NOW))
    await Photo.filter(id=photo.id).update(created_at=NOW - timedelta(hours=1))
    pool = await create_pool(redis_settings(db))
    try:
        queued = await requeue_unverified_photos({"redis": pool})
        again = await requeue_unverified_photos({"redis": pool})  # the same job id: not queued twice
    finally:
        await pool.aclose()
    assert queued == [photo.id] and again == []
