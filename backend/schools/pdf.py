"""Shared PDF pieces: the embedded Korean font (Noto Sans KR, SIL OFL) and QR images."""

from __future__ import annotations

import io
from pathlib import Path

import pylopdf_fonts_ko
import segno
from fpdf import FPDF

FONT_PATH = Path(pylopdf_fonts_ko.__file__).with_name("NotoSansKR-Regular.otf")
FONT = "NotoSansKR"


def new_pdf(title: str) -> FPDF:
    """An A4 document with the Korean font embedded (subset) and metadata set."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(title)
    pdf.set_creator("People's VPP")
    pdf.add_font(FONT, fname=str(FONT_PATH))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font(FONT, size=11)
    return pdf


def qr_png(payload: str, scale: int = 8) -> bytes:
    """A high-contrast QR code (error correction M, quiet zone 4) as PNG bytes."""
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
