"""``pvpp ml export-reviewed --output DIR``: reviewed photos as a training set.

Writes the extra-dataset format of ``ml_models/photo_classifier/README.md``: ``labels.csv``
(``file,category,licence,source``) plus the sanitised JPEGs. Only photos a person decided
(``approved`` or ``rejected``) whose uploader consented to training use — and a guardian
too for a student under the consent age — are exported, with the licence
``pvpp-training-consent``; consent is read at export time, so a withdrawal is respected by
the next export. Labels: the reviewer's chosen category, else the activity's expected
category for an approved photo; a rejected photo is ``invalid`` only when the reviewer chose
that (or chose nothing and the model agreed it is invalid) — a photo rejected for another
reason (wrong date, duplicate) is not a label. File names and sources carry only photo ids.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

from backend.accounts.models import User
from backend.activities.models import Activity
from backend.photos import routing
from backend.photos.models import Photo, PhotoStatus
from backend.photos.service import store_for, training_consent_in_force
from backend.settings import Settings
from ml_models.photo_classifier.dataset import EXTRA_COLUMNS, EXTRA_LABELS_FILE
from ml_models.photo_classifier.spec import CATEGORIES, INVALID

LICENCE = "pvpp-training-consent"


@dataclass
class ExportReport:
    exported: int = 0
    skipped_no_consent: int = 0
    skipped_no_label: int = 0
    per_category: dict[str, int] = field(default_factory=dict)


def label_for(photo: Photo, activity: Activity) -> str | None:
    """The training category of a reviewed photo, or None when it teaches nothing certain."""
    if photo.review_category in CATEGORIES:
        return photo.review_category
    if photo.status is PhotoStatus.APPROVED:
        return routing.primary_category(activity.activity_type, activity.params)
    if photo.status is PhotoStatus.REJECTED and photo.model_category == INVALID:
        return INVALID
    return None


async def export_reviewed(settings: Settings, output: Path) -> ExportReport:
    output.mkdir(parents=True, exist_ok=True)
    images = output / "images"
    images.mkdir(exist_ok=True)
    store = store_for(settings)
    report = ExportReport()
    consent: dict[int, bool] = {}
    rows = []
    for photo in await Photo.filter(status__in=[PhotoStatus.APPROVED, PhotoStatus.REJECTED]).order_by("id"):
        if photo.uploader_id not in consent:
            consent[photo.uploader_id] = await training_consent_in_force(settings, await User.get(id=photo.uploader_id))
        if not consent[photo.uploader_id]:
            report.skipped_no_consent += 1
            continue
        category = label_for(photo, await Activity.get(id=photo.activity_id))
        if category is None:
            report.skipped_no_label += 1
            continue
        name = f"images/photo-{photo.id}.jpg"
        (output / name).write_bytes(await store.get(photo.store_key))
        rows.append({"file": name, "category": category, "licence": LICENCE, "source": f"photo:{photo.id}"})
        report.exported += 1
        report.per_category[category] = report.per_category.get(category, 0) + 1
    tmp = output / (EXTRA_LABELS_FILE + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(EXTRA_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(output / EXTRA_LABELS_FILE)
    return report


def main(argv: list[str], settings: Settings) -> int:
    """``pvpp ml export-reviewed``; prints a one-line summary."""
    parser = argparse.ArgumentParser(prog="pvpp ml export-reviewed",
                                     description="Export reviewed photos (with training consent) as a dataset.")
    parser.add_argument("--output", type=Path, required=True, help="folder to write labels.csv and images/ into")
    args = parser.parse_args(argv)

    async def run() -> ExportReport:
        from backend.db import close_db, init_db

        await init_db(settings)
        try:
            return await export_reviewed(settings, args.output)
        finally:
            await close_db()

    report = asyncio.run(run())
    print(f"exported {report.exported} photos {report.per_category} to {args.output}; skipped "
          f"{report.skipped_no_consent} without training consent, {report.skipped_no_label} without a clear label",
          file=sys.stdout)
    return 0
