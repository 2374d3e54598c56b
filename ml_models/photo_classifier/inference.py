"""Run the shipped classifier with onnxruntime only (no torch, no onnx package).

``PhotoClassifier.load`` refuses a model it cannot trust: a missing or unreadable file, a graph
onnxruntime rejects, incomplete metadata, labels other than :data:`CATEGORIES`, an input shape
that disagrees with the preprocessing, or a smoke run that does not give probabilities. It
raises :class:`ModelUnavailable` with a machine-readable ``reason`` so the workers stop
accepting photos instead of approving them blindly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from ml_models.photo_classifier.preprocessing import Preprocessing
from ml_models.photo_classifier.spec import (
    CATEGORIES,
    EMBEDDING_OUTPUT,
    IMAGENET_PROBS_OUTPUT,
    META_FORMAT,
    META_FORMAT_VALUE,
    META_IMAGENET_LABELS,
    META_LABELS,
    META_PREPROCESSING,
    META_VERSION,
    PROBABILITIES_OUTPUT,
    STAGE1_OUTPUT,
)

REQUIRED_OUTPUTS = (PROBABILITIES_OUTPUT, STAGE1_OUTPUT, IMAGENET_PROBS_OUTPUT, EMBEDDING_OUTPUT)


class ModelUnavailable(Exception):
    """The model cannot be used. ``reason``: missing, unreadable, corrupt, metadata, mismatch."""

    def __init__(self, reason: str, path: Path, detail: str) -> None:
        super().__init__(f"photo classifier unavailable ({reason}) at {path}: {detail}")
        self.reason = reason
        self.path = path
        self.detail = detail


@dataclass(frozen=True)
class Prediction:
    """The classifier's answer for one photo."""

    category: str
    confidence: float
    probabilities: dict[str, float]
    model_version: str
    stage1: dict[str, float]
    imagenet_top: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class RawOutputs:
    """All graph outputs for a batch, as arrays (N rows each)."""

    probabilities: np.ndarray
    stage1: np.ndarray
    imagenet: np.ndarray
    embedding: np.ndarray


