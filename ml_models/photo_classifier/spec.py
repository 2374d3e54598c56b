"""Names shared by export, training and inference: categories, graph names, metadata keys."""

from __future__ import annotations

from pathlib import Path

from ml_models.photo_classifier.preprocessing import Preprocessing

PACKAGE_DIR = Path(__file__).resolve().parent
MODEL_PATH = PACKAGE_DIR / "model.onnx"
IMAGENET_LABELS_PATH = PACKAGE_DIR / "imagenet_labels.txt"
EVALUATION_PATH = PACKAGE_DIR / "evaluation.json"
MODEL_CARD_PATH = PACKAGE_DIR / "MODEL_CARD.md"

CATEGORIES: tuple[str, ...] = (
    "street_light_on",
    "lights_on_room",
    "device_on",
    "charger_plugged",
    "laundry_appliance",
    "bill_or_meter",
    "invalid",
)
INVALID = "invalid"

INPUT_NAME = "image"
EMBEDDING_OUTPUT = "embedding"
EMBEDDING_SIZE = 1280
IMAGENET_LOGITS_OUTPUT = "imagenet_logits"
IMAGENET_PROBS_OUTPUT = "imagenet_probabilities"
STAGE1_OUTPUT = "stage1_probabilities"
PROBABILITIES_OUTPUT = "probabilities"
HEAD_PREFIX = "pvpp_head/"

META_FORMAT = "pvpp.format"
META_FORMAT_VALUE = "pvpp-photo-classifier/1"
META_VERSION = "pvpp.version"
META_LABELS = "pvpp.labels"
META_PREPROCESSING = "pvpp.preprocessing"
META_OUTPUTS = "pvpp.outputs"
META_TRAINING = "pvpp.training"
META_IMAGENET_LABELS = "pvpp.imagenet_labels"

# EfficientNet-Lite was trained with (x - 127) / 128 on 0-255 pixels (TF-Lite convention).
PREPROCESSING = Preprocessing(
    size=224,
    resize_shorter=256,
    mean=(127.0 / 255, 127.0 / 255, 127.0 / 255),
    std=(128.0 / 255, 128.0 / 255, 128.0 / 255),
)
