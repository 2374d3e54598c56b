"""Sample documents for the docs: a certificate rendered from fixed figures (``python -m
backend.schools.samples docs/schools``, needs poppler's pdftoppm for the PNG)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from backend.schools import certificates
from backend.schools.certificate_pdf import render

SAMPLE_FIGURES = {
    "v": 1, "number": "VPP-7KQ2M9XH4R3T", "name": "김민수", "pseudonym": "00000000-0000-0000-0000-000000000000",
    "school": "나주중학교", "class": "2-1", "periodStart": "2026-03-01", "periodEnd": "2027-03-01",
    "periodLabel": "2026 school year", "minutes": 545, "hours": 9, "carryMinutes": 5, "seqs": [12, 40, 77, 103],
    "activities": [["gaming_reduced", 6], ["phone_charging_reduced", 4], ["waste_found", 3]],
    "issuer": "나주중학교 · 나주시 People's VPP", "issuedOn": "2026-12-03",
}


def write_certificate(out_dir: Path) -> Path:
    """The sample certificate's PDF and its first page as PNG (returns the PNG path)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = certificates.qr_payload("https://vpp.example.kr", SAMPLE_FIGURES["number"], "SAMPLE" + "A" * 26)
    pdf = out_dir / "certificate-sample.pdf"
    pdf.write_bytes(render(SAMPLE_FIGURES, payload))
    return _png(pdf)


SAMPLE_REPORT = {
    "municipality": "나주시", "code": "46170", "year": 2026, "month": 11, "periodStart": "2026-11-01",
    "periodEnd": "2026-12-01", "measuredKwh": 12.5, "deemedKwh": 40.25, "savedKwh": 52.75,
    "gridFactorTPerMwh": 0.4173, "avoidedTCo2": 0.022013, "volunteerMinutes": 1250, "volunteerHours": 20,
    "coinsIssuedWon": 120_000, "coinsRedeemedWon": 45_000,
    "dr": [{"eventId": 3, "title": "저녁 피크", "targetKwh": 10.0, "deliveredKwh": 8.7, "deliveryRate": 0.87},
           {"eventId": 5, "title": "한파 대비", "targetKwh": 6.0, "deliveredKwh": 6.4, "deliveryRate": 1.0667}],
    "schools": [{"schoolId": 1, "school": "나주중학교", "enrolled": 240, "participationRate": 0.62, "suppressed": False},
                {"schoolId": 2, "school": "빛가람초등학교", "enrolled": 180, "participationRate": 0.41,
                 "suppressed": False},
                {"schoolId": 3, "school": "작은학교", "enrolled": 3, "participationRate": None, "suppressed": True}],
}


def _png(pdf: Path) -> Path:
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(pdf.with_suffix(""))], check=True)
    return pdf.with_suffix(".png")


def write_report(out_dir: Path) -> Path:
    """The sample monthly report's PDF and its first page as PNG."""
    from backend.reports.pdf import render as render_report

    pdf = out_dir / "report-sample.pdf"
    pdf.write_bytes(render_report(SAMPLE_REPORT))
    return _png(pdf)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schools")
    print(write_certificate(target), write_report(target))
