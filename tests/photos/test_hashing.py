"""Perceptual hashes: re-uploads match after resize, recompression and crops; real, different
photos (shared/photo_eval, read at run time) do not."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from PIL import Image

from backend.photos.hashing import (
    HashIndex,
    PhotoHashes,
    band_keys,
    compare,
    content_sha256,
    from_signed64,
    hamming,
    imagehash_hashes,
    perceptual_hashes,
    pixel_sha256,
    to_signed64,
)
from backend.photos.images import sanitise
from tests.photos.fixtures.builders import (
    camera_exif,
    encode,
    jpeg,
    photo,
    photo_eval_files,
    photo_eval_manifest,
)


def _hashes(data: bytes) -> PhotoHashes:
    return perceptual_hashes(sanitise(data).thumb_image)


def _crop(left: float, top: float, right: float, bottom: float) -> Callable[[Image.Image], Image.Image]:
    def crop(im: Image.Image) -> Image.Image:
        w, h = im.size
        return im.crop((int(w * left), int(h * top), w - int(w * right), h - int(h * bottom)))
    return crop


VARIANTS: dict[str, Callable[[Image.Image], bytes]] = {
    "resized_50": lambda im: jpeg(im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS)),
    "quality_30": lambda im: jpeg(im, quality=30),
    "crop_5": lambda im: jpeg(_crop(0.05, 0.05, 0.05, 0.05)(im)),
    "crop_10": lambda im: jpeg(_crop(0.10, 0.10, 0.10, 0.10)(im)),
    "crop_left_10": lambda im: jpeg(_crop(0.10, 0, 0, 0)(im)),
    "crop_corner_5": lambda im: jpeg(_crop(0, 0, 0.05, 0.05)(im)),
    "png": lambda im: encode(im, "PNG", compress_level=1),
}


@pytest.fixture(scope="module")
def real_photos() -> list[Image.Image]:
    return [Image.open(p).convert("RGB") for p in photo_eval_files()]


@pytest.fixture(scope="module")
def real_hashes(real_photos) -> list[PhotoHashes]:
    return [_hashes(jpeg(im, quality=92)) for im in real_photos]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_real_photo_matches_its_variant(variant, real_photos, real_hashes):
    worst = 0
    for im, original in zip(real_photos, real_hashes, strict=True):
        copy = _hashes(VARIANTS[variant](im))
        match = compare(original, copy)
        assert match is not None, f"{variant} of a photo did not match"
        assert compare(copy, original) is not None
        worst = max(worst, match.phash_distance)
        assert band_keys(original) & band_keys(copy), "near-duplicate not found by band lookup"
    assert worst <= 6  # threshold 8; different photos are 12 or more apart


def test_one_pass_hashes_equal_imagehash_on_real_photos(real_photos):
    """The fast hashes are the stored definition bit for bit: on every real photo's sanitised
    thumbnail and on the thumbnails of its re-uploads (other sizes, crops)."""
    checked = 0
    for im in real_photos:
        for data in (jpeg(im, quality=92), VARIANTS["resized_50"](im), VARIANTS["crop_10"](im)):
            thumb = sanitise(data).thumb_image
            assert perceptual_hashes(thumb) == imagehash_hashes(thumb), thumb.size
            checked += 1
    assert checked == 3 * len(photo_eval_manifest())


@pytest.mark.parametrize("size", [(320, 240), (240, 320), (320, 120), (90, 320), (64, 64), (320, 319), (77, 301)])
def test_one_pass_hashes_equal_imagehash_on_any_shape(size):
    im = photo(seed=sum(size)).resize(size)
    assert perceptual_hashes(im) == imagehash_hashes(im)


def test_different_real_photos_do_not_match(real_hashes):
    assert len(real_hashes) == len(photo_eval_manifest())  # every listed photo, none skipped
    nearest = min(min(hamming(a, b) for a in x.phash for b in y.phash)
                  for x, y in itertools.combinations(real_hashes, 2))
    false_matches = [(i, j) for (i, x), (j, y) in itertools.combinations(enumerate(real_hashes), 2)
                     if compare(x, y) is not None]
    assert false_matches == []
    assert nearest >= 10  # margin above the pHash threshold of 8


def test_index_finds_reupload_among_real_photos(real_photos, real_hashes):
    index = HashIndex()
    index.extend(enumerate(real_hashes))
    assert len(index) == len(real_hashes)
    probe = _hashes(VARIANTS["crop_10"](real_photos[7]))
    found = index.matches(probe)
    assert [pid for pid, _ in found] == [7]
    assert len(index.candidates(probe)) < len(real_hashes) // 4


def test_synthetic_photo_variants_match_and_other_seeds_do_not():
    base = photo(900, 600, seed=11)
    original = _hashes(jpeg(base))
    for make in VARIANTS.values():
        assert compare(original, _hashes(make(base))) is not None
    assert compare(original, _hashes(jpeg(photo(900, 600, seed=12)))) is None


def test_orientation_tag_and_rotated_pixels_hash_alike():
    base = photo(600, 400, seed=3)
    tagged = jpeg(base.transpose(Image.Transpose.ROTATE_90), exif=camera_exif(orientation=6))
    assert compare(_hashes(jpeg(base)), _hashes(tagged)) is not None


def test_hash_forms_for_storage():
    h = _hashes(jpeg(photo(300, 200)))
    assert len(h.phash) == len(h.dhash) == 11
    assert all(0 <= v < 2**64 for v in h.phash + h.dhash)
    for v in (0, 1, 2**63 - 1, 2**63, 2**64 - 1, *h.phash):
        s = to_signed64(v)
        assert -(2**63) <= s < 2**63 and from_signed64(s) == v
    assert all(len(pair) == 33 for pair in h.hex())
    keys = band_keys(h)
    assert 0 < len(keys) <= 44 and all(0 <= k < 2**18 for k in keys)
    assert len(band_keys(h, bands=8)) <= 88
    with pytest.raises(ValueError):
        band_keys(h, bands=5)


def test_band_keys_guarantee_lookup_within_three_bits():
    h = PhotoHashes(phash=(0x0123_4567_89AB_CDEF,), dhash=(0,))
    flipped = PhotoHashes(phash=(0x0123_4567_89AB_CDEF ^ (1 | 1 << 20 | 1 << 40),), dhash=(0,))
    assert band_keys(h) & band_keys(flipped)
    assert compare(h, flipped) is not None and compare(h, flipped).phash_distance == 3


def test_exact_hashes():
    data = jpeg(photo(200, 150))
    assert content_sha256(data) == content_sha256(bytes(data)) == sanitise(data).original_sha256
    # same compressed pixels, different EXIF: different file, same pixels
    im = photo(200, 150)
    a, b = sanitise(jpeg(im)), sanitise(jpeg(im, exif=camera_exif()))
    assert a.original_sha256 != b.original_sha256
    assert pixel_sha256(a.image) == pixel_sha256(b.image)


def test_missing_photo_eval_fails_in_ci_and_skips_locally(monkeypatch, tmp_path):
    from tests.photos.fixtures import builders

    monkeypatch.setattr(builders, "PHOTO_EVAL", tmp_path / "missing")
    for read in (builders.photo_eval_files, builders.photo_eval_manifest):
        monkeypatch.setenv("CI", "true")
        with pytest.raises(pytest.fail.Exception):
            read()
        monkeypatch.setenv("CI", "false")
        with pytest.raises(pytest.skip.Exception):
            read()
