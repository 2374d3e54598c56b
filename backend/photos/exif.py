"""The few facts we keep from a photo's metadata, read before the metadata is stripped.

We keep when the photo was taken (to check it was taken during the activity), whether the
camera recorded a position (a yes/no for reviewers: the coordinates themselves are never
read into memory we keep, because they could show where a child lives), the camera make,
model and software (an editor or a screenshot tool is a signal), and the orientation needed
to turn the pixels upright. Broken or hostile EXIF never raises: unreadable fields are None.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from PIL import Image, UnidentifiedImageError

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_MAKE, _MODEL, _SOFTWARE, _ORIENTATION, _DATETIME = 0x010F, 0x0110, 0x0131, 0x0112, 0x0132
_DT_ORIGINAL, _DT_DIGITIZED = 0x9003, 0x9004
_OFFSET, _OFFSET_ORIGINAL, _OFFSET_DIGITIZED = 0x9010, 0x9011, 0x9012
_SUBSEC_ORIGINAL, _SUBSEC_DIGITIZED, _SUBSEC = 0x9291, 0x9292, 0x9290
_USER_COMMENT = 0x9286
_GPS_LATITUDE, _GPS_LONGITUDE = 2, 4
_MAX_TEXT = 64

_DATETIME_RE = re.compile(r"^(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


@dataclass(frozen=True, slots=True)
class PhotoExif:
    """Metadata facts of one original upload; every field is optional in practice.

    ``captured_at`` is timezone-aware when the camera wrote an offset (OffsetTimeOriginal),
    otherwise naive local camera time. ``captured_at_source`` says which tag it came from:
    ``original`` (shutter), ``digitized`` or ``modified`` (DateTime, rewritten by editors).
    """

    captured_at: datetime | None = None
    captured_at_source: str | None = None
    had_location: bool = False
    make: str | None = None
    model: str | None = None
    software: str | None = None
    orientation: int = 1
    screenshot_marker: bool = False

    @property
    def has_camera(self) -> bool:
        """True when a camera make or model was recorded (screenshots carry neither)."""
        return bool(self.make or self.model)


EMPTY = PhotoExif()


def read_exif(data: bytes) -> PhotoExif:
    """Read :class:`PhotoExif` from the original upload's bytes (headers only, no decode)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)
            with Image.open(io.BytesIO(data)) as im:
                return exif_from_image(im)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        return EMPTY


def exif_from_image(im: Image.Image) -> PhotoExif:
    """Read :class:`PhotoExif` from an opened (not necessarily decoded) image.

    Parses ``info["exif"]`` rather than calling ``getexif()``, which for PNG decodes the
    whole image to look for a late eXIf chunk (and swallows decode errors).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pillow warns "Corrupt EXIF data"
        return _facts(im)


def _facts(im: Image.Image) -> PhotoExif:
    exif = Image.Exif()
    raw = im.info.get("exif")
    if isinstance(raw, bytes) and raw:
        try:
            exif.load(raw)
        except Exception:  # noqa: BLE001 - hostile EXIF can break the parser in many ways
            exif = Image.Exif()
    xmp = _xmp(im)
    screenshot_in_xmp = b"screenshot" in xmp.lower()
    if not exif:
        return PhotoExif(screenshot_marker=screenshot_in_xmp)
    sub = _ifd(exif, _EXIF_IFD)
    gps = _ifd(exif, _GPS_IFD)
    captured_at, source = _capture_time(exif, sub)
    comment = _text(sub.get(_USER_COMMENT)) or ""
    return PhotoExif(
        captured_at=captured_at,
        captured_at_source=source,
        had_location=_GPS_LATITUDE in gps or _GPS_LONGITUDE in gps,
        make=_text(exif.get(_MAKE)),
        model=_text(exif.get(_MODEL)),
        software=_text(exif.get(_SOFTWARE)),
        orientation=_orientation(exif.get(_ORIENTATION)),
        screenshot_marker=screenshot_in_xmp or "screenshot" in comment.lower(),
    )


def _ifd(exif: Image.Exif, tag: int) -> dict[int, Any]:
    try:
        return exif.get_ifd(tag) or {}
    except Exception:  # noqa: BLE001 - a bad offset or count in a sub-IFD
        return {}


def _xmp(im: Image.Image) -> bytes:
    value = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp") or b""
    return value.encode("utf-8", "replace") if isinstance(value, str) else bytes(value)


def _capture_time(exif: Image.Exif, sub: dict[int, Any]) -> tuple[datetime | None, str | None]:
    candidates = (
        (sub.get(_DT_ORIGINAL), sub.get(_SUBSEC_ORIGINAL), sub.get(_OFFSET_ORIGINAL), "original"),
        (sub.get(_DT_DIGITIZED), sub.get(_SUBSEC_DIGITIZED), sub.get(_OFFSET_DIGITIZED), "digitized"),
        (exif.get(_DATETIME), sub.get(_SUBSEC), sub.get(_OFFSET), "modified"),
    )
    for raw, subsec, offset, source in candidates:
        ts = parse_exif_datetime(raw, subsec, offset)
        if ts is not None:
            return ts, source
    return None, None


def parse_exif_datetime(raw: object, subsec: object = None, offset: object = None) -> datetime | None:
    """``"2024:05:01 14:03:22"`` (+ sub-seconds, + ``"+09:00"``) to a datetime, or None.

    Blank, zeroed (``0000:00:00 00:00:00``) and impossible dates give None.
    """
    text = _text(raw)
    match = _DATETIME_RE.match(text) if text else None
    if match is None:
        return None
    try:
        ts = datetime(*(int(g) for g in match.groups()))  # type: ignore[misc]
    except ValueError:
        return None
    digits = "".join(ch for ch in (_text(subsec) or "") if ch.isdigit())[:6]
    if digits:
        ts = ts.replace(microsecond=int(digits.ljust(6, "0")))
    tz = _offset(_text(offset))
    return ts.replace(tzinfo=tz) if tz is not None else ts


def _offset(text: str | None) -> timezone | None:
    match = _OFFSET_RE.match(text) if text else None
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14):
        return None
    return timezone(-delta if sign == "-" else delta)


def _text(value: object) -> str | None:
    """A short printable string from an EXIF value (str or bytes), or None."""
    if isinstance(value, bytes):
        if value[:8] in (b"ASCII\x00\x00\x00", b"UNICODE\x00"):  # UserComment's charset prefix
            value = value[8:].decode("utf-16" if value[:1] == b"U" else "ascii", "replace")
        else:
            value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value.replace("\x00", " ") if ch.isprintable()).strip()
    return cleaned[:_MAX_TEXT] or None


def _orientation(value: object) -> int:
    return value if isinstance(value, int) and 1 <= value <= 8 else 1
