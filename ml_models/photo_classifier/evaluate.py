"""``evaluate``: honest numbers for stage 1 and stage 2, written to evaluation.json.

* stage 1 (ImageNet mapping, nothing fitted on these photos): every photo;
* stage 2, the shipped model: only photos whose content hash is not among the model's training
  photos (recorded in its metadata) — the held-out set;
* stage 2, leave-one-out over the trainable photos: a head refitted without each photo;
* diagnostic: stratified k-fold over all photos regardless of licence. Those heads are thrown
  away (never shipped); the numbers show what more labelled data could do.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml_models.photo_classifier.backbone import Log, open_image
from ml_models.photo_classifier.dataset import Example, content_hash
from ml_models.photo_classifier.head import HeadConfig, fit_head
from ml_models.photo_classifier.inference import PhotoClassifier, RawOutputs
from ml_models.photo_classifier.metrics import report, routing_figures
from ml_models.photo_classifier.spec import CATEGORIES, META_TRAINING
from ml_models.photo_classifier.train import gather_examples

FOLDS = 5


@dataclass(frozen=True)
class Scored:
    """Model outputs for every evaluation photo, row-aligned with ``examples``."""

    examples: list[Example]
    raw: RawOutputs
    trained_on: np.ndarray


def score(classifier: PhotoClassifier, examples: list[Example], log: Log,
          batch_size: int = 16) -> Scored:
    """Run the full model over all photos in batches."""
    parts = []
    for start in range(0, len(examples), batch_size):
        chunk = examples[start:start + batch_size]
        parts.append(classifier.run(classifier.preprocessing.batch(
            [open_image(e.path) for e in chunk])))
        log(f"  scored {start + len(chunk)}/{len(examples)} photos")
    raw = RawOutputs(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in ("probabilities", "stage1", "imagenet", "embedding")))
    training = json.loads(classifier.metadata.get(META_TRAINING, "{}"))
    hashes = set(training.get("photo_hashes", []))
    trained = np.array([content_hash(e.path) in hashes for e in examples])
    return Scored(examples, raw, trained)


def _names(rows: np.ndarray) -> list[str]:
    """Argmax category names."""
    return [CATEGORIES[i] for i in rows.argmax(axis=1)]


def _refit_predict(scored: Scored, train_rows: np.ndarray, test_rows: np.ndarray,
                   config: HeadConfig) -> np.ndarray:
    """Fit a head on ``train_rows`` and return probabilities for ``test_rows``."""
    raw = scored.raw
    targets = np.array([CATEGORIES.index(scored.examples[i].category) for i in train_rows])
    head = fit_head(raw.stage1[train_rows], raw.embedding[train_rows], targets,
                    len(CATEGORIES), config)
    return head.probabilities(raw.stage1[test_rows], raw.embedding[test_rows])


def leave_one_out(scored: Scored, rows: np.ndarray, config: HeadConfig, log: Log) -> list[str]:
    """Predictions for each of ``rows`` from a head fitted on the other ``rows``."""
    predictions = []
    for k, row in enumerate(rows):
        others = np.delete(rows, k)
        predictions.append(_names(_refit_predict(scored, others, np.array([row]), config))[0])
    log(f"  leave-one-out over {len(rows)} trainable photos done")
    return predictions


def stratified_folds(categories: list[str], folds: int, seed: int = 0) -> np.ndarray:
    """A fold number per photo, each category spread round-robin after a seeded shuffle."""
    rng = np.random.default_rng(seed)
    assignment = np.zeros(len(categories), dtype=int)
    offset = 0
    for category in CATEGORIES:
        rows = np.flatnonzero(np.array(categories) == category)
        rng.shuffle(rows)
        assignment[rows] = (np.arange(len(rows)) + offset) % folds
        offset += len(rows)
    return assignment


def cross_validate(scored: Scored, config: HeadConfig, log: Log) -> list[str]:
    """Diagnostic k-fold predictions over all photos (heads discarded)."""
    truth = [e.category for e in scored.examples]
    fold_of = stratified_folds(truth, FOLDS)
    predictions: list[str] = [""] * len(truth)
    for fold in range(FOLDS):
        test = np.flatnonzero(fold_of == fold)
        train = np.flatnonzero(fold_of != fold)
        for row, name in zip(test, _names(_refit_predict(scored, train, test, config)),
                             strict=True):
            predictions[row] = name
    log(f"  {FOLDS}-fold diagnostic cross-validation done")
    return predictions


def latency(classifier: PhotoClassifier, sample: Path, repeats: int = 30, batch: int = 16) -> dict:
    """Median single-image latency and batch throughput of bare onnxruntime runs.

    Preprocessing (decode, resize, normalise) of ``sample`` is timed separately.
    """
    size = classifier.preprocessing.size
    one = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)
    many = np.repeat(one, batch, axis=0)
    classifier.run(one)
    singles = _timed(lambda: classifier.run(one), repeats)
    batches = _timed(lambda: classifier.run(many), max(3, repeats // 5))
    prep = _timed(lambda: classifier.preprocessing.batch([open_image(sample)]), repeats)
    return {
        "threads": "onnxruntime default (all cores)",
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        "preprocess_ms_median": round(1000 * float(np.median(prep)), 2),
        "single_image_ms_median": round(1000 * float(np.median(singles)), 2),
        "single_image_ms_p90": round(1000 * float(np.percentile(singles, 90)), 2),
        "batch_size": batch,
        "batch_ms_median": round(1000 * float(np.median(batches)), 2),
        "batch_images_per_second": round(batch / float(np.median(batches)), 1),
        "single_images_per_second": round(1 / float(np.median(singles)), 1),
    }


def _timed(call: Callable[[], object], repeats: int) -> list[float]:
    """Wall-clock durations of ``repeats`` calls."""
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        durations.append(time.perf_counter() - start)
    return durations


def evaluate(model_path: Path, photo_eval: Path, extra: list[Path], *, with_latency: bool = True,
             log: Log = print) -> dict:
    """Every evaluation described in the module docstring, as one JSON-ready dict."""
    classifier = PhotoClassifier.load(model_path)
    log(f"evaluating model {classifier.version} from {model_path}")
    examples = gather_examples(photo_eval, extra)
    scored = score(classifier, examples, log)
    truth = [e.category for e in examples]
    training = json.loads(classifier.metadata.get(META_TRAINING, "{}"))
    config = HeadConfig(**training.get("head_config", {}))
    held_out = np.flatnonzero(~scored.trained_on)
    trainable = np.flatnonzero([e.trainable for e in examples])
    stage1 = _names(scored.raw.stage1)
    stage2 = _names(scored.raw.probabilities)
    loo = leave_one_out(scored, trainable, config, log)
    diagnostic = cross_validate(scored, config, log)
    result = {
        "model_version": classifier.version,
        "photos": len(examples),
        "trained_on_photos": int(scored.trained_on.sum()),
        "photos_per_category": {c: truth.count(c) for c in CATEGORIES},
        "stage1_all_photos": report(truth, stage1),
        "stage1_held_out": report([truth[i] for i in held_out], [stage1[i] for i in held_out]),
        "stage2_held_out": report([truth[i] for i in held_out], [stage2[i] for i in held_out]),
        "stage2_leave_one_out_trainable": report([truth[i] for i in trainable], loo),
        "diagnostic_cv_all_photos_not_shipped": report(truth, diagnostic),
        "per_photo": [
            {"photo": e.source, "truth": e.category, "trainable_licence": e.trainable,
             "trained_on": bool(scored.trained_on[i]), "stage1": stage1[i], "stage2": stage2[i],
             "stage2_confidence": round(float(scored.raw.probabilities[i].max()), 4)}
            for i, e in enumerate(examples)
        ],
    }
    result["routing_figures_held_out"] = routing_figures(result["per_photo"])
    if with_latency and examples:
        log("measuring latency")
        result["latency"] = latency(classifier, examples[0].path)
    return result
