"""``pvpp bench photos``: photos/s through the worker path, beside bare onnxruntime inference.

End to end, per photo, from bytes in memory: validate + sanitise (decode, EXIF, re-encode
JPEG and thumbnail), perceptual hashes and quality warnings (``backend.photos.pipeline``),
classification of the sanitised image (``PhotoClassifier.predict``), both files written to a
``LocalDiskStore`` and the ``photo`` row with its band keys inserted (SQLite, migrations
applied). The CPU part runs in a thread pool (``--threads``, default: the core count; Pillow
and onnxruntime release the GIL), the database writes in the event loop.

The reference in the same run: bare inference on the same images — decode the original,
preprocess, ``session.run`` — in the same pool with the same single-threaded session.

Two image sets: the real photos of ``shared/photo_eval`` (about 0.1-0.6 MP) and generated
12 MP camera-like JPEGs (4000x3000). Goal: >= 60 photos/s and >= 0.7 of bare inference on the
real photos. The machine load (``uptime``) is recorded at the start and the end.
Writes ``benchmarks/results/photos.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.scratch import uptime

RESULTS = Path(__file__).resolve().parent / "results" / "photos.json"
PHOTO_EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "photo_eval"
GOAL_PHOTOS_PER_SECOND = 60.0
GOAL_RATIO = 0.7


def _generated(n: int, size: tuple[int, int] = (4000, 3000)) -> list[bytes]:
    out = []
    for seed in range(n):
        rng = np.random.default_rng(seed)
        small = rng.uniform(0, 255, (12, 16, 3)).astype(np.uint8)
        im = Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)
        noise = rng.normal(0, 6, (size[1], size[0], 3))
        im = Image.fromarray(np.clip(np.asarray(im, np.float32) + noise, 0, 255).astype(np.uint8))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def _real() -> list[bytes]:
    files = sorted(p for p in PHOTO_EVAL.glob("*/*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    return [p.read_bytes() for p in files]


async def _end_to_end(images: list[bytes], classifier, pool: ThreadPoolExecutor, store, rounds: int) -> float:
    from tortoise.transactions import in_transaction

    from backend.photos.models import Photo, PhotoBandKey
    from backend.photos.pipeline import process
    from backend.photos.storage import content_key

    loop = asyncio.get_running_loop()

    def cpu(data: bytes):
        processed = process(data)
        prediction = classifier.predict(processed.photo.image)
        return processed, prediction

    async def one(data: bytes, activity_id: int, user_id: int) -> None:
        processed, prediction = await loop.run_in_executor(pool, cpu, data)
        photo = processed.photo
        keys = (content_key(photo.data, "photos"), content_key(photo.thumbnail, "thumbs"))
        await store.put(keys[0], photo.data, "image/jpeg")
        await store.put(keys[1], photo.thumbnail, "image/jpeg")
        hashes = processed.signed_crop_hashes()
        async with in_transaction() as conn:
            row = await Photo.create(
                using_db=conn, activity_id=activity_id, uploader_id=user_id, store_key=keys[0], thumb_key=keys[1],
                width=photo.width, height=photo.height, bytes=len(photo.data), thumb_bytes=len(photo.thumbnail),
                source_format=str(photo.source_format), source_bytes=photo.source_bytes,
                sha256=photo.original_sha256, original_sha256=photo.original_sha256,
                phash=hashes[0][0], dhash=hashes[0][1], crop_hashes=hashes, had_location=photo.exif.had_location,
                warnings=processed.warnings_json(), model_category=prediction.category,
                model_confidence=prediction.confidence, model_version=prediction.model_version,
            )
            await PhotoBandKey.bulk_create([PhotoBandKey(key=k, photo_id=row.id) for k in processed.band_keys],
                                           using_db=conn, ignore_conflicts=True)

    activity_id, user_id = await _fixture_ids()
    started, cpu_before = time.perf_counter(), time.process_time()
    work = [d for _ in range(rounds) for d in images]
    sem = asyncio.Semaphore(pool._max_workers * 2)

    async def bounded(d: bytes) -> None:
        async with sem:
            await one(d, activity_id, user_id)

    await asyncio.gather(*(bounded(d) for d in work))
    return len(work) / (time.perf_counter() - started), (time.process_time() - cpu_before) / len(work)


async def _fixture_ids() -> tuple[int, int]:
    """One user, household, programme and pending activity for the photo rows to point at."""
    import uuid
    from datetime import date

    from backend.accounts.models import Role, User
    from backend.activities.models import Activity, ActivityStatus
    from backend.municipalities.models import Municipality
    from backend.rewards.models import Programme

    existing = await Activity.first()
    if existing is not None:
        return existing.id, existing.user_id
    muni = await Municipality.create(name="Bench-si", code="99999")
    user = await User.create(pseudonym=uuid.uuid4(), email="bench@example.org", display_name="bench",
                             role=Role.STUDENT, password_hash="x")
    programme = await Programme.create(municipality=muni, name="bench", year=2026, rules_year=2026,
                                       starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), coin_budget_won=1)
    activity = await Activity.create(user=user, programme=programme, idempotency_key="bench", payload_hash="x",
                                     activity_type="waste_found", catalogue_version=1, params={},
                                     occurred_on=date(2026, 11, 1), status=ActivityStatus.PENDING_EVIDENCE,
                                     kwh=0, shifted_kwh=0)
    return activity.id, user.id


def _bare(images: list[bytes], classifier, pool: ThreadPoolExecutor, rounds: int) -> float:
    prep = classifier.preprocessing

    def one(data: bytes) -> None:
        with Image.open(io.BytesIO(data)) as im:
            batch = prep.batch([im.convert("RGB")])
        classifier.run(batch)

    work = [d for _ in range(rounds) for d in images]
    started, cpu_before = time.perf_counter(), time.process_time()
    list(pool.map(one, work))
    return len(work) / (time.perf_counter() - started), (time.process_time() - cpu_before) / len(work)


async def _run(args: argparse.Namespace) -> dict:
    from backend.db import close_db, init_db, migrate
    from backend.photos.storage import LocalDiskStore
    from backend.settings import Settings
    from ml_models.photo_classifier.inference import PhotoClassifier
    from ml_models.photo_classifier.spec import MODEL_PATH

    uptime_at_start = uptime()
    classifier = PhotoClassifier.load(MODEL_PATH, threads=1)
    sets = {"photo_eval": _real(), "generated_12mp": _generated(args.generated)}
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.threads) as pool:
        settings = Settings(env="test", var_dir=Path(tmp), database_url=f"sqlite://{tmp}/bench.sqlite3",
                            secret_key="bench-secret-key-that-is-long-enough-for-hs256")
        await migrate(settings)
        await init_db(settings)
        try:
            store = LocalDiskStore(Path(tmp) / "photos")
            for name, images in sets.items():
                if not images:
                    results[name] = {"skipped": "no images"}
                    continue
                rounds = args.rounds if name == "photo_eval" else 1
                _bare(images[:4], classifier, pool, 1)  # warm-up
                await _end_to_end(images[:4], classifier, pool, store, 1)  # and the hashes' per-size set-up
                bare, bare_cpu = _bare(images, classifier, pool, rounds)
                e2e, e2e_cpu = await _end_to_end(images, classifier, pool, store, rounds)
                cores = min(args.threads, os.cpu_count() or 1)
                results[name] = {
                    "images": len(images), "rounds": rounds,
                    "megapixels_mean": round(float(np.mean([_mp(d) for d in images])), 2),
                    "end_to_end_photos_per_second": round(e2e, 1),
                    "bare_inference_photos_per_second": round(bare, 1),
                    "ratio_to_bare": round(e2e / bare, 2),
                    # CPU time per photo (all threads of this process): what other work on a shared
                    # machine barely changes; the rate is what it gives with every core busy.
                    "end_to_end_cpu_ms_per_photo": round(e2e_cpu * 1e3, 2),
                    "bare_inference_cpu_ms_per_photo": round(bare_cpu * 1e3, 2),
                    "cpu_ratio_to_bare": round(bare_cpu / e2e_cpu, 2),
                    "cpu_bound_end_to_end_photos_per_second": round(cores / e2e_cpu, 1),
                    "meets_goal": e2e >= GOAL_PHOTOS_PER_SECOND and e2e / bare >= GOAL_RATIO,
                }
                print(f"{name}: end-to-end {e2e:.1f} photos/s, bare inference {bare:.1f}/s, ratio {e2e / bare:.2f}; "
                      f"CPU per photo {e2e_cpu * 1e3:.1f} ms against {bare_cpu * 1e3:.1f} ms "
                      f"(ratio {bare_cpu / e2e_cpu:.2f})", flush=True)
        finally:
            await close_db()
    return {
        "benchmark": "photos", "goal": {"photos_per_second": GOAL_PHOTOS_PER_SECOND, "ratio_to_bare": GOAL_RATIO},
        "threads": args.threads, "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "uptime_at_start": uptime_at_start, "uptime_at_end": uptime(), "results": results,
    }


def _mp(data: bytes) -> float:
    with Image.open(io.BytesIO(data)) as im:
        return im.width * im.height / 1e6


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pvpp bench photos", description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=2, help="passes over the photo_eval set")
    parser.add_argument("--generated", type=int, default=12, help="generated 12 MP JPEGs")
    parser.add_argument("--output", type=Path, default=RESULTS)
    ns = parser.parse_args(args or [])
    report = asyncio.run(_run(ns))
    ns.output.parent.mkdir(parents=True, exist_ok=True)
    ns.output.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {ns.output}")
    return 0
