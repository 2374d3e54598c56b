"""The public page a certificate's QR code opens: ``GET /certificates/verify?n=<number>&d=<digest>``.

It shows, in Korean or English (``lang``, else the browser's Accept-Language), whether the
certificate is genuine, its figures as issued (name masked) for comparison with the paper, and
each of its ledger entries with the inclusion proof checked against the latest signed
checkpoint. Malformed input is a 400 page, an unknown number a 404 page, never a 500.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import escape
from urllib.parse import urlencode

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import HTMLResponse

from backend.accounts.ratelimit import AttemptCounter
from backend.schools import certificates
from backend.schools.proofs import checkpoint_check, entry_proofs

NUMBER = re.compile(r"^VPP-[2-9A-Z]{12}$")
DIGEST = re.compile(r"^[A-Z2-7]{32}$")
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"}

TEXT = {
    "ko": {
        "title": "봉사활동 확인서 검증", "verified": "확인됨: 원장과 일치하는 진본 확인서입니다.",
        "pending": "수치는 원장과 일치합니다. 일부 항목은 다음 서명 체크포인트 뒤에 증명됩니다.",
        "not_verified": "확인되지 않음", "bad_request": "확인서 QR 코드의 주소가 아닙니다.",
        "compare": "인쇄된 확인서의 수치가 아래와 다르면 확인서가 변조된 것입니다.",
        "number": "확인서 번호", "student": "성명", "school": "학교", "period": "기간", "minutes": "인정 시간",
        "hours": "NEIS 시간", "issuer": "발급 기관", "issued": "발급일", "min": "{n}분",
        "hours_value": "{h}시간 (이월 {c}분)", "entries": "원장 항목과 포함 증명", "seq": "번호",
        "recorded": "기록 시각", "amount": "분", "leaf": "잎 해시", "proof": "포함 증명",
        "proof_ok": "검증됨", "proof_bad": "검증 실패", "proof_pending": "체크포인트 대기",
        "checkpoint": "서명 체크포인트: 크기 {size}, 루트 {root}", "signature_ok": "서명 검증됨",
        "signature_bad": "서명 검증 실패", "no_checkpoint": "아직 서명된 체크포인트가 없습니다.",
        "other": "English",
        "reasons": {
            "unknown_number": "이 번호로 발급된 확인서가 없습니다.",
            "digest_mismatch": "QR 코드의 검증값이 발급된 확인서와 다릅니다. 위조되었거나 다시 만든 코드입니다.",
            "record_altered": "저장된 확인서 기록이 발급 뒤에 바뀌었습니다.",
            "entries_missing": "확인서의 원장 항목이 없거나 다른 사람의 것입니다.",
            "figures_do_not_match_ledger": "원장 항목의 합계가 확인서의 시간과 다릅니다.",
            "proof_failed": "원장 항목의 포함 증명이 서명된 체크포인트와 맞지 않습니다.",
        },
    },
    "en": {
        "title": "Volunteer certificate verification",
        "verified": "Verified: a genuine certificate that matches the ledger.",
        "pending": "The figures match the ledger; some entries are proven after the next signed checkpoint.",
        "not_verified": "Not verified", "bad_request": "This is not the address of a certificate's QR code.",
        "compare": "If the printed certificate shows other figures than these, it was altered.",
        "number": "Certificate number", "student": "Name", "school": "School", "period": "Period",
        "minutes": "Recognised time", "hours": "NEIS hours", "issuer": "Issued by", "issued": "Issued on",
        "min": "{n} min", "hours_value": "{h} h ({c} min carried)", "entries": "Ledger entries and inclusion proofs",
        "seq": "No.", "recorded": "Recorded", "amount": "min", "leaf": "Leaf hash", "proof": "Inclusion proof",
        "proof_ok": "verified", "proof_bad": "FAILED", "proof_pending": "awaiting a checkpoint",
        "checkpoint": "Signed checkpoint: size {size}, root {root}", "signature_ok": "signature verified",
        "signature_bad": "signature does NOT verify", "no_checkpoint": "No signed checkpoint yet.",
        "other": "한국어",
        "reasons": {
            "unknown_number": "No certificate was issued with this number.",
            "digest_mismatch": "The QR code's check value differs from the issued certificate's: the code was "
                               "forged or re-made.",
            "record_altered": "The stored certificate record was changed after issue.",
            "entries_missing": "The certificate's ledger entries are missing or belong to someone else.",
            "figures_do_not_match_ledger": "The ledger entries do not add up to the certificate's time.",
            "proof_failed": "An entry's inclusion proof does not lead to the signed checkpoint.",
        },
    },
}


def language(request: Request) -> str:
    asked = request.query_params.get("lang", "")
    if asked in TEXT:
        return asked
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "ko"


def _page(lang: str, body: str, status: int) -> HTMLResponse:
    t = TEXT[lang]
    html = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{t["title"]}</title>'
            f"<style>{STYLE}</style></head><body><main><h1>{t['title']}</h1>{body}</main></body></html>")
    return HTMLResponse(html, status_code=status, headers=HEADERS)


STYLE = ("body{font-family:'Noto Sans KR',sans-serif;margin:0;background:#f6f8f7;color:#1d2421}"
         "main{max-width:760px;margin:auto;padding:16px}h1{font-size:1.4em;color:#0d5a33}"
         ".ok,.bad,.pending{padding:12px 14px;border-radius:8px;font-weight:bold;font-size:1.1em}"
         ".ok{background:#dff3e4;color:#0a5a2a}.bad{background:#fbe1df;color:#8a1510}"
         ".pending{background:#fff4d6;color:#6b4a00}table{border-collapse:collapse;width:100%;margin:10px 0}"
         "td,th{border-bottom:1px solid #d6dcd9;padding:6px;text-align:left;vertical-align:top}"
         "code{font-size:.8em;word-break:break-all}.lang{float:right}")


def _bad_request(lang: str, status: int = 400) -> HTMLResponse:
    t = TEXT[lang]
    return _page(lang, f'<p class="bad">{t["not_verified"]}</p><p>{t["bad_request"]}</p>', status)


async def _limited(request: Request) -> bool:
    """Each client address may open ``ledger_proofs_per_minute`` pages a minute (each costs proofs)."""
    limit = request.app.state.settings.ledger_proofs_per_minute
    counter = AttemptCounter(request.app.state.redis, "certificate-page", limit=limit, window_seconds=60)
    address = request.client.host if request.client else "unknown"
    return await counter.hit(address) > limit


async def verify_page(request: Request) -> HTMLResponse:
    lang = language(request)
    number = request.query_params.get("n", "").strip().upper()
    digest = request.query_params.get("d", "").strip().upper()
    if not NUMBER.match(number) or not DIGEST.match(digest):
        return _bad_request(lang)
    try:
        if await _limited(request):
            return _page(lang, '<p class="bad">429</p>', 429)
    except (RedisError, OSError):
        return _page(lang, '<p class="bad">503</p>', 503)
    settings = request.app.state.settings
    result = await certificates.verify(number, digest, settings.signing_key)
    t = TEXT[lang]
    switch = urlencode({"n": number, "d": digest, "lang": "en" if lang == "ko" else "ko"})
    head = f'<p class="lang"><a href="?{escape(switch)}">{t["other"]}</a></p>'
    if result.certificate is None or result.reason == "digest_mismatch":
        status = 404 if result.certificate is None else 200
        return _page(lang, head + f'<p class="bad">{t["not_verified"]}</p><p>{t["reasons"][result.reason]}</p>'
                     f"<p>{t['number']}: {escape(number)}</p>", status)
    proofs, cp = await entry_proofs(result.entries)
    check = checkpoint_check(cp, settings) if cp is not None else None
    reason = result.reason
    if reason == "ok" and (any(p.verified is False for p in proofs) or (check and not check.signature_ok)):
        reason = "proof_failed"
    if reason != "ok":
        verdict = f'<p class="bad">{t["not_verified"]}</p><p>{t["reasons"][reason]}</p>'
    elif any(p.verified is None for p in proofs):
        verdict = f'<p class="pending">{t["pending"]}</p>'
    else:
        verdict = f'<p class="ok">{t["verified"]}</p>'
    return _page(lang, head + verdict + _figures(t, result.certificate.figures) + _entries(t, proofs, check), 200)


def last_day(period_end: str) -> str:
    """The period's last day (the figures keep the exclusive end), as the PDF prints it."""
    return (date.fromisoformat(period_end) - timedelta(days=1)).isoformat()


