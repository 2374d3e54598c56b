"""A QR code (segno) shown as a Kivy image, sharp at any size."""

from __future__ import annotations

import io

import segno
from kivy.core.image import Image as CoreImage
from kivy.uix.image import Image


def qr_png(text: str, scale: int = 8) -> bytes:
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


class QrImage(Image):
    def __init__(self, text: str, **kwargs):
        super().__init__(fit_mode="contain", **kwargs)
        self.show(text)

    def show(self, text: str) -> None:
        self.payload = text
        texture = CoreImage(io.BytesIO(qr_png(text)), ext="png").texture
        texture.mag_filter = "nearest"
        self.texture = texture