class PhotoClassifier:
    """A validated onnxruntime session plus the metadata that describes it."""

    def __init__(self, session: ort.InferenceSession, path: Path, version: str,
                 labels: tuple[str, ...], preprocessing: Preprocessing,
                 imagenet_labels: tuple[str, ...], metadata: dict[str, str]) -> None:
        self.session = session
        self.path = path
        self.version = version
        self.labels = labels
        self.preprocessing = preprocessing
        self.imagenet_labels = imagenet_labels
        self.metadata = metadata
        self._input_name = session.get_inputs()[0].name

    @classmethod
    def load(cls, path: Path | str, *, threads: int = 0) -> PhotoClassifier:
        """Open and validate the model at ``path``; raise ModelUnavailable when unusable."""
        path = Path(path)
        if not path.is_file():
            raise ModelUnavailable("missing", path, "no such file")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelUnavailable("unreadable", path, str(exc)) from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises several untyped errors for bad graphs
            raise ModelUnavailable("corrupt", path, f"onnxruntime rejected it: {exc}") from exc
        metadata = dict(session.get_modelmeta().custom_metadata_map)
        version, labels, prep, imagenet = _validate_metadata(path, metadata)
        _validate_signature(path, session, prep, len(labels))
        classifier = cls(session, path, version, labels, prep, imagenet, metadata)
        classifier._smoke_test()
        return classifier

    def predict(self, image: Image.Image) -> Prediction:
        """Classify one image."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: Sequence[Image.Image]) -> list[Prediction]:
        """Classify several images in one onnxruntime run (faster per image than one by one)."""
        raw = self.run(self.preprocessing.batch(images))
        return [self._prediction(raw, i) for i in range(len(images))]

    def run(self, batch: np.ndarray) -> RawOutputs:
        """Every output for an already preprocessed (N, 3, size, size) batch."""
        if len(batch) == 0:
            empty = np.zeros((0, len(self.labels)), np.float32)
            return RawOutputs(empty, empty, np.zeros((0, 1000), np.float32),
                              np.zeros((0, 0), np.float32))
        outputs = self.session.run(list(REQUIRED_OUTPUTS), {self._input_name: batch})
        return RawOutputs(*outputs)

    def _prediction(self, raw: RawOutputs, row: int) -> Prediction:
        """Turn one row of the outputs into a Prediction."""
        probs = raw.probabilities[row]
        best = int(np.argmax(probs))
        top = np.argsort(raw.imagenet[row])[::-1][:5]
        return Prediction(
            category=self.labels[best], confidence=float(probs[best]),
            probabilities={label: float(p) for label, p in zip(self.labels, probs, strict=True)},
            model_version=self.version,
            stage1={label: float(p) for label, p in zip(self.labels, raw.stage1[row], strict=True)},
            imagenet_top=tuple((self.imagenet_labels[i], float(raw.imagenet[row][i])) for i in top),
        )

    def _smoke_test(self) -> None:
        """One grey image must give finite probabilities that sum to one."""
        size = self.preprocessing.size
        raw = self.run(np.zeros((1, 3, size, size), np.float32))
        total = float(raw.probabilities.sum())
        if raw.probabilities.shape != (1, len(self.labels)) or not np.isfinite(total) \
                or abs(total - 1.0) > 1e-3:
            raise ModelUnavailable("corrupt", self.path,
                                   f"smoke run gave {raw.probabilities.shape} summing to {total}")


def _validate_metadata(path: Path, meta: dict[str, str]
                       ) -> tuple[str, tuple[str, ...], Preprocessing, tuple[str, ...]]:
    """Check the pvpp.* metadata keys and parse them."""
    if meta.get(META_FORMAT) != META_FORMAT_VALUE:
        raise ModelUnavailable("metadata", path, f"{META_FORMAT} is {meta.get(META_FORMAT)!r}")
    version = meta.get(META_VERSION, "")
    if not version:
        raise ModelUnavailable("metadata", path, f"no {META_VERSION}")
    try:
        labels = tuple(json.loads(meta[META_LABELS]))
        prep = Preprocessing.from_json(meta[META_PREPROCESSING])
        imagenet = tuple(json.loads(meta[META_IMAGENET_LABELS]))
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelUnavailable("metadata", path, f"unreadable metadata: {exc!r}") from exc
    if labels != CATEGORIES:
        raise ModelUnavailable("mismatch", path, f"labels {labels} are not {CATEGORIES}")
    if len(imagenet) != 1000:
        raise ModelUnavailable("metadata", path, f"{len(imagenet)} ImageNet labels, not 1000")
    return version, labels, prep, imagenet


def _validate_signature(path: Path, session: ort.InferenceSession, prep: Preprocessing,
                        n_labels: int) -> None:
    """The graph's input and outputs must agree with the metadata."""
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ModelUnavailable("mismatch", path, f"expected one input, got {len(inputs)}")
    shape = list(inputs[0].shape)
    if inputs[0].type != "tensor(float)" or len(shape) != 4 \
            or shape[1:] != [3, prep.size, prep.size]:
        raise ModelUnavailable("mismatch", path, f"input {inputs[0].type} {shape} does not match "
                               f"preprocessing size {prep.size}")
    outputs = {o.name: o.shape for o in session.get_outputs()}
    missing = [name for name in REQUIRED_OUTPUTS if name not in outputs]
    if missing:
        raise ModelUnavailable("mismatch", path, f"outputs {missing} missing")
    if outputs[PROBABILITIES_OUTPUT][-1] != n_labels:
        raise ModelUnavailable("mismatch", path, f"{outputs[PROBABILITIES_OUTPUT]} probabilities "
                               f"for {n_labels} labels")
