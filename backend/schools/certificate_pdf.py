"""The certificate as a one-page PDF (Korean and English labels) with its verification QR code."""

from __future__ import annotations

import io
from datetime import date, timedelta

from backend.activities.catalogue import load_catalogue
from backend.schools.pdf import FONT, new_pdf, qr_png


def activity_label(key: str) -> str:
    """The activity's Korean name from the catalogue (its key if it is no longer listed)."""
    return next((t.name_ko for t in load_catalogue().types if t.key == key), key)


def _row(pdf, label: str, value: str) -> None:
    pdf.set_font(FONT, size=10)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(45, 9, label, border="B")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=12)
    pdf.cell(0, 9, value, border="B", new_x="LMARGIN", new_y="NEXT")


def render(figures: dict, qr_text: str) -> bytes:
    """PDF bytes of a certificate from its issued figures."""
    pdf = new_pdf(f"봉사활동 확인서 {figures['number']}")
    pdf.set_font(FONT, size=22)
    pdf.cell(0, 14, "봉사활동 확인서", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 7, "Volunteer service certificate", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    _row(pdf, "확인서 번호 No.", figures["number"])
    _row(pdf, "성명 Name", figures["name"])
    _row(pdf, "학교 School", figures["school"])
    _row(pdf, "학급 Class", figures["class"] or "-")
    last = date.fromisoformat(figures["periodEnd"]) - timedelta(days=1)
    _row(pdf, "기간 Period", f"{figures['periodStart']} ~ {last.isoformat()}  ({figures['periodLabel']})")
    _row(pdf, "인정 시간 Time", f"{figures['minutes']}분 minutes (1365)")
    _row(pdf, "NEIS 시간 Hours", f"{figures['hours']}시간 hours, 이월 {figures['carryMinutes']}분 carried")
    acts = ", ".join(f"{activity_label(name)} {count}회" for name, count in figures["activities"]) or "-"
    pdf.set_font(FONT, size=10)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(45, 9, "활동 내용 Activities")
    pdf.set_text_color(0, 0, 0)
    pdf.multi_cell(0, 9, acts, border="B", new_x="LMARGIN", new_y="NEXT")
    _row(pdf, "발급 기관 Issuer", figures["issuer"])
    _row(pdf, "발급일 Issued", figures["issuedOn"])
    _row(pdf, "원장 항목 Ledger", f"{len(figures['seqs'])}건 entries: " + ", ".join(map(str, figures["seqs"][:12]))
         + (" …" if len(figures["seqs"]) > 12 else ""))
    pdf.ln(6)
    top = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(qr_text)), x=pdf.l_margin, y=top, w=48, h=48)
    pdf.set_xy(pdf.l_margin + 54, top + 2)
    pdf.set_font(FONT, size=10)
    pdf.multi_cell(0, 6, "QR 코드를 스캔하면 이 확인서의 수치를 원장에서 다시 계산해 보여 줍니다. 인쇄된 수치가 "
                         "다르면 위조된 확인서입니다.\nScan the code: the figures are recomputed from the tamper-"
                         "evident ledger, with inclusion proofs. Printed figures that differ mean the certificate "
                         "was altered.", new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.l_margin + 54, top + 40)
    pdf.set_font(FONT, size=7)
    pdf.multi_cell(0, 4, qr_text)
    return bytes(pdf.output())
