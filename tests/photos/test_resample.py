"""The matrix-product Lanczos resize gives Pillow's pixels exactly, for any sizes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from backend.photos import resample


def _pillow(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))


@pytest.mark.parametrize("seed", range(6))
def test_resize_equals_pillow_on_random_sizes(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        height, width = (int(v) for v in rng.integers(20, 400, 2))
        size = ((32, 32), (9, 8), tuple(int(v) for v in rng.integers(4, 60, 2)))[int(rng.integers(3))]
        pixels = rng.integers(0, 256, (height, width), dtype=np.uint8)
        if rng.integers(2):  # smooth content as well as noise
            pixels = np.asarray(Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(4)))
        mine = resample.resize(pixels.astype(np.float64), size)
        assert np.array_equal(mine, _pillow(pixels, size)), (width, height, size)


def test_both_pass_orders_occur_and_are_found():
    """Pillow rounds between its two passes in a size-dependent order: wide and tall crops."""
    assert resample.pass_order(320, 240, 32, 32) == resample.HORIZONTAL_FIRST
    assert resample.pass_order(80, 300, 32, 32) == resample.VERTICAL_FIRST


def test_unknown_order_falls_back_to_pillow(monkeypatch):
    monkeypatch.setattr(resample, "pass_order", lambda *sizes: None)
    pixels = np.random.default_rng(1).integers(0, 256, (50, 70), dtype=np.uint8)
    assert np.array_equal(resample.resize(pixels.astype(np.float64), (9, 8)), _pillow(pixels, (9, 8)))


def test_coefficients_sum_to_one_in_fixed_point():
    for in_size, out_size in ((320, 32), (288, 9), (64, 64), (40, 60)):
        sums = resample.coefficients(in_size, out_size).sum(axis=1)
        assert np.all(np.abs(sums - (1 << 22)) <= in_size)  # rounding of each weight: at most 1/2


def test_crops_share_a_pass_and_equal_pillow():
    rng = np.random.default_rng(9)
    for height, width in ((240, 320), (320, 240), (120, 320), (320, 90)):
        pixels = rng.integers(0, 256, (height, width), dtype=np.uint8)
        boxes = [(0, 0, width, height), (width // 10, 0, width, height), (0, height // 20, width - 7, height - 3)]
        sizes = [(32, 32), (9, 8)]
        for box, resized in zip(boxes, resample.resize_crops(pixels.astype(np.float64), boxes, sizes), strict=True):
            crop = pixels[box[1]:box[3], box[0]:box[2]]
            for size, mine in zip(sizes, resized, strict=True):
                assert np.array_equal(mine, _pillow(np.ascontiguousarray(crop), size)), (width, height, box, size)
