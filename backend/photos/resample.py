"""Pillow's Lanczos resize of 8-bit grey images, as matrix products: the same pixels, faster.

The perceptual hashes resize 11 crops of a thumbnail to 32x32 and 9x8 with Pillow's Lanczos
filter. Pillow does each pass as a scalar loop; here each pass is one matrix product with
Pillow's own fixed-point coefficients (``libImaging/Resample.c``: 22 fractional bits, the
sum rounded and clipped to 0..255 after each pass), so the result is the same integers.
float64 holds every partial sum exactly (at most ~2**37).

Pillow does the two passes in an order that depends on the sizes, and the order changes the
rounding in between. Rather than copy that rule, :func:`resize` asks Pillow once per size
(a resize of random noise, compared with both orders; cached) and falls back to Pillow
itself for a size where neither order matches, so the answer is always Pillow's.
"""

from __future__ import annotations

import ctypes
import glob
import math
import os
from functools import lru_cache

import numpy as np
from PIL import Image

_PRECISION_BITS = 22  # Resample.c: 32 - 8 - 2
_ONE = float(1 << _PRECISION_BITS)
_HALF = float(1 << (_PRECISION_BITS - 1))
_LANCZOS_SUPPORT = 3.0
HORIZONTAL_FIRST, VERTICAL_FIRST = "horizontal_first", "vertical_first"


def _sinc(x: np.ndarray) -> np.ndarray:
    a = x * math.pi
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x == 0.0, 1.0, np.sin(a) / a)


def _lanczos(x: np.ndarray) -> np.ndarray:
    return np.where((x >= -_LANCZOS_SUPPORT) & (x < _LANCZOS_SUPPORT), _sinc(x) * _sinc(x / 3), 0.0)


@lru_cache(maxsize=2048)
def coefficients(in_size: int, out_size: int) -> np.ndarray:
    """Pillow's fixed-point Lanczos weights for ``in_size -> out_size`` as a dense
    ``(out_size, in_size)`` float64 matrix (``precompute_coeffs`` + ``normalize_coeffs_8bpc``)."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = _LANCZOS_SUPPORT * filterscale
    ksize = math.ceil(support) * 2 + 1
    centres = (np.arange(out_size) + 0.5) * scale
    xmin = np.maximum((centres - support + 0.5).astype(np.int64), 0)
    xmax = np.minimum((centres + support + 0.5).astype(np.int64), in_size) - xmin
    taps = np.arange(ksize)
    weights = _lanczos(((taps[None, :] + xmin[:, None]) - centres[:, None] + 0.5) * (1.0 / filterscale))
    weights = np.where(taps[None, :] < xmax[:, None], weights, 0.0)
    total = np.cumsum(weights, axis=1)[:, -1:]  # summed in order, as the C loop does
    weights = np.divide(weights, total, out=weights.copy(), where=total != 0.0) * _ONE
    fixed = np.where(weights < 0, np.trunc(weights - 0.5), np.trunc(weights + 0.5))
    dense = np.zeros((out_size, in_size + ksize))
    dense[np.arange(out_size)[:, None], xmin[:, None] + taps[None, :]] = fixed
    dense = dense[:, :in_size].copy()
    dense.flags.writeable = False
    return dense


def _round(sums: np.ndarray) -> np.ndarray:
    """``clip8``: add the half, shift by the precision bits, clip to 0..255."""
    return np.clip(np.floor((sums + _HALF) / _ONE), 0.0, 255.0)


def _passes(pixels: np.ndarray, size: tuple[int, int], order: str) -> np.ndarray:
    height, width = pixels.shape
    kx, ky = coefficients(width, size[0]), coefficients(height, size[1])
    if order == HORIZONTAL_FIRST:
        return _round(ky @ _round(pixels @ kx.T))
    return _round(_round(ky @ pixels) @ kx.T)


@lru_cache(maxsize=4096)
def pass_order(width: int, height: int, out_width: int, out_height: int) -> str | None:
    """The pass order that reproduces Pillow for these sizes, found on random noise (cached);
    None when neither does (then :func:`resize` uses Pillow)."""
    noise = np.random.default_rng(width * 65_537 + height).integers(0, 256, (height, width), dtype=np.uint8)
    want = np.asarray(Image.fromarray(noise).resize((out_width, out_height), Image.Resampling.LANCZOS))
    pixels = noise.astype(np.float64)
    for order in (HORIZONTAL_FIRST, VERTICAL_FIRST):
        if np.array_equal(_passes(pixels, (out_width, out_height), order), want):
            return order
    return None


def resize(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``Image.fromarray(pixels).resize(size, LANCZOS)`` of a 2-D array of 0..255 values, as
    float64; the same numbers as Pillow's."""
    height, width = pixels.shape
    order = pass_order(width, height, *size)
    if order is None:
        grey = Image.fromarray(pixels.astype(np.uint8))
        return np.asarray(grey.resize(size, Image.Resampling.LANCZOS), dtype=np.float64)
    return _passes(pixels, size, order)


def resize_crops(pixels: np.ndarray, boxes: list[tuple[int, int, int, int]],
                 sizes: list[tuple[int, int]]) -> list[list[np.ndarray]]:
    """Every crop ``(left, top, right, bottom)`` of ``pixels`` resized to each of ``sizes``, as
    :func:`resize` of the crop gives it. The horizontal passes of all horizontal-first crops
    are one matrix product over the whole image (rows do not affect each other), which costs
    less than one product per crop."""
    order = {(box, size): pass_order(box[2] - box[0], box[3] - box[1], *size) for box in boxes for size in sizes}
    keys = tuple(sorted({(box[0], box[2], size[0]) for (box, size), o in order.items() if o == HORIZONTAL_FIRST}))
    rows = None
    if keys:
        kx, columns = _stacked_horizontal(pixels.shape[1], keys)
        rows = _round(pixels @ kx.T)
    out = []
    for box in boxes:
        left, top, right, bottom = box
        resized = []
        for size in sizes:
            if order[(box, size)] == HORIZONTAL_FIRST:
                first, last = columns[(left, right, size[0])]
                resized.append(_round(coefficients(bottom - top, size[1]) @ rows[top:bottom, first:last]))
            else:
                resized.append(resize(pixels[top:bottom, left:right], size))
        out.append(resized)
    return out


@lru_cache(maxsize=256)
def _stacked_horizontal(width: int, keys: tuple[tuple[int, int, int], ...]
                        ) -> tuple[np.ndarray, dict[tuple[int, int, int], tuple[int, int]]]:
    """The horizontal weights of each ``(left, right, out_width)`` placed at its columns of an
    image ``width`` wide, stacked; and where each block's outputs are."""
    blocks, columns, at = [], {}, 0
    for left, right, out_width in keys:
        block = np.zeros((out_width, width))
        block[:, left:right] = coefficients(right - left, out_width)
        blocks.append(block)
        columns[(left, right, out_width)] = (at, at + out_width)
        at += out_width
    stacked = np.vstack(blocks)
    stacked.flags.writeable = False
    return stacked, columns


def limit_blas_threads(threads: int = 1) -> bool:
    """Keep numpy's OpenBLAS to ``threads`` threads in this process; True when it could.

    Photo work runs in a thread pool with one task per core; OpenBLAS's own threads on top
    made the small matrix products of :func:`resize` 10-20 times slower on a busy machine.
    """
    import numpy

    libs = os.path.join(os.path.dirname(os.path.dirname(numpy.__file__)), "numpy.libs")
    for path in glob.glob(os.path.join(libs, "*openblas*.so*")):
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                     "openblas_set_num_threads"):
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(ctypes.c_int(threads))
                return True
    return False
