"""Licence rules, the stage-1 mapping, the head and the metrics."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ml_models.photo_classifier.dataset import (
    is_trainable_licence,
    load_photo_eval,
    needs_attribution,
)
from ml_models.photo_classifier.head import Head, HeadConfig, fit_head
from ml_models.photo_classifier.imagenet_mapping import (
    load_imagenet_labels,
    mapping_matrix,
)
from ml_models.photo_classifier.metrics import MIN_SUPPORT, report, routing_figures
from ml_models.photo_classifier.spec import CATEGORIES


def test_licence_rules() -> None:
    assert is_trainable_licence("MIT (Energy-Sparks repo LICENSE)")
    assert is_trainable_licence("Apache-2.0 (repo LICENSE; team photos)")
    assert is_trainable_licence("pvpp-training-consent")
    assert not is_trainable_licence(
        "repo MIT; images from Places365 val (research/non-commercial terms)")
    assert not is_trainable_licence("MIT; images from ICDAR-2019 SROIE (research use)")
    assert not is_trainable_licence("GPL-3.0 (repo .zenodo.json/LICENSE.md)")
    assert not is_trainable_licence("no license stated in repo")
    assert not is_trainable_licence("MIT; the photos have no licence")
    assert not is_trainable_licence("unknown: no license file in repo")


def test_cc_by_trains_with_attribution_but_not_nc_nd_or_sa() -> None:
    charger = ("CC-BY-2.5 (blog content licence stated in site footer _includes/footer.html; "
               "no LICENSE file)")
    assert is_trainable_licence(charger) and needs_attribution(charger)
    assert is_trainable_licence("CC BY 4.0") and needs_attribution("CC-BY-4.0")
    for restricted in ("CC-BY-NC-4.0", "CC BY-NC-SA 4.0", "CC-BY-SA-4.0", "CC-BY-ND-2.5",
                       "CC-BY-2.5 images from ImageNet (research/non-commercial terms)"):
        assert not is_trainable_licence(restricted), restricted
    assert not needs_attribution("MIT (repo LICENSE)")
    assert not needs_attribution("pvpp-training-consent")


# The manifest's convention: the licence column *starts* with the images' own licence when it
# is known ("MIT (repo LICENSE)"); "repo MIT; images from ..." means only the code is MIT.
_IMAGE_LICENCE_FIRST = re.compile(r"^(MIT|Apache-2\.0|CC-BY-\d\.\d) \(")


def test_photo_eval_trainable_subset(photo_eval: Path, manifest_rows: list[dict[str, str]]) -> None:
    rows = manifest_rows
    on_disk = [p for p in photo_eval.glob("*/*") if p.is_file()]
    examples = load_photo_eval(photo_eval)
    assert len(examples) == len(rows) == len(on_disk)
    expected = {f"photo_eval/{r['file']}" for r in rows if _IMAGE_LICENCE_FIRST.match(r["license"])}
    trainable = [e for e in examples if e.trainable]
    assert {e.source for e in trainable} == expected
    assert {"photo_eval/charger_plugged/charger_plugged_001.jpg",
            "photo_eval/device_on/device_on_015.jpg"} <= expected
    assert {e.category for e in trainable} == {"device_on", "charger_plugged", "invalid"}
    assert not any(re.search(r"research|unknown|GPL", e.licence) for e in trainable)


def test_mapping_covers_every_class_once() -> None:
    labels = load_imagenet_labels()
    matrix = mapping_matrix(labels)
    assert matrix.shape == (1000, len(CATEGORIES))
    assert np.array_equal(matrix.sum(axis=1), np.ones(1000))
    assert matrix[labels.index("street sign"), CATEGORIES.index("street_light_on")] == 1
    assert matrix[labels.index("washer"), CATEGORIES.index("laundry_appliance")] == 1
    assert matrix[labels.index("web site"), CATEGORIES.index("invalid")] == 1


def test_identity_head_is_stage1_and_absent_classes_stay_put() -> None:
    rng = np.random.default_rng(0)
    stage1 = rng.dirichlet(np.ones(len(CATEGORIES)), size=12).astype(np.float32)
    emb = rng.random((12, 1280)).astype(np.float32)
    identity = Head.identity(len(CATEGORIES), 1280)
    assert np.allclose(identity.probabilities(stage1, emb), stage1 / stage1.sum(1, keepdims=True),
                       atol=1e-4)
    targets = np.array([2, 6] * 6)
    head = fit_head(stage1, emb, targets, len(CATEGORIES), HeadConfig(steps=50))
    absent = [i for i in range(len(CATEGORIES)) if i not in (2, 6)]
    assert np.allclose(head.embedding_weight[:, absent], 0)
    assert np.allclose(head.prior_weight[:, absent], np.eye(len(CATEGORIES))[:, absent])


def test_report_counts_and_unmeasured_classes() -> None:
    truth = ["invalid"] + ["device_on"] * MIN_SUPPORT + ["laundry_appliance"] * (MIN_SUPPORT - 1)
    predicted = (["invalid", "invalid", "lights_on_room"] + ["device_on"] * (MIN_SUPPORT - 2)
                 + ["laundry_appliance"] * (MIN_SUPPORT - 1))
    rep = report(truth, predicted)
    assert rep["accuracy"] == round((len(truth) - 2) / len(truth), 4)
    assert rep["per_class"]["device_on"] == {
        "support": MIN_SUPPORT, "predicted": MIN_SUPPORT - 2, "precision": 1.0,
        "recall": round((MIN_SUPPORT - 2) / MIN_SUPPORT, 4), "measured": True}
    assert rep["per_class"]["laundry_appliance"]["recall"] == 1.0
    assert rep["per_class"]["laundry_appliance"]["measured"] is False
    # device_on is the only class with MIN_SUPPORT photos: the macro average is its recall
    assert rep["macro_recall_measured"] == rep["per_class"]["device_on"]["recall"]
    assert rep["per_class"]["charger_plugged"]["precision"] is None
    assert rep["invalid_gate"]["evidence_rejected_as_invalid"] == round(1 / (2 * MIN_SUPPORT - 1), 4)


def test_routing_figures_use_held_out_photos_only() -> None:
    rows = [
        {"truth": "device_on", "stage2": "lights_on_room", "stage2_confidence": 0.91,
         "trained_on": False},
        {"truth": "device_on", "stage2": "lights_on_room", "stage2_confidence": 0.99,
         "trained_on": True},
        {"truth": "invalid", "stage2": "bill_or_meter", "stage2_confidence": 0.6,
         "trained_on": False},
        {"truth": "bill_or_meter", "stage2": "invalid", "stage2_confidence": 0.7,
         "trained_on": False},
        {"truth": "street_light_on", "stage2": "invalid", "stage2_confidence": 0.4,
         "trained_on": False},
        {"truth": "invalid", "stage2": "invalid", "stage2_confidence": 0.99, "trained_on": False},
    ]
    assert routing_figures(rows) == {
        "held_out_photos": 5, "wrong_evidence_answers": 2, "wrong_evidence_confidence_max": 0.91,
        "evidence_called_invalid": 2, "evidence_called_invalid_confidence_min": 0.4,
        "evidence_called_invalid_confidence_max": 0.7}
    assert routing_figures([])["wrong_evidence_confidence_max"] is None
