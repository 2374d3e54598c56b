"""Stage 1: which ImageNet-1k classes count as evidence for which category.

A category's stage-1 score is the summed softmax probability of its ImageNet classes; whatever
mass no mapped class takes is ``invalid``. The lists were chosen from the label names before
looking at predictions on the evaluation photos, so stage-1 numbers are not tuned to them.
``charger_plugged`` has no real ImageNet counterpart: ``switch`` (wall switches and sockets) is
the closest and is a guess that cannot be measured yet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ml_models.photo_classifier.spec import CATEGORIES, IMAGENET_LABELS_PATH, INVALID

IMAGENET_TO_CATEGORY: dict[str, tuple[str, ...]] = {
    "street_light_on": (
        "traffic light", "street sign", "pole", "spotlight", "flagpole", "beacon",
    ),
    "lights_on_room": (
        "table lamp", "lampshade", "candle", "four-poster", "studio couch", "dining table",
        "china cabinet", "wardrobe", "chiffonier", "quilt", "pillow", "window shade",
        "window screen", "shoji", "sliding door", "bannister", "restaurant", "library",
        "bookcase", "rocking chair", "folding chair", "washbasin", "bathtub", "tub",
        "shower curtain", "toilet seat", "medicine chest", "fire screen", "stove", "plate rack",
        "cradle", "crib", "bassinet", "desk",
    ),
    "device_on": (
        "television", "monitor", "screen", "laptop", "notebook", "desktop computer",
        "home theater", "entertainment center", "computer keyboard", "typewriter keyboard",
        "space bar", "mouse", "hand-held computer", "projector", "iPod", "cellular telephone",
        "space heater", "electric fan", "modem", "printer", "photocopier",
    ),
    "charger_plugged": ("switch",),
    "laundry_appliance": ("washer", "iron"),
    "bill_or_meter": (
        "analog clock", "wall clock", "digital clock", "digital watch", "barometer", "scale",
        "odometer", "stopwatch", "magnetic compass", "gas pump", "parking meter", "envelope",
        "menu", "crossword puzzle", "binder",
    ),
}


def load_imagenet_labels(path: Path = IMAGENET_LABELS_PATH) -> list[str]:
    """The 1000 ImageNet-1k class names in model output order."""
    labels = path.read_text(encoding="utf-8").splitlines()
    if len(labels) != 1000:
        raise ValueError(f"{path} has {len(labels)} labels, expected 1000")
    return labels


def mapping_matrix(labels: list[str]) -> np.ndarray:
    """A (1000, n_categories) 0/1 matrix: ImageNet probabilities @ matrix = stage-1 scores."""
    index = {name: i for i, name in enumerate(labels)}
    matrix = np.zeros((len(labels), len(CATEGORIES)), np.float32)
    for category, names in IMAGENET_TO_CATEGORY.items():
        for name in names:
            if name not in index:
                raise ValueError(f"ImageNet class {name!r} (for {category}) is not a label")
            matrix[index[name], CATEGORIES.index(category)] = 1.0
    if (matrix.sum(axis=1) > 1).any():
        raise ValueError("an ImageNet class is mapped to two categories")
    matrix[matrix.sum(axis=1) == 0, CATEGORIES.index(INVALID)] = 1.0
    return matrix
