"""The CPU part of accepting a photo: validate, sanitise, fingerprint, assess. No I/O.

Shared by the upload path and ``pvpp bench photos``; Pillow releases the GIL while decoding
and resizing, so several of these run in parallel in a thread pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.photos.hashing import (
    PhotoHashes,
    band_keys,
    perceptual_hashes,
    to_signed64,
)
from backend.photos.images import DEFAULT_LIMITS, PhotoLimits, SanitisedPhoto, sanitise
from backend.photos.quality import QualityWarning, assess


@dataclass(frozen=True)
class Processed:
    photo: SanitisedPhoto
    hashes: PhotoHashes
    warnings: list[QualityWarning]

    @property
    def band_keys(self) -> frozenset[int]:
        return band_keys(self.hashes)

    def signed_crop_hashes(self) -> list[list[int]]:
        return [[to_signed64(p), to_signed64(d)] for p, d in zip(self.hashes.phash, self.hashes.dhash, strict=True)]

    def warnings_json(self) -> list[dict[str, object]]:
        return [{"name": str(w.name), "score": round(w.score, 3)} for w in self.warnings]


def process(data: bytes, declared_mime: str | None = None, filename: str | None = None,
            limits: PhotoLimits = DEFAULT_LIMITS) -> Processed:
    """Sanitise ``data`` (raises PhotoRejected), hash the thumbnail and collect warnings."""
    photo = sanitise(data, declared_mime, filename, limits)
    return Processed(photo, perceptual_hashes(photo.thumb_image), assess(photo, filename))
