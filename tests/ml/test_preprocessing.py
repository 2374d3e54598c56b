"""Preprocessing follows the metadata: geometry, colour order, normalisation, EXIF, alpha."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ml_models.photo_classifier.preprocessing import Preprocessing
from ml_models.photo_classifier.spec import PREPROCESSING


def test_shape_dtype_and_normalisation() -> None:
    image = Image.new("RGB", (640, 480), (127, 255, 0))
    x = PREPROCESSING.array(image)
    assert x.shape == (3, 224, 224) and x.dtype == np.float32
    expected = [(v / 255 - m) / s for v, m, s in
                zip((127, 255, 0), PREPROCESSING.mean, PREPROCESSING.std, strict=True)]
    for channel, value in enumerate(expected):
        assert np.allclose(x[channel], value, atol=1e-5)


def test_shorter_side_resize_then_centre_crop() -> None:
    """A wide image keeps its middle: the outer thirds (red, blue) are cut away."""
    pixels = np.zeros((256, 768, 3), np.uint8)
    pixels[:, :256] = (255, 0, 0)
    pixels[:, 256:512] = (0, 255, 0)
    pixels[:, 512:] = (0, 0, 255)
    x = PREPROCESSING.array(Image.fromarray(pixels))
    green = (1 - PREPROCESSING.mean[1]) / PREPROCESSING.std[1]
    assert np.allclose(x[1], green, atol=1e-4)
    assert x[0].max() < 0 and x[2].max() < 0


def test_exif_orientation_is_applied() -> None:
    pixels = np.zeros((100, 300, 3), np.uint8)
    pixels[:, :150] = 255
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6
    image.info["exif"] = exif.tobytes()
    upright = PREPROCESSING.to_rgb(image)
    assert upright.size == (100, 300)


def test_transparency_becomes_white() -> None:
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    x = PREPROCESSING.array(image)
    white = [(1 - m) / s for m, s in zip(PREPROCESSING.mean, PREPROCESSING.std, strict=True)]
    for channel, value in enumerate(white):
        assert np.allclose(x[channel], value, atol=1e-5)


def test_metadata_round_trip_and_rejects_unknown_rules() -> None:
    assert Preprocessing.from_json(PREPROCESSING.to_json()) == PREPROCESSING
    with pytest.raises(ValueError):
        Preprocessing.from_json(PREPROCESSING.to_json().replace('"RGB"', '"BGR"'))
    with pytest.raises(ValueError):
        Preprocessing.from_json('{"size": 224}')


def test_batch_stacks_images() -> None:
    batch = PREPROCESSING.batch([Image.new("L", (50, 80)), Image.new("RGB", (500, 200))])
    assert batch.shape == (2, 3, 224, 224)
    assert PREPROCESSING.batch([]).shape == (0, 3, 224, 224)
