"""Turn an untrusted upload into a clean JPEG and thumbnail, or refuse it with a reason.

Order matters: cheap checks on the raw bytes first (size, real format from the magic
bytes, declared type, container structure, dimensions from the header, data appended after
the image), and only then a full decode. The stored image is re-encoded from pixels, so
nothing from the upload but the pixels survives: no EXIF (GPS), XMP, IPTC, comments, text
chunks, ICC profile (colours are converted to sRGB first) or appended payloads. The original
filename is used only to check the extension and is not kept: it can hold a child's name.

Pure CPU work with no I/O: call it in a thread or process pool from async code.
"""

from __future__ import annotations

import enum
import hashlib
import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from backend.errors import DomainError
from backend.photos.exif import PhotoExif, exif_from_image


class PhotoFormat(enum.StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    HEIC = "heic"


class RejectCode(enum.StrEnum):
    """Why an upload was refused; machine-readable, counted, shown to clients as a code."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"                    # more bytes than allowed
    UNSUPPORTED_FORMAT = "unsupported_format"  # not JPEG/PNG/WebP (HEIC only when enabled)
    TYPE_MISMATCH = "type_mismatch"            # declared MIME type or extension is not the content
    TRUNCATED = "truncated"                    # the file ends before the image does
    MALFORMED = "malformed"                    # the image structure or data cannot be decoded
    TOO_SMALL = "too_small"                    # a side shorter than the minimum
    TOO_MANY_PIXELS = "too_many_pixels"        # more pixels, or a longer side, than allowed
    DECOMPRESSION_BOMB = "decompression_bomb"  # huge declared size in a tiny file
    ANIMATED = "animated"                      # an animation, not a photo
    POLYGLOT = "polyglot"                      # an archive, page or program hidden after the image
    TRAILING_DATA = "trailing_data"            # a large unknown payload after the image


_MESSAGES = {
    RejectCode.EMPTY: "The photo is empty. Please choose the photo again.",
    RejectCode.TOO_LARGE: "This photo file is too big. Please send a smaller photo.",
    RejectCode.UNSUPPORTED_FORMAT: "We can only use JPEG, PNG or WebP photos. Please take a normal photo.",
    RejectCode.TYPE_MISMATCH: "This file says it is one kind of picture but is another. Please send the photo itself.",
    RejectCode.TRUNCATED: "Only part of the photo arrived. Please try sending it again.",
    RejectCode.MALFORMED: "We could not open this photo. Please take the photo again.",
    RejectCode.TOO_SMALL: "This picture is too small to see. Please send a bigger photo.",
    RejectCode.TOO_MANY_PIXELS: "This photo is too big. Please use your camera's normal photo size.",
    RejectCode.DECOMPRESSION_BOMB: "We could not open this photo. Please take the photo again.",
    RejectCode.ANIMATED: "Please send one photo, not a moving picture.",
    RejectCode.POLYGLOT: "This file has something other than a photo inside. Please send the photo itself.",
    RejectCode.TRAILING_DATA: "This file has something other than a photo inside. Please send the photo itself.",
}


class PhotoRejected(DomainError):
    """An upload we will not store: ``code`` for machines, ``message`` for the child or
    parent, ``detail`` for the log (never shown: it may name internals)."""

    def __init__(self, code: RejectCode, detail: str = "") -> None:
        super().__init__(_MESSAGES[code])
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else str(self.code)


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    """What an upload may be, and what we make of it.

    ``max_trailer_bytes``: unknown data after the image end is tolerated up to this size
    (some apps pad files); camera trailers (a second JPEG as in MPF / Ultra HDR gain maps,
    an MP4 as in motion photos) are allowed at any size within ``max_bytes``. Archives,
    markup, PDFs and executables after the image are refused at any size.
    ``bomb_pixels_per_byte``: more pixels than this per byte of file is a decompression bomb
    at any size (a 4 KB 1-bit PNG of 6000x6000 would decode to 144 MB).
    ``max_decoded_bytes``: the largest raster a decode may make, at 4 bytes a pixel (Pillow's
    RGB) after JPEG's DCT scaling: JPEGs of any accepted size fit, PNG/WebP/HEIC up to ~24 MP.
    ``convert_icc``: pixels tagged with a non-sRGB profile (Display P3 from iPhones, Adobe
    RGB) are converted to sRGB before the profile is dropped; LittleCMS costs ~13 ns a
    pixel (~40 ms at 3 MP). Off, such photos look slightly desaturated (CMYK: a naive conversion).
    The stored long side is ``out_side`` within ``out_slack`` (1500-2500 px by default), or
    the source's when smaller: a 12 MP JPEG (4000x3000, 4032x3024) decodes at half scale and
    is stored as it decodes, with no resampling.
    """

    max_bytes: int = 12 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_side: int = 12_000
    min_side: int = 64
    bomb_pixels_per_byte: int = 1_000
    max_decoded_bytes: int = 96 * 1024 * 1024
    max_trailer_bytes: int = 64 * 1024
    out_side: int = 2000
    out_slack: float = 0.25
    thumb_side: int = 320
    jpeg_quality: int = 85
    thumb_quality: int = 80
    convert_icc: bool = True
    allow_heic: bool = False


DEFAULT_LIMITS = PhotoLimits()


@dataclass(frozen=True, slots=True)
class SanitisedPhoto:
    """The clean result: JPEG bytes to store, a thumbnail, and facts about the original.

    ``image`` and ``thumb_image`` are the decoded RGB pixels of ``data`` and ``thumbnail``
    (before JPEG compression), handed on so hashing, quality checks and the classifier need
    not decode again. ``original_sha256`` is of the uploaded bytes (same file twice).
    """

    data: bytes
    width: int
    height: int
    thumbnail: bytes
    thumb_width: int
    thumb_height: int
    source_format: PhotoFormat
    source_width: int
    source_height: int
    source_bytes: int
    trailing_bytes: int
    original_sha256: str
    exif: PhotoExif
    image: Image.Image = field(repr=False, compare=False)
    thumb_image: Image.Image = field(repr=False, compare=False)
    content_type: str = "image/jpeg"


# --- format detection ------------------------------------------------------------------

_MIME = {
    "image/jpeg": PhotoFormat.JPEG, "image/jpg": PhotoFormat.JPEG, "image/pjpeg": PhotoFormat.JPEG,
    "image/png": PhotoFormat.PNG, "image/x-png": PhotoFormat.PNG,
    "image/webp": PhotoFormat.WEBP,
    "image/heic": PhotoFormat.HEIC, "image/heif": PhotoFormat.HEIC,
    "image/heic-sequence": PhotoFormat.HEIC, "image/heif-sequence": PhotoFormat.HEIC,
}
_UNSPECIFIC_MIME = frozenset({"", "application/octet-stream", "binary/octet-stream", "image/*"})
_EXTENSIONS = {
    "jpg": PhotoFormat.JPEG, "jpeg": PhotoFormat.JPEG, "jpe": PhotoFormat.JPEG, "jfif": PhotoFormat.JPEG,
    "png": PhotoFormat.PNG, "webp": PhotoFormat.WEBP, "heic": PhotoFormat.HEIC, "heif": PhotoFormat.HEIC,
}
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"})
_OTHER_MAGIC = (  # recognised only to name them in the log
    (b"GIF8", "gif"), (b"BM", "bmp"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"%PDF", "pdf"),
    (b"PK\x03\x04", "zip"), (b"\x00\x00\x01\x00", "ico"), (b"8BPS", "psd"), (b"<", "markup"),
)


def detect_format(data: bytes) -> PhotoFormat | None:
    """The format the bytes really are, from their magic numbers; None when not one of ours."""
    if data[:3] == b"\xff\xd8\xff":
        return PhotoFormat.JPEG
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return PhotoFormat.PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return PhotoFormat.WEBP
    if data[4:8] == b"ftyp" and data[8:12] in _HEIC_BRANDS:
        return PhotoFormat.HEIC
    return None


def _describe(data: bytes) -> str:
    if data[4:8] == b"ftyp":
        return "isobmff:" + data[8:12].decode("latin-1")
    head = data[:16].lstrip()
    return next((name for magic, name in _OTHER_MAGIC if head.startswith(magic)), "unknown")


def _check_declared(fmt: PhotoFormat, declared_mime: str | None, filename: str | None) -> None:
    mime = (declared_mime or "").split(";", 1)[0].strip().lower()
    if mime not in _UNSPECIFIC_MIME and _MIME.get(mime) is not fmt:
        raise PhotoRejected(RejectCode.TYPE_MISMATCH, f"declared {mime[:60]!r}, content is {fmt}")
    name = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if "." in name:
        ext = name.rsplit(".", 1)[1].strip().lower()
        if _EXTENSIONS.get(ext) is not fmt:
            raise PhotoRejected(RejectCode.TYPE_MISMATCH, f"extension {ext[:20]!r}, content is {fmt}")


# --- container structure: header size, where the image ends, animation ---------------------

@dataclass(frozen=True, slots=True)
class UploadLayout:
    """What the container walk found, before any decoding."""

    end: int                       # offset just past the image; the rest is a trailer
    size: tuple[int, int] | None   # width, height from the header (None: not parsed)
    animated: bool = False


_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # a marker inside entropy-coded data
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_MAX_SEGMENTS = 4096
_MAX_PNG_CHUNKS = 200_000


def _truncated(what: str) -> PhotoRejected:
    return PhotoRejected(RejectCode.TRUNCATED, what)


def _malformed(what: str) -> PhotoRejected:
    return PhotoRejected(RejectCode.MALFORMED, what)


def _jpeg_layout(data: bytes) -> UploadLayout:
    """Walk the JPEG markers to the EOI that ends the primary image."""
    n, i, size = len(data), 2, None
    for _ in range(_MAX_SEGMENTS):
        if i >= n:
            raise _truncated("jpeg: no EOI")
        if data[i] != 0xFF:  # extraneous bytes before a marker: libjpeg skips them too
            i = data.find(b"\xff", i)
            if i < 0:
                raise _truncated("jpeg: no marker after extraneous bytes")
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            raise _truncated("jpeg: ends in fill bytes")
        marker = data[i]
        i += 1
        if marker == 0xD9:
            return UploadLayout(i, size)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if i + 2 > n:
            raise _truncated("jpeg: segment header")
        length = int.from_bytes(data[i:i + 2], "big")
        if length < 2:
            raise _malformed("jpeg: segment length")
        if marker in _JPEG_SOF and size is None and length >= 7 and i + 7 <= n:
            size = (int.from_bytes(data[i + 5:i + 7], "big"), int.from_bytes(data[i + 3:i + 5], "big"))
        i += length
        if i > n:
            raise _truncated("jpeg: segment runs past the end")
        if marker == 0xDA:
            found = _JPEG_MARKER.search(data, i)
            if found is None:
                raise _truncated("jpeg: scan data has no end")
            i = found.start()
    raise _malformed("jpeg: too many segments")


def _png_layout(data: bytes) -> UploadLayout:
    """Walk the PNG chunks to IEND; acTL marks an animated PNG."""
    n, i, size, animated = len(data), 8, None, False
    for index in range(_MAX_PNG_CHUNKS):
        if i + 8 > n:
            raise _truncated("png: no IEND")
        length = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        if length > 0x7FFFFFFF:
            raise _malformed("png: chunk length")
        if index == 0:
            if kind != b"IHDR" or length != 13 or i + 16 > n:
                raise _malformed("png: first chunk is not IHDR")
            size = (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"))
        animated = animated or kind == b"acTL"
        i += 12 + length
        if i > n:
            raise _truncated("png: chunk runs past the end")
        if kind == b"IEND":
            return UploadLayout(i, size, animated)
    raise _malformed("png: too many chunks")


def _webp_layout(data: bytes) -> UploadLayout:
    """RIFF gives the length; VP8X/VP8L/VP8 give the canvas size and the animation flag."""
    riff_end = 8 + int.from_bytes(data[4:8], "little")
    if riff_end > len(data):
        raise _truncated("webp: RIFF size past the end")
    kind, payload = data[12:16], data[20:50]
    size, animated = None, False
    if kind == b"VP8X" and len(payload) >= 10:
        animated = bool(payload[0] & 0x02)
        size = (int.from_bytes(payload[4:7], "little") + 1, int.from_bytes(payload[7:10], "little") + 1)
    elif kind == b"VP8L" and len(payload) >= 5 and payload[0] == 0x2F:
        bits = int.from_bytes(payload[1:5], "little")
        size = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    elif kind == b"VP8 " and len(payload) >= 10 and payload[3:6] == b"\x9d\x01\x2a":
        size = (int.from_bytes(payload[6:8], "little") & 0x3FFF, int.from_bytes(payload[8:10], "little") & 0x3FFF)
    else:
        raise _malformed(f"webp: first chunk {kind!r}")
    return UploadLayout(riff_end + (riff_end & 1), size, animated)


def _heic_layout(data: bytes) -> UploadLayout:
    """Walk the top-level ISO-BMFF boxes; the size comes from the decoder."""
    n, i = len(data), 0
    for _ in range(_MAX_SEGMENTS):
        if i == n:
            return UploadLayout(i, None)
        if i + 8 > n:
            raise _truncated("heic: box header")
        length, header = int.from_bytes(data[i:i + 4], "big"), 8
        if length == 1:
            length, header = int.from_bytes(data[i + 8:i + 16], "big"), 16
        elif length == 0:
            length = n - i
        if length < header:
            raise _malformed("heic: box length")
        if i + length > n:
            raise _truncated("heic: box runs past the end")
        i += length
    raise _malformed("heic: too many boxes")


_LAYOUTS = {PhotoFormat.JPEG: _jpeg_layout, PhotoFormat.PNG: _png_layout,
            PhotoFormat.WEBP: _webp_layout, PhotoFormat.HEIC: _heic_layout}


# --- what follows the image ------------------------------------------------------------------

_SUSPICIOUS = re.compile(
    rb"<\s*(?:html|script|\?php|svg|iframe|body|object|embed|!doctype)|%PDF-|\x7fELF|Rar!\x1a\x07|7z\xbc\xaf\x27\x1c"
    rb"|PK\x05\x06",
    re.IGNORECASE,
)
_ZIP_ENTRY = re.compile(rb"PK\x03\x04|PK\x01\x02")


def _check_trailer(trailer: bytes, limits: PhotoLimits) -> None:
    """Refuse payloads hidden after the image; allow padding and known camera trailers."""
    if not trailer or not trailer.strip(b"\x00\xff"):
        return
    if _SUSPICIOUS.search(trailer) or trailer.lstrip(b"\x00")[:2] in (b"MZ", b"#!"):
        raise PhotoRejected(RejectCode.POLYGLOT, f"{len(trailer)} trailing bytes with a known payload signature")
    body = trailer.lstrip(b"\x00")
    camera = body[:3] == b"\xff\xd8\xff" or b"ftyp" in body[:16] or trailer.endswith(b"SEFT")
    if camera:
        return
    if _ZIP_ENTRY.search(trailer):
        raise PhotoRejected(RejectCode.POLYGLOT, f"{len(trailer)} trailing bytes containing ZIP entries")
    if len(trailer) > limits.max_trailer_bytes:
        raise PhotoRejected(RejectCode.TRAILING_DATA, f"{len(trailer)} unknown trailing bytes")


# --- decoding -------------------------------------------------------------------------------

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_PIL_FORMATS = {PhotoFormat.JPEG: "JPEG", PhotoFormat.PNG: "PNG", PhotoFormat.WEBP: "WEBP", PhotoFormat.HEIC: "HEIF"}


def _check_size(size: tuple[int, int], n_bytes: int, limits: PhotoLimits, fmt: PhotoFormat | None = None) -> None:
    """Refuse by pixel count and side, by pixels per byte (a bomb) and by decoded memory."""
    width, height = size
    pixels = width * height
    bomb = pixels > limits.bomb_pixels_per_byte * max(n_bytes, 1)
    if pixels > limits.max_pixels or max(width, height) > limits.max_side or bomb:
        code = RejectCode.DECOMPRESSION_BOMB if bomb else RejectCode.TOO_MANY_PIXELS
        raise PhotoRejected(code, f"{width}x{height} in {n_bytes} bytes")
    if min(width, height) < limits.min_side:
        raise PhotoRejected(RejectCode.TOO_SMALL, f"{width}x{height}")
    scale = _jpeg_scale(size, limits) if fmt is PhotoFormat.JPEG else 1
    decoded = (width // scale) * (height // scale) * 4
    if decoded > limits.max_decoded_bytes:
        raise PhotoRejected(RejectCode.TOO_MANY_PIXELS, f"{width}x{height} decodes to {decoded >> 20} MiB")


def _jpeg_scale(size: tuple[int, int], limits: PhotoLimits) -> int:
    """The coarsest DCT scale (8, 4, 2 or 1) that keeps the long side near ``out_side``."""
    low = limits.out_side * (1 - limits.out_slack)
    return next(k for k in (8, 4, 2, 1) if k == 1 or max(size) / k >= low)


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` scaled down (never up) so its longer side is at most ``side``."""
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _open(data: bytes, fmt: PhotoFormat) -> Image.Image:
    """Open with only the plugin of the detected format (headers only, no decoding)."""
    if fmt is PhotoFormat.HEIC:
        _register_heif()
    return Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[fmt]])


