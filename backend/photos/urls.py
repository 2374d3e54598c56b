"""Short-lived signed URLs for photo files.

A child's photo is never world-readable: the files are not under any static mount, and the
route that serves them (:mod:`backend.photos.http`) answers only a URL whose HMAC signature
(over photo id, variant and expiry, keyed with ``PVPP_SECRET_KEY``) is valid and unexpired.
Such URLs are issued only by GraphQL fields that first checked the reader may see the photo,
and expire after ``PVPP_PHOTO_URL_TTL_SECONDS`` (5 minutes by default), so they work in an
``<img src>`` without a bearer header and are useless when shared later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

VARIANTS = ("full", "thumb")
PATH_PREFIX = "/photos"


def _signature(key: str, photo_id: int, variant: str, expires: int) -> str:
    message = f"pvpp-photo:{photo_id}:{variant}:{expires}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:40]


def signed_path(key: str, photo_id: int, variant: str, ttl_seconds: int, now: float | None = None) -> str:
    """``/photos/<id>/<variant>?exp=<unix>&sig=<hmac>``, valid for ``ttl_seconds``."""
    if variant not in VARIANTS:
        raise ValueError(variant)
    expires = int((now if now is not None else time.time()) + ttl_seconds)
    return f"{PATH_PREFIX}/{photo_id}/{variant}?exp={expires}&sig={_signature(key, photo_id, variant, expires)}"


def check_signature(key: str, photo_id: int, variant: str, expires: str | None, sig: str | None,
                    now: float | None = None) -> bool:
    """True when ``sig`` signs (photo, variant, expires) and ``expires`` has not passed."""
    if variant not in VARIANTS or not expires or not sig or not expires.isdigit() or len(expires) > 12:
        return False
    if int(expires) < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(sig, _signature(key, photo_id, variant, int(expires)))
