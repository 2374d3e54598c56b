"""A missing, corrupt or mismatched model raises ModelUnavailable with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from ml_models.photo_classifier import spec
from ml_models.photo_classifier.inference import ModelUnavailable, PhotoClassifier


def _load_error(path: Path) -> ModelUnavailable:
    with pytest.raises(ModelUnavailable) as caught:
        PhotoClassifier.load(path)
    return caught.value


def _with_metadata(tmp_path: Path, **changes: str | None) -> Path:
    model = onnx.load(str(spec.MODEL_PATH))
    props = {p.key: p.value for p in model.metadata_props}
    for key, value in changes.items():
        key = key.replace("__", ".")
        if value is None:
            props.pop(key)
        else:
            props[key] = value
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, props)
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    return path


def test_missing_file(tmp_path: Path) -> None:
    error = _load_error(tmp_path / "nope.onnx")
    assert error.reason == "missing" and "nope.onnx" in str(error)


def test_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"not an onnx model at all")
    assert _load_error(path).reason == "corrupt"


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(spec.MODEL_PATH.read_bytes()[: 5_000_000])
    assert _load_error(path).reason == "corrupt"


def test_missing_version(tmp_path: Path) -> None:
    assert _load_error(_with_metadata(tmp_path, pvpp__version=None)).reason == "metadata"


def test_unknown_format(tmp_path: Path) -> None:
    path = _with_metadata(tmp_path, pvpp__format="something-else/9")
    assert _load_error(path).reason == "metadata"


def test_labels_other_than_the_app_categories(tmp_path: Path) -> None:
    labels = json.dumps(list(reversed(spec.CATEGORIES)))
    assert _load_error(_with_metadata(tmp_path, pvpp__labels=labels)).reason == "mismatch"


def test_preprocessing_disagreeing_with_input_shape(tmp_path: Path) -> None:
    prep = spec.PREPROCESSING.to_json().replace('"size": 224', '"size": 192')
    assert _load_error(_with_metadata(tmp_path, pvpp__preprocessing=prep)).reason == "mismatch"
