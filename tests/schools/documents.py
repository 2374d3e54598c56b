"""The pictures of docs/schools, made from the demo data through the real API.

``python -m tests.schools.documents docs/schools`` (``make docs-schools``) starts a private
backend with the demo (``pvpp demo-data``), then as the demo's staff and officer:

- ``class-scoreboard.png`` / ``school-scoreboard.png``: this school year's class board of the demo
  school and school board of its city, drawn as tables (matplotlib, Noto Sans KR);
- ``certificate.png``: page 1 of a demo student's volunteer certificate (pdftoppm), and
  ``certificate-doctored.png``: the same PDF with its printed minutes raised (same QR code);
- ``verify-genuine.png`` / ``verify-doctored-qr.png``: the verification page the QR code opens,
  and the page for a QR code re-made for edited figures (headless Chromium, when installed);
- ``report.png``: page 1 of last month's municipal report;
- ``volunteer-records.csv``: the 1365/NEIS export of the demo class (names as in the demo).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from tests.mobile.server import FULL_DEMO, OFFICER, PARENT, STUDENT, TEACHER, Backend

ADMIN = ("schooladmin@demo.pvpp.kr", "demo-Admin-1!")
BOARD = """query($level: ScoreLevel!, $scope: ID) { scoreboard(level: $level, scopeId: $scope, period: SCHOOL_YEAR) {
  ... on Scoreboard { period { label } minStudents entries { name rank suppressed enrolled participationRate
  pointsPerStudent deemedKwhPerStudent measuredKwhPerStudent } } } }"""
ISSUE = """mutation($s: ID!) { issueVolunteerCertificate(studentId: $s, period: SCHOOL_YEAR) {
  __typename ... on VolunteerCertificate { number digest minutes qrPayload pdfBase64 } ... on Error { message } } }"""
REPORT = """query($m: ID!, $y: Int!, $mo: Int!) { municipalReport(municipalityId: $m, year: $y, month: $mo) {
  __typename ... on MunicipalReport { pdfBase64 figures } ... on Error { message } } }"""
CONSENT = """mutation($s: ID!) { setVolunteerTransferConsent(studentId: $s, given: true) { __typename } }"""
EXPORT = """mutation($school: ID!, $class: ID) { exportVolunteerRecords(schoolId: $school, classId: $class) {
  __typename ... on VolunteerRecordsExport { csv rows withheldWithoutConsent } ... on Error { message } } }"""


def board_png(board: dict, title: str) -> bytes:
    """A scoreboard as a table picture (small groups marked, no figures for them)."""
    from matplotlib import pyplot as plt

    from backend.reports.charts import FAMILY, _png

    header = ["순위\nRank", "이름\nName", "학생\nStudents", "참여율\nTook part", "1인당 포인트\nPoints/student",
              "1인당 인정 kWh\nDeemed/student", "1인당 측정 kWh\nMeasured/student"]
    rows = []
    for e in board["entries"]:
        if e["suppressed"]:
            rows.append(["-", e["name"], str(e["enrolled"]), f"{board['minStudents']}명 미만", "-", "-", "-"])
            continue
        rows.append([str(e["rank"]), e["name"], str(e["enrolled"]), f"{round(e['participationRate'] * 100)}%",
                     f"{e['pointsPerStudent']:.1f}", f"{e['deemedKwhPerStudent']:.2f}",
                     f"{(e['measuredKwhPerStudent'] or 0):.2f}"])
    with plt.rc_context({"font.family": FAMILY}):
        fig, ax = plt.subplots(figsize=(11, 0.4 + 0.36 * (len(rows) + 2)))
        ax.axis("off")
        ax.set_title(title, loc="left", fontsize=12)
        table = ax.table(cellText=rows or [["-"] * len(header)], colLabels=header, loc="upper left",
                         cellLoc="left", colWidths=[0.06, 0.30, 0.08, 0.10, 0.14, 0.16, 0.16])
        table.auto_set_font_size(False)
        table.set_fontsize(9)
        table.scale(1, 1.6)
        for (r, _c), cell in table.get_celld().items():
            if r == 0:
                cell.set_facecolor("#e3efe7")
                cell.set_height(cell.get_height() * 1.5)
        return _png(fig)


def first_page(pdf: bytes, png: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(path),
                        str(png.with_suffix(""))], check=True)
    return png


def page_png(url: str, png: Path) -> Path | None:
    """A screenshot of a page by headless Chromium, or None when it is not installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print(f"chromium is not installed: {png.name} not written", file=sys.stderr)
        return None
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png}", "--window-size=760,1100", url], check=True, capture_output=True,
                   timeout=120)
    return png


