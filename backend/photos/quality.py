"""Cheap signals about a sanitised photo: named warnings with scores, never decisions.

A reviewer (or a later rule) weighs them; a scanned bill looks a lot like a screenshot in its
pixels, so no single signal refuses a photo. Scores are in [0, 1]; a warning is reported
from :data:`MIN_SCORE`. Computed on the decoded pixels in a few milliseconds.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from backend.photos.images import PhotoFormat, SanitisedPhoto

MIN_SCORE = 0.25

# Screen sizes (portrait, in pixels) of common phones, tablets and monitors; 4:3 sizes that
# cameras and messengers also produce (768x1024, 1536x2048) are left out.
SCREEN_SIZES: frozenset[tuple[int, int]] = frozenset({
    (640, 1136), (750, 1334), (828, 1792), (1080, 1920), (1125, 2436), (1170, 2532), (1179, 2556),
    (1242, 2208), (1242, 2688), (1284, 2778), (1290, 2796), (1206, 2622), (1320, 2868),
    (720, 1280), (720, 1520), (720, 1600), (1080, 2160), (1080, 2220), (1080, 2280), (1080, 2316),
    (1080, 2340), (1080, 2400), (1080, 2408), (1440, 2560), (1440, 2960), (1440, 3040), (1440, 3088),
    (1440, 3120), (1440, 3200), (1768, 2208), (1812, 2176), (1856, 2160),
    (1620, 2160), (1640, 2360), (1668, 2224), (1668, 2388), (2048, 2732),
    (800, 1280), (1200, 1920), (1600, 2560),
    (768, 1366), (864, 1536), (900, 1440), (900, 1600), (1050, 1680), (1800, 2880), (1964, 3024),
    (2160, 3840),
})
_SCREENSHOT_NAME = re.compile(r"screen[\s_-]?shot|screen[\s_-]?capture|스크린샷|캡처|캡쳐|截图|スクリーンショット",
                              re.IGNORECASE)
_SCREENSHOT_SOFTWARE = re.compile(r"screenshot|snipping|snip & sketch|greenshot|sharex|lightshot|flameshot"
                                  r"|spectacle|shottr|cleanshot|snagit", re.IGNORECASE)
_EDITOR_SOFTWARE = re.compile(r"photoshop|lightroom|gimp|snapseed|picsart|pixlr|canva|facetune|meitu"
                              r"|affinity|paint\.net|photopea|vsco|b612|snow", re.IGNORECASE)


class PhotoWarning(enum.StrEnum):
    NEAR_UNIFORM = "near_uniform"      # almost one colour: lens covered, blank wall, empty image
    TOO_DARK = "too_dark"              # almost black (a night photo with lights is not this dark)
    SCREENSHOT_LIKE = "screenshot_like"
    EDITED = "edited"                  # EXIF names photo-editing software
    NO_CAPTURE_TIME = "no_capture_time"


@dataclass(frozen=True, slots=True)
class QualityWarning:
    """One named signal; ``signals`` holds the parts that made up ``score``."""

    name: PhotoWarning
    score: float
    signals: dict[str, float] = field(default_factory=dict)


def _clamp(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def _noisy_or(weights: dict[str, float]) -> float:
    """Independent evidence combined: 1 - prod(1 - w)."""
    return _clamp(1.0 - float(np.prod([1.0 - w for w in weights.values()])))


def flat_fraction(im: Image.Image, row_step: int = 8) -> float:
    """Share of horizontally adjacent pixels with exactly the same colour (every
    ``row_step``-th row): large for UI flat fills, small for camera noise."""
    rows = np.asarray(im.resize((im.width, max(1, im.height // row_step)), Image.Resampling.NEAREST))
    if rows.ndim == 2:
        rows = rows[:, :, None]
    if rows.shape[1] < 2:
        return 0.0
    return float((rows[:, 1:] == rows[:, :-1]).all(axis=2).mean())


def is_screen_size(width: int, height: int) -> bool:
    return (min(width, height), max(width, height)) in SCREEN_SIZES


def screenshot_signals(photo: SanitisedPhoto, filename: str | None = None) -> dict[str, float]:
    """Evidence weights that the photo is a screen capture rather than a camera photo."""
    exif = photo.exif
    signals: dict[str, float] = {}
    if exif.screenshot_marker or (filename and _SCREENSHOT_NAME.search(filename)) or (
            exif.software and _SCREENSHOT_SOFTWARE.search(exif.software)):
        signals["marker"] = 0.95
    if is_screen_size(photo.source_width, photo.source_height):
        signals["screen_size"] = 0.5
    flat = flat_fraction(photo.image)
    if flat > 0.5:
        signals["flat_areas"] = round(0.5 * _clamp((flat - 0.5) / 0.4), 3)
    if not exif.has_camera:
        signals["no_camera_exif"] = 0.3 if photo.source_format is PhotoFormat.PNG else 0.15
    return signals


def assess(photo: SanitisedPhoto, filename: str | None = None) -> list[QualityWarning]:
    """All warnings scoring at least :data:`MIN_SCORE`, highest first."""
    gray = np.asarray(photo.thumb_image.convert("L"), dtype=np.float32)
    std, mean = float(gray.std()), float(gray.mean())
    found = [
        QualityWarning(PhotoWarning.NEAR_UNIFORM, _clamp((12.0 - std) / 8.0), {"std": round(std, 2)}),
        QualityWarning(PhotoWarning.TOO_DARK, _clamp((24.0 - mean) / 16.0), {"mean": round(mean, 2)}),
    ]
    signals = screenshot_signals(photo, filename)
    found.append(QualityWarning(PhotoWarning.SCREENSHOT_LIKE, _noisy_or(signals), signals))
    if photo.exif.software and _EDITOR_SOFTWARE.search(photo.exif.software):
        found.append(QualityWarning(PhotoWarning.EDITED, 0.6))
    if photo.exif.captured_at is None:
        found.append(QualityWarning(PhotoWarning.NO_CAPTURE_TIME, 0.5))
    return sorted((w for w in found if w.score >= MIN_SCORE), key=lambda w: -w.score)
