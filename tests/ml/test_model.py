"""The committed model: metadata, predictions on real photos, batch inference."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from ml_models.photo_classifier import spec
from ml_models.photo_classifier.dataset import load_photo_eval, needs_attribution
from ml_models.photo_classifier.imagenet_mapping import load_imagenet_labels
from ml_models.photo_classifier.inference import PhotoClassifier
from ml_models.photo_classifier.preprocessing import Preprocessing


def test_metadata_is_complete(classifier: PhotoClassifier) -> None:
    meta = classifier.metadata
    assert meta[spec.META_FORMAT] == spec.META_FORMAT_VALUE
    assert classifier.version == meta[spec.META_VERSION] != ""
    assert tuple(json.loads(meta[spec.META_LABELS])) == spec.CATEGORIES
    assert Preprocessing.from_json(meta[spec.META_PREPROCESSING]) == spec.PREPROCESSING
    assert list(json.loads(meta[spec.META_IMAGENET_LABELS])) == load_imagenet_labels()
    assert set(json.loads(meta[spec.META_OUTPUTS])) == {
        spec.PROBABILITIES_OUTPUT, spec.STAGE1_OUTPUT, spec.IMAGENET_PROBS_OUTPUT,
        spec.EMBEDDING_OUTPUT}
    training = json.loads(meta[spec.META_TRAINING])
    assert training["examples"] == len(training["photo_hashes"]) > 0
    assert "efficientnet-lite0" in training["backbone"].lower()
    shape = classifier.session.get_inputs()[0].shape
    assert shape[1:] == [3, spec.PREPROCESSING.size, spec.PREPROCESSING.size]


def test_graph_is_one_onnx_file_with_the_head() -> None:
    model = onnx.load(str(spec.MODEL_PATH), load_external_data=False)
    assert {o.name for o in model.graph.output} >= {spec.PROBABILITIES_OUTPUT, spec.STAGE1_OUTPUT}
    assert any(n.name.startswith(spec.HEAD_PREFIX) and n.op_type == "Softmax"
               for n in model.graph.node)


def test_evaluation_json_belongs_to_the_committed_model(classifier: PhotoClassifier) -> None:
    evaluation = json.loads(spec.EVALUATION_PATH.read_text())
    assert evaluation["model_version"] == classifier.version
    assert classifier.version in spec.MODEL_CARD_PATH.read_text()


def test_trained_only_on_permissive_photos(classifier: PhotoClassifier, photo_eval: Path) -> None:
    from ml_models.photo_classifier.dataset import content_hash

    hashes = set(json.loads(classifier.metadata[spec.META_TRAINING])["photo_hashes"])
    restricted = [e for e in load_photo_eval(photo_eval) if not e.trainable]
    assert restricted and not any(content_hash(e.path) in hashes for e in restricted)


def test_cc_by_training_photos_are_recorded_and_credited(
        classifier: PhotoClassifier, photo_eval: Path, manifest_rows: list[dict[str, str]]) -> None:
    training = json.loads(classifier.metadata[spec.META_TRAINING])
    credited = [e for e in load_photo_eval(photo_eval)
                if e.trainable and needs_attribution(e.licence)]
    assert credited, "photo_eval has a CC BY photo (charger_plugged_001)"
    assert training["attribution_required"] == sorted(f"{e.source}: {e.licence}" for e in credited)
    origin = {f"photo_eval/{r['file']}": r for r in manifest_rows}
    card = spec.MODEL_CARD_PATH.read_text(encoding="utf-8")
    for example in credited:
        row = origin[example.source]
        assert row["source_repo"] in card and row["source_path"].split(" ")[0] in card


def test_predictions_where_evaluation_says_the_model_is_right(classifier: PhotoClassifier,
                                                              photo_eval: Path) -> None:
    """Every held-out photo the evaluation counted as correct is still predicted so."""
    evaluation = json.loads(spec.EVALUATION_PATH.read_text())
    right = [p for p in evaluation["per_photo"]
             if not p["trained_on"] and p["stage2"] == p["truth"]]
    assert {p["truth"] for p in right} >= {"street_light_on", "lights_on_room", "device_on",
                                           "bill_or_meter", "invalid"}
    images = []
    for photo in right:
        with Image.open(photo_eval / photo["photo"].removeprefix("photo_eval/")) as image:
            images.append(image.copy())
    predictions = classifier.predict_batch(images)
    assert [p.category for p in predictions] == [p["truth"] for p in right]
    for prediction in predictions:
        assert prediction.model_version == classifier.version
        assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
        assert prediction.confidence == max(prediction.probabilities.values())


def test_batch_equals_single_predictions(classifier: PhotoClassifier) -> None:
    rng = np.random.default_rng(1)
    images = [Image.fromarray(rng.integers(0, 255, (300 + 40 * i, 260, 3), dtype=np.uint8))
              for i in range(3)]
    batch = classifier.predict_batch(images)
    for image, together in zip(images, batch, strict=True):
        alone = classifier.predict(image)
        assert alone.category == together.category
        for label in spec.CATEGORIES:
            assert alone.probabilities[label] == pytest.approx(together.probabilities[label],
                                                               abs=1e-5)
    assert classifier.predict_batch([]) == []
