"""Turn a PIL image into the model's input tensor, exactly as the model's metadata says.

The rule (stored in the ONNX metadata as JSON so the runtime never guesses): apply the EXIF
orientation, flatten transparency onto white, convert to RGB, resize so the shorter side is
``resize_shorter`` with bilinear filtering, centre-crop ``size`` x ``size``, scale to [0, 1],
subtract ``mean`` and divide by ``std`` per channel, lay out as NCHW float32.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageOps

RESIZE_RULE = "shorter_side_bilinear_then_center_crop"


@dataclass(frozen=True)
class Preprocessing:
    """Input geometry and normalisation of the classifier."""

    size: int
    resize_shorter: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    colour_order: str = "RGB"
    layout: str = "NCHW"
    dtype: str = "float32"
    resize_rule: str = RESIZE_RULE

    def to_json(self) -> str:
        """Serialise for the ONNX metadata."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Preprocessing:
        """Parse the metadata value; raise ValueError when a field is missing or unsupported."""
        raw = json.loads(text)
        try:
            prep = cls(
                size=int(raw["size"]), resize_shorter=int(raw["resize_shorter"]),
                mean=tuple(float(v) for v in raw["mean"]), std=tuple(float(v) for v in raw["std"]),
                colour_order=raw["colour_order"], layout=raw["layout"], dtype=raw["dtype"],
                resize_rule=raw["resize_rule"],
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"incomplete preprocessing metadata: {exc}") from exc
        if (prep.colour_order, prep.layout, prep.dtype, prep.resize_rule) != (
            "RGB", "NCHW", "float32", RESIZE_RULE
        ):
            raise ValueError(f"unsupported preprocessing: {prep}")
        if len(prep.mean) != 3 or len(prep.std) != 3 or prep.resize_shorter < prep.size:
            raise ValueError(f"inconsistent preprocessing: {prep}")
        return prep

    def to_rgb(self, image: Image.Image) -> Image.Image:
        """Upright RGB version of ``image``; transparent areas become white."""
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba)
        return image.convert("RGB")

    def resize_and_crop(self, image: Image.Image) -> Image.Image:
        """Shorter side to ``resize_shorter`` (bilinear), then the central ``size`` square."""
        width, height = image.size
        scale = self.resize_shorter / min(width, height)
        new_w = max(self.size, round(width * scale))
        new_h = max(self.size, round(height * scale))
        image = image.resize((new_w, new_h), Image.Resampling.BILINEAR)
        left = (new_w - self.size) // 2
        top = (new_h - self.size) // 2
        return image.crop((left, top, left + self.size, top + self.size))

    def array(self, image: Image.Image) -> np.ndarray:
        """One image as a (3, size, size) float32 array."""
        pixels = np.asarray(self.resize_and_crop(self.to_rgb(image)), dtype=np.float32) / 255.0
        pixels = (pixels - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(pixels.transpose(2, 0, 1))

    def batch(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Several images as one (N, 3, size, size) float32 batch."""
        if not images:
            return np.zeros((0, 3, self.size, self.size), np.float32)
        return np.stack([self.array(image) for image in images])
