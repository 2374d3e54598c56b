"""Quality signals: blank and dark images, screenshots, editors; real photos stay quiet."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from backend.photos.images import sanitise
from backend.photos.quality import PhotoWarning, assess, flat_fraction, is_screen_size
from tests.photos.fixtures.builders import (
    camera_exif,
    encode,
    jpeg,
    photo,
    photo_eval_files,
)


def _scores(data: bytes, filename: str | None = None) -> dict[PhotoWarning, float]:
    return {w.name: w.score for w in assess(sanitise(data), filename)}


def _app_screenshot(width: int = 1170, height: int = 2532) -> Image.Image:
    im = Image.new("RGB", (width, height), (242, 242, 247))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, width, 140), fill=(255, 255, 255))
    for i in range(12):
        top = 200 + i * 180
        draw.rounded_rectangle((40, top, width - 40, top + 150), 24, fill=(255, 255, 255))
        draw.text((80, top + 50), f"Item {i}: 1.2 kWh saved", fill=(20, 20, 20))
    return im


def test_blank_and_dark_images():
    gray = _scores(jpeg(Image.new("RGB", (640, 480), (128, 128, 128))))
    assert gray[PhotoWarning.NEAR_UNIFORM] == 1.0
    assert PhotoWarning.TOO_DARK not in gray
    black = _scores(jpeg(Image.new("RGB", (640, 480), (3, 3, 3))))
    assert black[PhotoWarning.TOO_DARK] == 1.0 and black[PhotoWarning.NEAR_UNIFORM] == 1.0


def test_screenshot_png_at_phone_screen_size():
    scores = _scores(encode(_app_screenshot(), "PNG"))
    assert scores[PhotoWarning.SCREENSHOT_LIKE] > 0.8
    named = _scores(encode(_app_screenshot(1000, 1500), "PNG"), "Screenshot_20250531-211405.png")
    assert named[PhotoWarning.SCREENSHOT_LIKE] > 0.9


def test_camera_photo_is_not_screenshot_like_or_blank():
    scores = _scores(jpeg(photo(1600, 1200), exif=camera_exif()))
    assert scores == {}


def test_edited_and_missing_capture_time():
    exif = camera_exif()
    exif[0x0131] = "Adobe Photoshop 25.0 (Windows)"
    assert _scores(jpeg(photo(), exif=exif))[PhotoWarning.EDITED] > 0.5
    assert PhotoWarning.NO_CAPTURE_TIME in _scores(jpeg(photo()))


def test_helpers():
    assert is_screen_size(2532, 1170) and is_screen_size(1080, 2400) and not is_screen_size(4000, 3000)
    assert flat_fraction(Image.new("RGB", (64, 64))) == 1.0
    noisy = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    assert flat_fraction(Image.fromarray(noisy)) < 0.01
    assert flat_fraction(Image.new("L", (64, 64))) == 1.0


def test_real_photos_rarely_look_like_screenshots():
    """On shared/photo_eval: no camera photo scores as a likely screenshot from pixels alone
    (these files carry no EXIF, so 'no camera' adds to every score)."""
    high = []
    for path in photo_eval_files():
        scores = _scores(path.read_bytes())
        if scores.get(PhotoWarning.SCREENSHOT_LIKE, 0) >= 0.5 and not path.name.startswith("invalid"):
            high.append(path.name)
        assert PhotoWarning.NEAR_UNIFORM not in scores and PhotoWarning.TOO_DARK not in scores, path.name
    assert high == []
