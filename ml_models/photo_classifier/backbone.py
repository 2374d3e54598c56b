"""Compute embeddings and ImageNet logits with the backbone part of an ONNX model (no torch)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image

from ml_models.photo_classifier.dataset import Example
from ml_models.photo_classifier.graph import strip_head
from ml_models.photo_classifier.head import softmax
from ml_models.photo_classifier.preprocessing import Preprocessing

Log = Callable[[str], None]


@dataclass(frozen=True)
class Features:
    """Backbone outputs for a list of examples, row i for example i."""

    embeddings: np.ndarray
    imagenet_logits: np.ndarray

    def stage1(self, mapping: np.ndarray) -> np.ndarray:
        """Stage-1 category probabilities, computed as the graph does."""
        return softmax(self.imagenet_logits) @ mapping

    def take(self, rows: Sequence[int] | np.ndarray) -> Features:
        """The subset of rows."""
        rows = np.asarray(rows, dtype=int)
        return Features(self.embeddings[rows], self.imagenet_logits[rows])


class Backbone:
    """The head-less graph of a backbone or full classifier ONNX file, ready to run."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.model = strip_head(onnx.load(str(source)))
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.session = ort.InferenceSession(self.model.SerializeToString(), options,
                                            providers=["CPUExecutionProvider"])

    def features(self, examples: Sequence[Example], prep: Preprocessing, *,
                 batch_size: int = 16, log: Log = print) -> Features:
        """Run every example through the backbone, ``batch_size`` images per onnxruntime call."""
        embeddings, logits = [], []
        for start in range(0, len(examples), batch_size):
            chunk = examples[start:start + batch_size]
            batch = prep.batch([open_image(example.path) for example in chunk])
            emb, lg = self.session.run(None, {self.session.get_inputs()[0].name: batch})
            embeddings.append(emb)
            logits.append(lg)
            log(f"  embedded {min(start + batch_size, len(examples))}/{len(examples)} photos")
        if not examples:
            return Features(np.zeros((0, 1280), np.float32), np.zeros((0, 1000), np.float32))
        return Features(np.concatenate(embeddings), np.concatenate(logits))


def open_image(path: Path) -> Image.Image:
    """Open and fully decode an image so the file handle is closed at once."""
    with Image.open(path) as image:
        image.load()
        return image.copy()
