"""Metadata facts read from the original bytes; broken EXIF never raises."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from backend.photos.exif import EMPTY, parse_exif_datetime, read_exif
from tests.photos.fixtures.builders import SEOUL, camera_exif, encode, jpeg, photo


def test_phone_jpeg_facts():
    facts = read_exif(jpeg(exif=camera_exif(orientation=6)))
    assert facts.captured_at == SEOUL.replace(tzinfo=timezone(timedelta(hours=9)))
    assert facts.captured_at_source == "original"
    assert facts.had_location is True
    assert (facts.make, facts.model, facts.software) == ("Samsung", "SM-G991N", "G991NKSU4CVF1")
    assert facts.orientation == 6 and facts.has_camera and not facts.screenshot_marker


def test_location_is_a_yes_no_only():
    facts = read_exif(jpeg(exif=camera_exif()))
    assert facts.had_location is True
    values = [getattr(facts, name) for name in facts.__slots__]
    assert not any(isinstance(v, (tuple, float)) for v in values)
    assert "37" not in repr(facts) and "126" not in repr(facts)
    assert read_exif(jpeg(exif=camera_exif(gps=False))).had_location is False


def test_naive_time_without_offset_and_fallback_to_datetime():
    exif = Image.Exif()
    exif[0x0132] = "2024:01:02 03:04:05"
    facts = read_exif(jpeg(exif=exif))
    assert facts.captured_at == datetime(2024, 1, 2, 3, 4, 5)
    assert facts.captured_at.tzinfo is None and facts.captured_at_source == "modified"
    assert not facts.has_camera


def test_no_exif_and_not_an_image():
    assert read_exif(jpeg()) == EMPTY
    assert read_exif(b"") == EMPTY
    assert read_exif(b"garbage" * 100) == EMPTY


def test_broken_exif_segment_is_tolerated():
    src = jpeg(photo(64, 64))
    app1 = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x05\xff\xff\xff\xff" + b"\xee" * 40
    broken = src[:2] + b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1 + src[2:]
    facts = read_exif(broken)
    assert facts.captured_at is None and facts.orientation == 1


def test_screenshot_markers_in_usercomment_and_xmp():
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00Screenshot"
    assert read_exif(jpeg(exif=exif)).screenshot_marker
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:UserComment>Screenshot</exif:UserComment></x:xmpmeta>'
    assert read_exif(jpeg(xmp=xmp)).screenshot_marker


def test_png_exif_is_read_without_decoding_pixels():
    facts = read_exif(encode(photo(64, 64), "PNG", exif=camera_exif()))
    assert facts.had_location and facts.make == "Samsung"


@pytest.mark.parametrize(("raw", "subsec", "offset", "expected"), [
    ("2025:05:31 21:14:05", None, None, datetime(2025, 5, 31, 21, 14, 5)),
    ("2025-05-31T21:14:05", "5", "-03:30", datetime(2025, 5, 31, 21, 14, 5, 500000,
                                                     tzinfo=timezone(-timedelta(hours=3, minutes=30)))),
    (b"2025:05:31 21:14:05\x00", None, "+0900", datetime(2025, 5, 31, 21, 14, 5, tzinfo=timezone(timedelta(hours=9)))),
    ("2025:05:31 21:14:05", None, "+99:00", datetime(2025, 5, 31, 21, 14, 5)),
    ("0000:00:00 00:00:00", None, None, None),
    ("    :  :     :  :  ", None, None, None),
    ("2025:02:30 10:00:00", None, None, None),
    (12345, None, None, None),
    (None, None, None, None),
])
def test_parse_exif_datetime(raw, subsec, offset, expected):
    assert parse_exif_datetime(raw, subsec, offset) == expected
