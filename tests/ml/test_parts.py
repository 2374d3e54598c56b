"""Licence rules, the stage-1 mapping, the head and the metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ml_models.photo_classifier.dataset import is_trainable_licence, load_photo_eval
from ml_models.photo_classifier.head import Head, HeadConfig, fit_head
from ml_models.photo_classifier.imagenet_mapping import (
    load_imagenet_labels,
    mapping_matrix,
)
from ml_models.photo_classifier.metrics import report
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


def test_photo_eval_trainable_subset(photo_eval: Path) -> None:
    examples = load_photo_eval(photo_eval)
    trainable = [e for e in examples if e.trainable]
    assert len(examples) == 86
    assert {e.category for e in trainable} == {"device_on", "invalid"}
    assert len(trainable) == 14


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
    rep = report(["invalid", "device_on", "device_on", "device_on", "laundry_appliance"],
                 ["invalid", "device_on", "invalid", "device_on", "laundry_appliance"])
    assert rep["accuracy"] == 0.8
    assert rep["per_class"]["device_on"] == {"support": 3, "predicted": 2, "precision": 1.0,
                                             "recall": 0.6667, "measured": True}
    assert rep["per_class"]["laundry_appliance"]["measured"] is False
    assert rep["per_class"]["charger_plugged"]["precision"] is None
    assert rep["invalid_gate"]["evidence_rejected_as_invalid"] == 0.25
