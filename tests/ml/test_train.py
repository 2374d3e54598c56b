"""train on a tiny dataset in the export-reviewed format: numpy + onnx only, no torch."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml_models.photo_classifier import spec
from ml_models.photo_classifier.cli import main
from ml_models.photo_classifier.dataset import DatasetError, load_extra
from ml_models.photo_classifier.inference import PhotoClassifier


def _dataset(folder: Path, rows: list[tuple[str, str, str]]) -> Path:
    """Write synthetic photos and labels.csv: (category, licence, colour seed) per row."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    with (folder / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "category", "licence", "source"])
        for i, (category, licence, tone) in enumerate(rows):
            base = np.full((120, 160, 3), {"dark": 20, "light": 230}[tone], np.uint8)
            noise = rng.integers(0, 25, base.shape, dtype=np.uint8)
            name = f"img/{i:03d}.jpg"
            (folder / "img").mkdir(exist_ok=True)
            Image.fromarray(base + noise).save(folder / name)
            writer.writerow([name, category, licence, f"test-{i}"])
    return folder


def test_train_writes_a_loadable_model_with_a_new_version(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "reviewed", [
        ("bill_or_meter", "pvpp-training-consent", "light"),
        ("bill_or_meter", "MIT", "light"),
        ("invalid", "Apache-2.0", "dark"),
        ("invalid", "MIT", "dark"),
        ("device_on", "research only", "dark"),
    ])
    output = tmp_path / "model.onnx"
    code = main(["train", "--no-photo-eval", "--extra-data", str(data),
                 "--backbone", str(spec.MODEL_PATH), "--output", str(output)])
    assert code == 0
    new = PhotoClassifier.load(output)
    old = PhotoClassifier.load(spec.MODEL_PATH)
    assert new.version != old.version
    training = json.loads(new.metadata[spec.META_TRAINING])
    assert training["examples"] == 4, "the research-only photo must not train"
    assert training["per_category"]["bill_or_meter"] == 2
    assert training["per_category"]["device_on"] == 0
    light = Image.fromarray(np.full((120, 160, 3), 235, np.uint8))
    assert new.predict(light).probabilities["bill_or_meter"] > \
        old.predict(light).probabilities["bill_or_meter"]
    assert "torch" not in sys.modules


def test_train_refuses_a_dataset_without_trainable_photos(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _dataset(tmp_path / "restricted", [("invalid", "unknown", "dark")])
    code = main(["train", "--no-photo-eval", "--extra-data", str(data),
                 "--backbone", str(spec.MODEL_PATH), "--output", str(tmp_path / "m.onnx")])
    assert code == 1 and "licence" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def test_dataset_format_is_validated(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "bad", [("toaster", "MIT", "dark")])
    with pytest.raises(DatasetError, match="unknown category"):
        load_extra(data)
    (tmp_path / "nolabels").mkdir()
    with pytest.raises(DatasetError, match=r"labels\.csv"):
        load_extra(tmp_path / "nolabels")
    escape = tmp_path / "escape"
    escape.mkdir()
    (escape / "labels.csv").write_text("file,category,licence,source\n../x.jpg,invalid,MIT,s\n")
    with pytest.raises(DatasetError, match="inside"):
        load_extra(escape)
