"""The monthly municipal report as a PDF: figures, then the two charts."""

from __future__ import annotations

import io

from backend.reports.charts import delivery_chart, participation_chart
from backend.schools.pdf import FONT, new_pdf


def _line(pdf, label: str, value: str) -> None:
    pdf.set_font(FONT, size=10)
    pdf.cell(80, 8, label, border="B")
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 8, value, border="B", new_x="LMARGIN", new_y="NEXT")


def _dr_event(pdf, e: dict) -> None:
    """An event's title in full (wrapped), then its delivery against the target on a line of its own."""
    pdf.ln(2)
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(0, 6, f"DR #{e['eventId']} {e['title']}", new_x="LMARGIN", new_y="NEXT")
    rate = "-" if e["deliveryRate"] is None else f"{e['deliveryRate'] * 100:.1f}%"
    _line(pdf, "전달 / 목표 Delivered / target", f"{e['deliveredKwh']:,.3f} / {e['targetKwh']:,.3f} kWh ({rate})")


def render(f: dict) -> bytes:
    pdf = new_pdf(f"{f['municipality']} {f['year']}-{f['month']:02d} 월간 보고서")
    pdf.set_font(FONT, size=18)
    pdf.cell(0, 12, f"{f['municipality']} 국민발전소 월간 보고서", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 7, f"People's VPP monthly report · {f['year']}-{f['month']:02d} · 행정코드 {f['code']}",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _line(pdf, "측정 절감량 Measured saving (DR)", f"{f['measuredKwh']:,.3f} kWh")
    _line(pdf, "인정 절감량 Deemed saving (activities)", f"{f['deemedKwh']:,.3f} kWh")
    _line(pdf, "온실가스 감축 Avoided CO2", f"{f['avoidedTCo2']:,.4f} tCO2eq (계수 {f['gridFactorTPerMwh']} t/MWh)")
    _line(pdf, "봉사 시간 Volunteer time", f"{f['volunteerMinutes']:,}분 ({f['volunteerHours']:,}시간)")
    _line(pdf, "지역화폐 발행 Coins issued", f"₩{f['coinsIssuedWon']:,}")
    _line(pdf, "지역화폐 사용 Coins redeemed", f"₩{f['coinsRedeemedWon']:,}")
    for e in f["dr"]:
        _dr_event(pdf, e)
    pdf.ln(4)
    pdf.image(io.BytesIO(participation_chart(f["schools"])), w=170)
    pdf.ln(2)
    pdf.image(io.BytesIO(delivery_chart(f["dr"])), w=170)
    return bytes(pdf.output())
