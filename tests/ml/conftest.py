"""Fixtures for the photo classifier tests: the committed model and the shared photos."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from ml_models.photo_classifier.inference import PhotoClassifier
from ml_models.photo_classifier.spec import MODEL_PATH

PHOTO_EVAL = Path(__file__).resolve().parents[2].parent / "shared" / "photo_eval"


@pytest.fixture(scope="session")
def photo_eval() -> Path:
    """The shared labelled photos; skipped locally when absent, a failure on CI."""
    if not (PHOTO_EVAL / "MANIFEST.csv").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"photo_eval not found at {PHOTO_EVAL} (required on CI)")
        pytest.skip(f"photo_eval not found at {PHOTO_EVAL}")
    return PHOTO_EVAL


@pytest.fixture(scope="session")
def manifest_rows(photo_eval: Path) -> list[dict[str, str]]:
    """photo_eval/MANIFEST.csv as read by csv, independently of the loader under test."""
    with (photo_eval / "MANIFEST.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def classifier() -> PhotoClassifier:
    """The committed model, loaded once."""
    return PhotoClassifier.load(MODEL_PATH)
