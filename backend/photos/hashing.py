"""Fingerprints that find the same photo submitted again, even resized, recompressed or cropped.

Two 64-bit perceptual hashes (ImageHash's pHash and dHash) are taken of the whole image and
of ten crops of it (centre 5 % and 10 % a side, 10 % off one side, 6 % off two sides at a
corner). Comparing every crop of one photo with every crop of the other makes a re-upload
that was cropped by up to about 10 % still match. Measured on the 101 real photos of
shared/photo_eval: re-uploads (50 % resize, JPEG quality 30, crops) differ by at most 6 pHash
bits (a 5 % corner crop; 4 or less otherwise); different photos, the closest being two meters
at one site, by 12 or more; the threshold is 8. Rotations and mirror images are not matched.

Search across a programme: :func:`band_keys` splits each pHash into 16-bit bands; the
database indexes (band key, photo) rows and fetches candidates sharing any key, then
:func:`compare` checks them. Four bands guarantee every pair within 3 bits shares a key
(pigeonhole); near-duplicates are usually within 2. A sequential scan with
``bit_count(a # b)`` is the fallback for a full audit.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import imagehash
import numpy as np
from PIL import Image

from backend.photos import resample

# (name, fraction cut from the left, top, right, bottom); the order of PhotoHashes' tuples.
CROPS: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("full", (0.0, 0.0, 0.0, 0.0)),
    ("centre5", (0.05, 0.05, 0.05, 0.05)),
    ("centre10", (0.10, 0.10, 0.10, 0.10)),
    ("left10", (0.10, 0.0, 0.0, 0.0)),
    ("top10", (0.0, 0.10, 0.0, 0.0)),
    ("right10", (0.0, 0.0, 0.10, 0.0)),
    ("bottom10", (0.0, 0.0, 0.0, 0.10)),
    ("top_left6", (0.06, 0.06, 0.0, 0.0)),
    ("top_right6", (0.0, 0.06, 0.06, 0.0)),
    ("bottom_left6", (0.06, 0.0, 0.0, 0.06)),
    ("bottom_right6", (0.0, 0.0, 0.06, 0.06)),
)
PHASH_MAX_DISTANCE = 8
DHASH_MAX_DISTANCE = 10
_MASK64 = (1 << 64) - 1
_HASH_SIDE = 8  # ImageHash's hash_size: 8x8 bits
_PHASH_SIDE = _HASH_SIDE * 4  # and highfreq_factor


@dataclass(frozen=True, slots=True)
class PhotoHashes:
    """pHash and dHash (unsigned 64-bit ints), one of each per entry of :data:`CROPS`."""

    phash: tuple[int, ...]
    dhash: tuple[int, ...]

    def hex(self) -> list[str]:
        """``phash:dhash`` per crop as 16-digit hex pairs, e.g. for logs and JSON."""
        return [f"{p:016x}:{d:016x}" for p, d in zip(self.phash, self.dhash, strict=True)]


@dataclass(frozen=True, slots=True)
class HashMatch:
    """The closest agreeing pair of crops (names from :data:`CROPS`) and their distances."""

    phash_distance: int
    dhash_distance: int
    crops: tuple[str, str]


def _to_int(h: imagehash.ImageHash) -> int:
    """Row-major bits, first bit most significant (the order of ImageHash's hex form)."""
    return int.from_bytes(np.packbits(h.hash.flatten()).tobytes(), "big")


def crop_boxes(size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """``(left, top, right, bottom)`` of every entry of :data:`CROPS` in an image of ``size``."""
    w, h = size
    return [(round(w * left), round(h * top), w - round(w * right), h - round(h * bottom))
            for _, (left, top, right, bottom) in CROPS]


def perceptual_hashes(im: Image.Image) -> PhotoHashes:
    """Hashes of a decoded image; pass the sanitised thumbnail (320 px): thresholds were
    measured on it. A box-filtered smaller copy was tried and made crops up to 4 bits less alike.

    The same bits as ImageHash's ``phash`` and ``dhash`` of each crop (:func:`imagehash_hashes`,
    checked on the real photos in the tests), computed in one pass: the 22 Lanczos resizes as
    matrix products (:mod:`backend.photos.resample`) and the 11 DCTs as one batched call.
    """
    import scipy.fftpack  # on first use, as ImageHash does: the API need not load SciPy at start

    grey = np.asarray(im.convert("L"), dtype=np.float64)
    sizes = [(_PHASH_SIDE, _PHASH_SIDE), (_HASH_SIDE + 1, _HASH_SIDE)]
    resized = resample.resize_crops(grey, crop_boxes(im.size), sizes)
    small, tiny = [r[0] for r in resized], [r[1] for r in resized]
    dct = scipy.fftpack.dct(scipy.fftpack.dct(np.stack(small), axis=1), axis=2)[:, :_HASH_SIDE, :_HASH_SIDE]
    low = dct.reshape(len(small), -1)
    phash_bits = low > np.median(low, axis=1, keepdims=True)
    stacked = np.stack(tiny)
    dhash_bits = (stacked[:, :, 1:] > stacked[:, :, :-1]).reshape(len(tiny), -1)
    return PhotoHashes(phash=_ints(phash_bits), dhash=_ints(dhash_bits))


def _ints(bits: np.ndarray) -> tuple[int, ...]:
    """Rows of 64 bits as ints, first bit most significant (as :func:`_to_int`)."""
    return tuple(int.from_bytes(row.tobytes(), "big") for row in np.packbits(bits, axis=1))


def imagehash_hashes(im: Image.Image) -> PhotoHashes:
    """The definition: ImageHash's ``phash`` and ``dhash`` of each crop, one at a time (about
    three times slower than :func:`perceptual_hashes`, which must give the same bits)."""
    gray = im.convert("L")
    crops = [gray.crop(box) for box in crop_boxes(gray.size)]
    return PhotoHashes(
        phash=tuple(_to_int(imagehash.phash(c)) for c in crops),
        dhash=tuple(_to_int(imagehash.dhash(c)) for c in crops),
    )


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & _MASK64).bit_count()


def compare(a: PhotoHashes, b: PhotoHashes, *, phash_max: int = PHASH_MAX_DISTANCE,
            dhash_max: int = DHASH_MAX_DISTANCE) -> HashMatch | None:
    """The best crop pair where both hashes are within their thresholds, or None."""
    best: HashMatch | None = None
    for i, (pa, da) in enumerate(zip(a.phash, a.dhash, strict=True)):
        for j, (pb, db) in enumerate(zip(b.phash, b.dhash, strict=True)):
            dp, dd = hamming(pa, pb), hamming(da, db)
            if dp <= phash_max and dd <= dhash_max and (best is None or dp + dd < best.phash_distance
                                                        + best.dhash_distance):
                best = HashMatch(dp, dd, (CROPS[i][0], CROPS[j][0]))
    return best


def band_keys(hashes: PhotoHashes, bands: int = 4) -> frozenset[int]:
    """Index keys ``band << bits | value`` of every crop's pHash (non-negative, < 2**18 for
    4 bands, at most 44 per photo); two photos whose pHashes (any crops) differ in fewer
    than ``bands`` bits share a key. More bands find more distant pairs but fetch more
    candidates."""
    if bands <= 0 or 64 % bands:
        raise ValueError("bands must divide 64")
    bits = 64 // bands
    mask = (1 << bits) - 1
    return frozenset((band << bits) | ((h >> (band * bits)) & mask)
                     for h in hashes.phash for band in range(bands))


def to_signed64(value: int) -> int:
    """An unsigned 64-bit hash as a signed BIGINT for PostgreSQL/SQLite columns."""
    return value - (1 << 64) if value >= 1 << 63 else value


def from_signed64(value: int) -> int:
    return value & _MASK64


def content_sha256(data: bytes) -> str:
    """Hex SHA-256 of bytes: the same original file uploaded twice."""
    return hashlib.sha256(data).hexdigest()


def pixel_sha256(im: Image.Image) -> str:
    """Hex SHA-256 of decoded pixels (mode, size, data): same pixels, e.g. only EXIF edited."""
    digest = hashlib.sha256(f"{im.mode}:{im.width}x{im.height}:".encode())
    digest.update(im.tobytes())
    return digest.hexdigest()


class HashIndex:
    """In-memory band index, for a batch or a test; the database does the same with rows."""

    def __init__(self, bands: int = 4) -> None:
        self._bands = bands
        self._by_key: dict[int, set[Hashable]] = defaultdict(set)
        self._hashes: dict[Hashable, PhotoHashes] = {}

    def add(self, photo_id: Hashable, hashes: PhotoHashes) -> None:
        self._hashes[photo_id] = hashes
        for key in band_keys(hashes, self._bands):
            self._by_key[key].add(photo_id)

    def candidates(self, hashes: PhotoHashes) -> set[Hashable]:
        return set().union(*(self._by_key.get(k, ()) for k in band_keys(hashes, self._bands)))

    def matches(self, hashes: PhotoHashes) -> list[tuple[Hashable, HashMatch]]:
        """Stored photos that :func:`compare` matches with ``hashes``, closest first."""
        found = [(pid, m) for pid in self.candidates(hashes)
                 if (m := compare(hashes, self._hashes[pid])) is not None]
        return sorted(found, key=lambda item: item[1].phash_distance + item[1].dhash_distance)

    def __len__(self) -> int:
        return len(self._hashes)

    def extend(self, items: Iterable[tuple[Hashable, PhotoHashes]]) -> None:
        for photo_id, hashes in items:
            self.add(photo_id, hashes)