def _figures(t: dict, f: dict) -> str:
    rows = [(t["number"], f["number"]), (t["student"], certificates.masked(f["name"])), (t["school"], f["school"]),
            (t["period"], f"{f['periodStart']} – {last_day(f['periodEnd'])} ({f['periodLabel']})"),
            (t["minutes"], t["min"].format(n=f["minutes"])),
            (t["hours"], t["hours_value"].format(h=f["hours"], c=f["carryMinutes"])),
            (t["issuer"], f["issuer"]), (t["issued"], f["issuedOn"])]
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f"<p>{t['compare']}</p><table>{cells}</table>"


def _entries(t: dict, proofs, check) -> str:
    state = {True: t["proof_ok"], False: t["proof_bad"], None: t["proof_pending"]}
    rows = "".join(
        f"<tr><td>{p.seq}</td><td>{escape(p.recorded_at.isoformat(timespec='seconds'))}</td><td>{p.amount}</td>"
        f"<td><code>{p.leaf_hash[:16]}…</code></td><td>{state[p.verified]}</td></tr>" for p in proofs)
    table = (f"<h2>{t['entries']}</h2><table><tr><th>{t['seq']}</th><th>{t['recorded']}</th><th>{t['amount']}"
             f"</th><th>{t['leaf']}</th><th>{t['proof']}</th></tr>{rows}</table>")
    if check is None:
        return table + f"<p>{t['no_checkpoint']}</p>"
    signed = t["signature_ok"] if check.signature_ok else t["signature_bad"]
    return table + (f"<p>{t['checkpoint'].format(size=check.tree_size, root=f'<code>{check.root_hash}</code>')}"
                    f" · {signed}</p>")