@contextmanager
def _pillow_warnings() -> Iterator[None]:
    """Pillow's bomb warning becomes an error (then our rejection); its UserWarnings
    (corrupt EXIF, palette transparency; common on real photos) are ignored.

    ``catch_warnings`` is process-global: under threads a racing exit can leave these
    filters installed, which is harmless here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        raise PhotoRejected(RejectCode.UNSUPPORTED_FORMAT, "heic: pillow-heif not installed") from None
    register_heif_opener()


def _icc_to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert pixels tagged with a non-sRGB profile (Display P3, Adobe RGB, CMYK) to sRGB,
    so dropping the profile does not shift colours. A broken profile is ignored."""
    if not icc or im.mode not in ("RGB", "CMYK"):
        return im
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in (ImageCms.getProfileDescription(source) or "").lower():
            return im
        return ImageCms.profileToProfile(im, source, _SRGB, outputMode="RGB") or im
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any decoded mode to 8-bit RGB; transparency is flattened onto white as viewers show it."""
    if im.mode == "RGB":
        return im
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(im)
        if im.mode.startswith("I;16") or (im.mode == "I" and values.max(initial=0) > 255):
            values = values.astype(np.uint32) >> 8
        return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L").convert("RGB")
    if im.mode in ("RGBA", "LA", "La", "RGBa", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


def _decode(im: Image.Image, fmt: PhotoFormat, limits: PhotoLimits) -> Image.Image:
    """Fully decode to RGB with a long side near ``out_side`` (see :class:`PhotoLimits`).

    A JPEG decodes at the coarsest DCT scale (1/2, 1/4, 1/8 via ``draft``) that keeps the
    long side at least ``1 - out_slack`` of the target; within the slack no resampling is
    done, since a full-image resize costs more than the whole decode.
    """
    width, height = im.size
    if fmt is PhotoFormat.JPEG:
        scale = _jpeg_scale(im.size, limits)
        if scale > 1:
            im.draft("RGB", (width // scale, height // scale))
    im.load()
    icc = im.info.get("icc_profile") if limits.convert_icc else None
    rgb = _to_rgb(_icc_to_srgb(im, icc)) if im.mode == "CMYK" else _icc_to_srgb(_to_rgb(im), icc)
    if max(rgb.size) > limits.out_side * (1 + limits.out_slack):
        rgb = rgb.resize(_fit(rgb.size, limits.out_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return rgb


def _orient(im: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return im.transpose(method) if method is not None else im


def _encode(im: Image.Image, quality: int) -> tuple[bytes, Image.Image]:
    """JPEG from the pixels alone: a fresh image carries no ``info`` (metadata) at all."""
    clean = Image.new("RGB", im.size)
    clean.paste(im)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=quality)
    return out.getvalue(), clean


# --- the entry point --------------------------------------------------------------------------

def sanitise(data: bytes, declared_mime: str | None = None, filename: str | None = None,
             limits: PhotoLimits = DEFAULT_LIMITS) -> SanitisedPhoto:
    """Validate ``data`` and re-encode it from pixels, or raise :class:`PhotoRejected`."""
    fmt, layout = check_upload(data, declared_mime, filename, limits)
    pixels, exif, source_size = _decode_upright(data, fmt, limits)
    data_out, image = _encode(pixels, limits.jpeg_quality)
    thumb_src = image.resize(_fit(image.size, limits.thumb_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    thumbnail, thumb_image = _encode(thumb_src, limits.thumb_quality)
    return SanitisedPhoto(
        data=data_out, width=image.width, height=image.height,
        thumbnail=thumbnail, thumb_width=thumb_image.width, thumb_height=thumb_image.height,
        source_format=fmt, source_width=source_size[0], source_height=source_size[1],
        source_bytes=len(data), trailing_bytes=len(data) - layout.end,
        original_sha256=hashlib.sha256(data).hexdigest(), exif=exif,
        image=image, thumb_image=thumb_image,
    )


def check_upload(data: bytes, declared_mime: str | None = None, filename: str | None = None,
            limits: PhotoLimits = DEFAULT_LIMITS) -> tuple[PhotoFormat, UploadLayout]:
    """The checks that need no decoding (about 1 ms for 2 MB): run them before queueing."""
    if not data:
        raise PhotoRejected(RejectCode.EMPTY)
    if len(data) > limits.max_bytes:
        raise PhotoRejected(RejectCode.TOO_LARGE, f"{len(data)} bytes")
    fmt = detect_format(data)
    if fmt is None or (fmt is PhotoFormat.HEIC and not limits.allow_heic):
        raise PhotoRejected(RejectCode.UNSUPPORTED_FORMAT, str(fmt) if fmt else _describe(data))
    _check_declared(fmt, declared_mime, filename)
    layout = _LAYOUTS[fmt](data)
    if layout.animated:
        raise PhotoRejected(RejectCode.ANIMATED, str(fmt))
    if layout.size is not None:
        _check_size(layout.size, len(data), limits, fmt)
    _check_trailer(data[layout.end:], limits)
    return fmt, layout


def _decode_upright(data: bytes, fmt: PhotoFormat, limits: PhotoLimits) -> tuple[Image.Image, PhotoExif,
                                                                                tuple[int, int]]:
    """Decode, read EXIF, turn upright; every decoder failure becomes a rejection."""
    try:
        with _pillow_warnings(), _open(data, fmt) as im:
            _check_size(im.size, len(data), limits, fmt)
            if getattr(im, "is_animated", False) and fmt is not PhotoFormat.JPEG:  # MPO: keep frame 0
                raise PhotoRejected(RejectCode.ANIMATED, str(fmt))
            source_size = im.size  # draft() changes im.size
            decoded = _decode(im, fmt, limits)  # before EXIF: PNG's getexif() decodes and hides errors
            exif = exif_from_image(im)
            return _orient(decoded, exif.orientation), exif, source_size
    except (PhotoRejected, MemoryError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected(RejectCode.DECOMPRESSION_BOMB, str(exc)) from None
    except UnidentifiedImageError as exc:
        raise PhotoRejected(RejectCode.MALFORMED, str(exc)) from None
    except OSError as exc:
        code = RejectCode.TRUNCATED if "truncated" in str(exc).lower() else RejectCode.MALFORMED
        raise PhotoRejected(code, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure on untrusted bytes is a bad file
        raise PhotoRejected(RejectCode.MALFORMED, f"{type(exc).__name__}: {exc}") from None