def doctored(cert: dict) -> bytes:
    """The issued certificate re-rendered with its printed minutes raised by 10 hours, QR unchanged."""
    from backend.schools.certificate_pdf import render

    from backend.schools import certificates

    figures = dict(cert["figures"], minutes=cert["figures"]["minutes"] + 600)
    figures["hours"], figures["carryMinutes"] = certificates.neis_hours(figures["minutes"])
    return render(figures, cert["qrPayload"])


def write_all(backend: Backend, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    teacher, admin, officer = backend.token(TEACHER), backend.token(ADMIN), backend.token(OFFICER)
    me = backend.graphql("{ me { school { id name municipality { id name } } schoolClass { id } } }",
                         token=backend.token(STUDENT))["me"]
    school, city = me["school"], me["school"]["municipality"]
    written = []
    classes = backend.graphql(BOARD, {"level": "CLASS", "scope": school["id"]}, token=admin)["scoreboard"]
    (out / "class-scoreboard.png").write_bytes(board_png(
        classes, f"{school['name']} 학급 순위 Classes · {classes['period']['label']}"))
    schools = backend.graphql(BOARD, {"level": "SCHOOL", "scope": city["id"]}, token=officer)["scoreboard"]
    (out / "school-scoreboard.png").write_bytes(board_png(
        schools, f"{city['name']} 학교 순위 Schools · {schools['period']['label']}"))
    written += [out / "class-scoreboard.png", out / "school-scoreboard.png"]

    student = backend.graphql("{ me { id } }", token=backend.token(STUDENT))["me"]["id"]
    cert = backend.graphql(ISSUE, {"s": student}, token=teacher)["issueVolunteerCertificate"]
    assert cert["__typename"] == "VolunteerCertificate", cert
    backend.publish_checkpoint()
    written.append(first_page(base64.b64decode(cert["pdfBase64"]), out / "certificate.png"))
    cert["figures"] = _issued_figures(backend, cert["number"])
    written.append(first_page(doctored(cert), out / "certificate-doctored.png"))
    url = urlsplit(cert["qrPayload"])
    for name, query in (("verify-genuine.png", url.query),
                        ("verify-doctored-qr.png", f"n={cert['number']}&d={_forged_digest(cert)}")):
        shot = page_png(f"{backend.url}{url.path}?{query}&lang=ko", out / name)
        written += [shot] if shot else []

    today = date.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    report = backend.graphql(REPORT, {"m": city["id"], "y": year, "mo": month}, token=officer)["municipalReport"]
    assert report["__typename"] == "MunicipalReport", report
    written.append(first_page(base64.b64decode(report["pdfBase64"]), out / "report.png"))

    backend.graphql(CONSENT, {"s": student}, token=backend.token(PARENT))
    export = backend.graphql(EXPORT, {"school": school["id"], "class": me["schoolClass"]["id"]},
                             token=teacher)["exportVolunteerRecords"]
    assert export["__typename"] == "VolunteerRecordsExport", export
    (out / "volunteer-records.csv").write_bytes(export["csv"].encode("utf-8"))
    written.append(out / "volunteer-records.csv")
    return written


def _issued_figures(backend: Backend, number: str) -> dict:
    import json
    import sqlite3

    db = sqlite3.connect(backend.var_dir / "pvpp.sqlite3")
    try:
        return json.loads(db.execute("SELECT figures FROM volunteer_certificate WHERE number = ?",
                                     (number,)).fetchone()[0])
    finally:
        db.close()


def _forged_digest(cert: dict) -> str:
    """What a forger would put in a re-made QR code: a digest of the edited figures under a guessed key."""
    from backend.schools import certificates

    return certificates.digest_of(dict(cert["figures"], minutes=cert["figures"]["minutes"] + 600), "guessed-key")


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/schools")
    with tempfile.TemporaryDirectory() as tmp:
        backend = Backend(Path(tmp) / "server").setup(FULL_DEMO)
        try:
            for path in write_all(backend, out):
                print(f"wrote {path}")
        finally:
            backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
