"""The public page a certificate's QR code opens, over real HTTP against ``pvpp serve`` with the
demo data: a genuine certificate verifies with every inclusion proof checked; a forged digest, an
unknown number, an entry changed in the database and malformed links do not — never a 500."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from backend.schools import certificates
from tests.mobile.server import STUDENT2, TEACHER, Backend

pytestmark = pytest.mark.slow

CONVERT = """mutation($k: String!) { convertPoints(idempotencyKey: $k, target: VOLUNTEER_MINUTES, points: 80) {
  __typename ... on Error { message } } }"""
ISSUE = """mutation($s: ID!) { issueVolunteerCertificate(studentId: $s, period: SCHOOL_YEAR) {
  __typename ... on VolunteerCertificate { number digest minutes hours carryMinutes qrPayload } } }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    backend = Backend(tmp_path_factory.mktemp("verify-page")).setup()
    try:
        yield backend
    finally:
        backend.close()


def issue(server: Backend) -> dict:
    student = server.graphql("{ me { id } }", token=server.token(STUDENT2))["me"]["id"]
    cert = server.graphql(ISSUE, {"s": student}, token=server.token(TEACHER))["issueVolunteerCertificate"]
    assert cert["__typename"] == "VolunteerCertificate", cert
    return cert


def get(server: Backend, path_and_query: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path_and_query}", headers=headers, trust_env=False, timeout=30)


def link(cert: dict) -> str:
    url = urlsplit(cert["qrPayload"])
    return f"{url.path}?{url.query}"


def test_a_genuine_certificate_verifies_with_its_proofs_in_both_languages(server: Backend) -> None:
    cert = issue(server)
    server.publish_checkpoint()
    ko = get(server, link(cert))
    assert ko.status_code == 200 and ko.headers["content-type"].startswith("text/html")
    assert "확인됨: 원장과 일치하는 진본 확인서입니다." in ko.text
    entries = ko.text.count("<td>검증됨</td>")
    assert entries >= 1 and "검증 실패" not in ko.text and "서명 검증됨" in ko.text
    assert f"{cert['minutes']}분" in ko.text and cert["number"] in ko.text
    en = get(server, link(cert) + "&lang=en")
    assert "Verified: a genuine certificate" in en.text and en.text.count("<td>verified</td>") == entries
    assert "Verified: a genuine" in get(server, link(cert), **{"accept-language": "en-GB,en"}).text
    assert "default-src 'none'" in ko.headers["content-security-policy"]


def test_an_entry_not_yet_in_a_checkpoint_is_pending_until_one_is_signed(server: Backend) -> None:
    server.publish_checkpoint()
    converted = server.graphql(CONVERT, {"k": str(uuid.uuid4())}, token=server.token(STUDENT2))["convertPoints"]
    assert converted["__typename"] == "Conversion", converted
    cert = issue(server)
    page = get(server, link(cert))
    assert page.status_code == 200 and "일부 항목은 다음 서명 체크포인트 뒤에 증명됩니다." in page.text
    assert "<td>체크포인트 대기</td>" in page.text and "검증 실패" not in page.text
    server.publish_checkpoint()
    assert "확인됨: 원장과 일치하는 진본 확인서입니다." in get(server, link(cert)).text


def test_doctored_links_and_records_do_not_verify(server: Backend) -> None:
    cert = issue(server)
    server.publish_checkpoint()
    # a QR code re-made for edited figures: the digest was never issued; no figures are shown
    forged = certificates.digest_of({"minutes": cert["minutes"] + 600}, "guess" * 8)
    page = get(server, f"/certificates/verify?n={cert['number']}&d={forged}")
    assert page.status_code == 200 and "확인되지 않음" in page.text and "위조" in page.text
    assert f"{cert['minutes']}분" not in page.text
    # a number changed by one character: no such certificate
    other = cert["number"][:-1] + ("2" if cert["number"][-1] != "2" else "3")
    page = get(server, f"/certificates/verify?n={other}&d={cert['digest']}&lang=en")
    assert page.status_code == 404 and "No certificate was issued with this number." in page.text
    # a ledger row behind the certificate edited in the database: its time moved, the amount kept
    db = sqlite3.connect(Path(server.var_dir) / "pvpp.sqlite3")
    try:
        figures = db.execute("SELECT figures FROM volunteer_certificate WHERE number = ?", (cert["number"],))
        seq = json.loads(figures.fetchone()[0])["seqs"][0]
        db.execute("UPDATE ledger_entry SET recorded_at = '2020-01-01 00:00:00+00:00' WHERE seq = ?", (seq,))
        db.commit()
    finally:
        db.close()
    page = get(server, link(cert) + "&lang=en")
    assert page.status_code == 200 and "Not verified" in page.text, page.text
    assert "An entry's inclusion proof does not lead to the signed checkpoint." in page.text
    assert "<td>FAILED</td>" in page.text


@pytest.mark.parametrize("query", [
    "", "?n=VPP-ABCDEFGHJKMN", "?d=" + "A" * 32, "?n=<script>alert(1)</script>&d=" + "A" * 32,
    "?n=VPP-ABCDEFGHJKMN&d=" + "A" * 31, "?n=VPP-ABCDEFGHJKMN&d=" + "A" * 5000, "?n=%00&d=%ff",
    "?n=VPP-ABCDEFGHJKMN&d=" + "1" * 32,
])
def test_malformed_links_are_400_pages(server: Backend, query: str) -> None:
    page = get(server, "/certificates/verify" + query)
    assert page.status_code == 400 and "<script>" not in page.text
    assert "확인서 QR 코드의 주소가 아닙니다." in page.text


def test_other_methods_are_refused_without_a_500(server: Backend) -> None:
    r = httpx.post(f"{server.url}/certificates/verify?n=VPP-ABCDEFGHJKMN&d={'A' * 32}", trust_env=False)
    assert r.status_code == 405
