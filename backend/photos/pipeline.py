"""The CPU part of accepting a photo: validate, sanitise, fingerprint, assess. No I/O.

Shared by the upload path and ``pvpp bench photos``; Pillow releases the GIL while decoding
and resizing, so several of these run in parallel in a thread pool.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from dataclasses import dataclass

from backend.photos.hashing import (
    PhotoHashes,
    band_keys,
    perceptual_hashes,
    to_signed64,
)
from backend.photos.images import DEFAULT_LIMITS, PhotoLimits, SanitisedPhoto, sanitise
from backend.photos.resample import limit_blas_threads
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


#: Decodes running at once in one process. With ``PhotoLimits.max_decoded_bytes`` this bounds
#: the memory that many concurrent uploads can take (more threads would not decode faster).
DECODE_SLOTS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))
limit_blas_threads()  # photo work runs one task per core: no BLAS threads on top
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6") if os.name == "posix" else None


def _return_freed_memory() -> None:
    """Hand the decoder's freed buffers back to the system (glibc keeps them otherwise, so a
    burst of large uploads left the process hundreds of MiB bigger)."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


def process(data: bytes, declared_mime: str | None = None, filename: str | None = None,
            limits: PhotoLimits = DEFAULT_LIMITS) -> Processed:
    """Sanitise ``data`` (raises PhotoRejected), hash the thumbnail and collect warnings."""
    with DECODE_SLOTS:
        try:
            photo = sanitise(data, declared_mime, filename, limits)
            return Processed(photo, perceptual_hashes(photo.thumb_image), assess(photo, filename))
        finally:
            _return_freed_memory()
