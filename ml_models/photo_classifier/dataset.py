"""Labelled photos: the shared evaluation set and extra training sets on disk.

Two sources share one record type, :class:`Example`:

* ``photo_eval`` (``MANIFEST.csv`` with file, class, source_repo, source_path, license, notes),
  read in place and never copied into the repository;
* extra datasets, e.g. written by ``pvpp ml export-reviewed``: a folder holding ``labels.csv``
  with the columns ``file,category,licence,source`` and the image files it names (paths
  relative to the folder). See README.md beside this module.

Only examples whose licence allows training (:func:`is_trainable_licence`) may fit the shipped
head; the rest are for evaluation only.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ml_models.photo_classifier.spec import CATEGORIES

EXTRA_LABELS_FILE = "labels.csv"
EXTRA_COLUMNS = ("file", "category", "licence", "source")
# Licence values allowed in an extra dataset's licence column that permit training.
TRAINABLE_LICENCES = frozenset({"MIT", "Apache-2.0", "pvpp-training-consent"})
# "no LICENSE file" only says where the terms are not written down; "no licence" restricts.
_RESTRICTED = re.compile(r"research|non-commercial|unknown|no licen[cs]e\b(?! file)|GPL",
                         re.IGNORECASE)
# CC BY (attribution only), any version; CC BY-NC, -ND and -SA do not match.
_ATTRIBUTION = re.compile(r"^CC[- ]BY[- ]\d\.\d\b")
_PERMISSIVE = re.compile(rf"^(MIT|Apache-2\.0)\b|{_ATTRIBUTION.pattern}")


class DatasetError(ValueError):
    """A dataset folder or manifest is malformed (missing column, unknown category, file)."""


@dataclass(frozen=True)
class Example:
    """One labelled photo and what its licence allows."""

    path: Path
    category: str
    licence: str
    source: str
    trainable: bool


def is_trainable_licence(licence: str) -> bool:
    """True for MIT, Apache-2.0 and CC BY images (and project-consented photos); never for
    research, non-commercial, share-alike or no-derivatives terms.

    The photo_eval licence column is free text, e.g. "repo MIT; images from Places365 val
    (research/non-commercial terms)" — the repository is MIT but the images are not, so any
    restricting word wins over a permissive one. CC BY photos need their author credited
    wherever the training data is listed (:func:`needs_attribution`, MODEL_CARD.md).
    """
    text = licence.strip()
    if text in TRAINABLE_LICENCES:
        return True
    return bool(_PERMISSIVE.match(text)) and not _RESTRICTED.search(text)


def needs_attribution(licence: str) -> bool:
    """True for CC BY licences: a model trained on the photo must credit its author."""
    return bool(_ATTRIBUTION.match(licence.strip()))


def load_photo_eval(root: Path) -> list[Example]:
    """All photos listed in ``root/MANIFEST.csv``."""
    manifest = root / "MANIFEST.csv"
    if not manifest.is_file():
        raise DatasetError(f"{manifest} not found")
    examples = []
    with manifest.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            examples.append(_example(root, row["file"], row["class"], row["license"],
                                     f"photo_eval/{row['file']}"))
    return examples


def load_extra(folder: Path) -> list[Example]:
    """All photos listed in ``folder/labels.csv`` (the export-reviewed format)."""
    labels = folder / EXTRA_LABELS_FILE
    if not labels.is_file():
        raise DatasetError(f"{labels} not found")
    with labels.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(EXTRA_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise DatasetError(f"{labels} lacks columns {sorted(missing)}")
        return [_example(folder, row["file"], row["category"], row["licence"],
                         f"{folder.name}/{row['file']}") for row in reader]


def _example(root: Path, file: str, category: str, licence: str, source: str) -> Example:
    """Validate one row and build its Example."""
    if category not in CATEGORIES:
        raise DatasetError(f"{source}: unknown category {category!r}")
    path = (root / file).resolve()
    if not path.is_relative_to(root.resolve()) or os.path.isabs(file):
        raise DatasetError(f"{source}: file must be a relative path inside {root}")
    if not path.is_file():
        raise DatasetError(f"{source}: {path} not found")
    return Example(path, category, licence, source, is_trainable_licence(licence))


def content_hash(path: Path) -> str:
    """First 16 hex digits of the file's SHA-256: identifies a photo across datasets."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
