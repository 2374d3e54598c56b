"""sanitise(): what is refused and why, and that what is kept carries nothing but pixels."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageOps

from backend.errors import DomainError
from backend.photos.images import (
    DEFAULT_LIMITS,
    PhotoFormat,
    PhotoLimits,
    PhotoRejected,
    RejectCode,
    detect_format,
    sanitise,
)
from tests.photos.fixtures.builders import (
    XMP,
    camera_exif,
    encode,
    jpeg,
    jpeg_markers,
    photo,
    png16_rgb,
    png_chunk,
    png_raw,
    quadrants,
)


def rejected(data: bytes, mime: str | None = None, name: str | None = None,
             limits: PhotoLimits = DEFAULT_LIMITS) -> RejectCode:
    with pytest.raises(PhotoRejected) as info:
        sanitise(data, mime, name, limits)
    assert info.value.message and "\n" not in info.value.message
    return info.value.code


def reopen(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


# --- metadata is gone -----------------------------------------------------------------------

def test_jpeg_metadata_is_stripped_and_facts_kept():
    src = jpeg(photo(800, 600), exif=camera_exif(), comment=b"Kim Minji, 3-2, Hanbit Elementary",
               xmp=XMP, icc_profile=b"\x00" * 16)
    result = sanitise(src, "image/jpeg", "IMG_0001.JPG")

    out = reopen(result.data)
    assert out.format == "JPEG" and out.mode == "RGB"
    assert not out.getexif()
    for key in ("exif", "xmp", "comment", "icc_profile", "photoshop"):
        assert key not in out.info
    assert set(jpeg_markers(result.data)) <= {0xE0, 0xDB, 0xC0, 0xC4, 0xDA, 0xDD}
    for needle in (b"Exif", b"Kim Minji", b"adobe", b"Samsung", b"GPS"):
        assert needle not in result.data and needle not in result.thumbnail
    assert result.exif.had_location and result.exif.make == "Samsung"
    assert result.exif.captured_at is not None and result.exif.captured_at.utcoffset() is not None
    assert (result.width, result.height, result.source_format) == (800, 600, PhotoFormat.JPEG)
    assert result.content_type == "image/jpeg"


def test_png_text_exif_and_xmp_chunks_are_stripped():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Kim Minji")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    src = encode(photo(300, 200), "PNG", pnginfo=info, exif=camera_exif())
    result = sanitise(src, "image/png", "evidence.png")
    assert b"Kim Minji" not in result.data and b"Exif" not in result.data
    assert result.exif.had_location
    assert not reopen(result.data).getexif()


def test_webp_exif_and_xmp_are_stripped():
    src = encode(photo(300, 200), "WEBP", exif=camera_exif(), xmp=XMP, quality=90)
    result = sanitise(src, "image/webp", "a.webp")
    assert result.source_format is PhotoFormat.WEBP
    assert result.exif.had_location
    assert b"Exif" not in result.data and b"xmpmeta" not in result.data


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_exif_orientation_is_applied_to_pixels(orientation):
    src_image = quadrants(200, 100)
    exif = camera_exif(orientation=orientation)
    src = jpeg(src_image, quality=95, exif=exif)
    result = sanitise(src)

    expected = ImageOps.exif_transpose(reopen(src))
    out = np.asarray(reopen(result.data), np.int16)
    assert out.shape[:2] == (expected.height, expected.width)
    assert np.abs(out - np.asarray(expected, np.int16)).mean() < 6
    if orientation == 6:  # rotate 90 clockwise: red (top-left) ends top-right
        assert out.shape[:2] == (200, 100)
        assert tuple(out[10, 90]) == pytest.approx((255, 0, 0), abs=12)


def test_result_sizes_and_thumbnail():
    result = sanitise(jpeg(photo(3000, 1000)))
    assert (result.width, result.height) == (2000, 667) or (result.width, result.height) == (1500, 500)
    assert max(result.thumb_width, result.thumb_height) == 320
    assert reopen(result.thumbnail).size == (result.thumb_width, result.thumb_height)
    assert result.image.size == (result.width, result.height)
    assert not result.image.info and not result.thumb_image.info


def test_large_jpeg_decodes_at_reduced_scale_without_resampling():
    result = sanitise(jpeg(photo(4032, 3024), quality=80))
    assert (result.width, result.height) == (2016, 1512)
    assert (result.source_width, result.source_height) == (4032, 3024)


def test_large_png_is_resized_to_the_output_side():
    result = sanitise(encode(photo(3000, 2800), "PNG", compress_level=1), limits=PhotoLimits(max_bytes=64 << 20))
    assert max(result.width, result.height) == 2000


# --- refusals --------------------------------------------------------------------------------

def test_empty_and_too_large():
    assert rejected(b"") is RejectCode.EMPTY
    assert rejected(jpeg(), limits=PhotoLimits(max_bytes=1000)) is RejectCode.TOO_LARGE


def test_rejection_is_a_domain_error_with_child_friendly_message():
    with pytest.raises(DomainError) as info:
        sanitise(b"hello")
    assert "photo" in info.value.message.lower()
    assert str(info.value).startswith("unsupported_format")


@pytest.mark.parametrize("data", [
    b"random bytes that are not an image at all" * 10,
    np.random.default_rng(1).bytes(5000),
    b"<html><body>hi</body></html>",
    b"%PDF-1.7 ...",
    b"GIF89a" + b"\x00" * 100,
    b"BM" + b"\x00" * 100,
])
def test_unknown_content_is_unsupported(data):
    assert rejected(data) is RejectCode.UNSUPPORTED_FORMAT


def test_gif_including_animated_is_unsupported():
    frames = [photo(100, 100, seed=i).convert("P") for i in range(3)]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert rejected(gif, "image/gif", "a.gif") is RejectCode.UNSUPPORTED_FORMAT


def test_heic_is_unsupported_unless_enabled():
    fake = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    assert detect_format(fake) is PhotoFormat.HEIC
    assert rejected(fake, "image/heic", "a.heic") is RejectCode.UNSUPPORTED_FORMAT


@pytest.mark.parametrize(("mime", "name"), [
    ("image/jpeg", None), (None, "photo.jpg"), ("image/jpeg", "photo.jpg"),
    ("text/html", None), (None, "photo.php"), (None, "shell.png.php"), ("image/gif", None),
])
def test_declared_type_must_match_png_content(mime, name):
    assert rejected(encode(photo(100, 100), "PNG"), mime, name) is RejectCode.TYPE_MISMATCH


@pytest.mark.parametrize(("mime", "name"), [
    (None, None), ("application/octet-stream", None), ("image/jpeg; charset=binary", "IMG_1.JPEG"),
    ("image/jpg", "x.jfif"), ("", "noextension"), ("image/pjpeg", "C:\\Users\\a\\b.jpg"),
])
def test_declared_type_accepted_when_consistent_or_unspecific(mime, name):
    assert sanitise(jpeg(photo(100, 100)), mime, name).width == 100


def test_truncated_jpeg_and_png():
    src = jpeg(photo(400, 300))
    assert rejected(src[: len(src) // 2]) is RejectCode.TRUNCATED
    assert rejected(src[:-2]) is RejectCode.TRUNCATED  # cut just before EOI
    png = encode(photo(400, 300), "PNG")
    assert rejected(png[:-12]) is RejectCode.TRUNCATED  # IEND missing
    assert rejected(png[: len(png) // 2]) is RejectCode.TRUNCATED


def test_jpeg_whose_scan_is_cut_short_but_ends_with_eoi_decodes_padded():
    """Known limit: libjpeg pads a scan cut short before a real EOI with grey and Pillow
    reports no error, so this is accepted; an upload cut in transit has no EOI and is refused."""
    src = jpeg(photo(400, 300))
    result = sanitise(src[: len(src) // 2] + b"\xff\xd9")
    assert result.image.getpixel((200, 290)) == (128, 128, 128)


def test_corrupt_png_data_is_malformed():
    png = bytearray(encode(photo(200, 150), "PNG"))
    idat = png.index(b"IDAT")
    png[idat + 10: idat + 200] = bytes(190)  # zlib stream corrupted, CRC now wrong
    assert rejected(bytes(png)) in (RejectCode.MALFORMED, RejectCode.TRUNCATED)


def test_jpeg_magic_with_garbage_is_malformed():
    assert rejected(b"\xff\xd8\xff\xe0" + np.random.default_rng(2).bytes(3000)) in (
        RejectCode.MALFORMED, RejectCode.TRUNCATED)


def test_png_without_ihdr_is_malformed():
    bad = b"\x89PNG\r\n\x1a\n" + png_chunk(b"tEXt", b"a\x00b") + png_chunk(b"IEND", b"")
    assert rejected(bad) is RejectCode.MALFORMED


def test_decompression_bomb_png_is_refused_from_its_header():
    bomb = png_raw(50_000, 50_000, 8, 0, rows=None)
    assert len(bomb) < 200
    assert rejected(bomb) is RejectCode.DECOMPRESSION_BOMB


def test_pillow_bomb_error_and_warning_become_rejections():
    lax = PhotoLimits(max_pixels=10**10, max_side=100_000)
    assert rejected(png_raw(50_000, 50_000, 8, 0, rows=None), limits=lax) is RejectCode.DECOMPRESSION_BOMB
    # 100 MP: above Pillow's warning limit (~89 MP), below its error limit
    assert rejected(png_raw(10_000, 10_000, 8, 0, rows=None), limits=lax) is RejectCode.DECOMPRESSION_BOMB


def test_jpeg_header_declaring_huge_size_is_refused_before_decoding():
    src = bytearray(jpeg(photo(64, 64)))
    sof = src.index(b"\xff\xc0")
    src[sof + 5: sof + 9] = (30_000).to_bytes(2, "big") + (30_000).to_bytes(2, "big")
    assert rejected(bytes(src)) is RejectCode.DECOMPRESSION_BOMB


def test_too_many_pixels_too_long_and_too_small():
    assert rejected(jpeg(photo(400, 300)), limits=PhotoLimits(max_pixels=100_000)) is RejectCode.TOO_MANY_PIXELS
    assert rejected(jpeg(photo(1200, 100)), limits=PhotoLimits(max_side=1000)) is RejectCode.TOO_MANY_PIXELS
    assert rejected(jpeg(photo(32, 200))) is RejectCode.TOO_SMALL


def test_animated_webp_and_png_are_refused_single_frame_kept():
    frames = [photo(120, 90, seed=i) for i in range(3)]
    anim_webp = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100)
    anim_png = encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)
    assert rejected(anim_webp) is RejectCode.ANIMATED
    assert rejected(anim_png) is RejectCode.ANIMATED
    assert sanitise(encode(frames[0], "WEBP", lossless=True)).width == 120


# --- polyglots and trailers ------------------------------------------------------------------

def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("payload.js", "alert(1)")
    return out.getvalue()


@pytest.mark.parametrize("trailer", [
    _zip(),
    b"<html><script>alert(document.cookie)</script></html>",
    b"\n\n<?php system($_GET['c']); ?>",
    b"%PDF-1.4\n1 0 obj",
    b"\x7fELF\x02\x01\x01" + b"\x00" * 100,
    b"MZ\x90\x00" + b"\x00" * 100,
])
def test_jpeg_and_png_with_hidden_payload_are_polyglots(trailer):
    assert rejected(jpeg(photo(200, 150)) + trailer) is RejectCode.POLYGLOT
    assert rejected(encode(photo(200, 150), "PNG") + trailer) is RejectCode.POLYGLOT


def test_zip_appended_is_still_a_valid_zip_but_refused():
    poly = jpeg(photo(200, 150)) + _zip()
    assert zipfile.ZipFile(io.BytesIO(poly)).namelist() == ["payload.js"]
    assert rejected(poly) is RejectCode.POLYGLOT


def test_large_unknown_trailer_is_refused_small_one_tolerated():
    src = jpeg(photo(200, 150))
    noise = np.random.default_rng(3).bytes(100_000).replace(b"PK", b"pk")
    assert rejected(src + noise) is RejectCode.TRAILING_DATA
    result = sanitise(src + noise[:1000])
    assert result.trailing_bytes == 1000 and noise[:1000] not in result.data


@pytest.mark.parametrize("trailer", [
    b"\x00" * 200_000,  # padding
    jpeg(photo(400, 300, seed=5)),  # MPF second image / Ultra HDR gain map
    b"\x00\x00\x00\x18ftypmp42" + np.random.default_rng(4).bytes(300_000).replace(b"PK", b"pk"),  # motion photo
])
def test_camera_trailers_are_accepted_and_dropped(trailer):
    src = jpeg(photo(200, 150))
    result = sanitise(src + trailer)
    assert result.trailing_bytes == len(trailer)
    assert len(result.data) < len(src) + 50_000


def test_html_inside_a_comment_segment_is_removed_by_reencoding():
    src = jpeg(photo(200, 150), comment=b"<script>alert(1)</script>")
    result = sanitise(src)
    assert b"<script>" not in result.data


# --- colour modes ----------------------------------------------------------------------------

def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.new("CMYK", (128, 96), (0, 255, 255, 0))  # red ink
    result = sanitise(jpeg(cmyk, quality=95))
    r, g, b = result.image.getpixel((64, 48))
    assert r > 200 and g < 60 and b < 60


def test_palette_png_with_transparency_is_flattened_on_white():
    im = Image.new("P", (100, 80), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(1, (0, 0, 50, 80))
    im.info["transparency"] = 0
    result = sanitise(encode(im, "PNG", transparency=0))
    assert result.image.getpixel((10, 10)) == (255, 0, 0)
    assert result.image.getpixel((90, 10)) == (255, 255, 255)


def test_rgba_and_la_png_are_flattened():
    rgba = Image.new("RGBA", (100, 80), (0, 0, 255, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 50, 80))
    result = sanitise(encode(rgba, "PNG"))
    assert result.image.getpixel((10, 10)) == (0, 0, 255)
    assert result.image.getpixel((90, 10)) == (255, 255, 255)
    la = Image.new("LA", (100, 80), (40, 255))
    assert sanitise(encode(la, "PNG")).image.getpixel((5, 5)) == (40, 40, 40)


def test_16_bit_png_is_scaled_not_clipped():
    gray = Image.fromarray(np.full((64, 80), 0x8000, np.uint16))
    src = encode(gray, "PNG")
    assert reopen(src).mode.startswith("I")
    assert sanitise(src).image.getpixel((5, 5)) == (128, 128, 128)
    rgb16 = sanitise(png16_rgb())
    left, right = rgb16.image.getpixel((0, 10)), rgb16.image.getpixel((79, 10))
    assert left[0] > 240 and left[1] < 15 and right[1] > 240 and left[2] == 128


def test_grayscale_and_bilevel_images():
    assert sanitise(jpeg(photo(100, 100).convert("L"))).image.mode == "RGB"
    assert sanitise(encode(photo(100, 100).convert("1"), "PNG")).image.mode == "RGB"


def test_srgb_icc_profile_dropped_and_broken_profile_ignored():
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for icc in (srgb, b"not a profile" * 20):
        result = sanitise(jpeg(photo(100, 100), icc_profile=icc))
        assert "icc_profile" not in reopen(result.data).info


# --- real-world oddities -----------------------------------------------------------------------

def test_broken_exif_does_not_refuse_the_photo():
    src = jpeg(photo(200, 150))
    app1 = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x05\xff\xff\xff\xff" + b"\xee" * 40
    broken = src[:2] + b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1 + src[2:]
    result = sanitise(broken)
    assert result.exif.orientation == 1 and b"\xee" * 40 not in result.data


def test_extraneous_bytes_between_segments_are_tolerated():
    src = jpeg(photo(200, 150))
    dqt = src.index(b"\xff\xdb")
    assert sanitise(src[:dqt] + b"\x00\x00" + src[dqt:]).width == 200


def test_multi_picture_jpeg_keeps_the_primary_image():
    first, second = quadrants(200, 100), photo(200, 100, seed=9)
    mpo = encode(first, "MPO", save_all=True, append_images=[second], quality=95)
    result = sanitise(mpo, "image/jpeg", "IMG.JPG")
    assert result.trailing_bytes > 0
    assert result.image.getpixel((10, 10)) == pytest.approx((255, 0, 0), abs=12)


def test_heic_when_enabled_and_pillow_heif_installed():
    pillow_heif = pytest.importorskip("pillow_heif", reason="HEIC is the opt-in extra `heic` (GPL codecs); without it HEIC is refused, as test_heic_is_unsupported_unless_enabled checks")
    pillow_heif.register_heif_opener()
    src = encode(quadrants(200, 100), "HEIF", quality=90, exif=camera_exif(orientation=6).tobytes())
    result = sanitise(src, "image/heic", "IMG_0001.HEIC", PhotoLimits(allow_heic=True))
    assert (result.width, result.height, result.source_format) == (100, 200, PhotoFormat.HEIC)
    assert result.exif.had_location and b"Exif" not in result.data
    assert result.image.getpixel((90, 10)) == pytest.approx((255, 0, 0), abs=12)
    assert rejected(src, "image/heic", "IMG_0001.HEIC") is RejectCode.UNSUPPORTED_FORMAT


def test_non_srgb_icc_profile_is_converted_before_it_is_dropped():
    from tests.photos.fixtures.builders import swapped_primaries_icc

    red = Image.new("RGB", (100, 80), (255, 0, 0))
    result = sanitise(jpeg(red, quality=95, icc_profile=swapped_primaries_icc()))
    r, g, b = result.image.getpixel((50, 40))
    assert g > 200 and r < 60 and b < 60
    assert "icc_profile" not in reopen(result.data).info
    unconverted = sanitise(jpeg(red, quality=95, icc_profile=swapped_primaries_icc()),
                           limits=PhotoLimits(convert_icc=False))
    assert unconverted.image.getpixel((50, 40))[0] > 200
