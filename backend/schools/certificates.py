"""Volunteer-hour certificates: figures from the ledger, a keyed digest, and public verification.

A certificate sums the student's volunteer-minute ledger entries of a period. Its figures
(name, school, class, period, minutes, NEIS whole hours and carried minutes, the entries'
sequence numbers, issuer, issue date) are fixed at issue and sealed with an HMAC; the QR code
carries the certificate number and that digest. Verification recomputes the figures from the
ledger entries as they are now and the digest of what was issued: an edited PDF, a forged QR
or a changed ledger entry each shows up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from backend.accounts.models import Role, User
from backend.accounts.principal import Principal
from backend.activities.models import Activity
from backend.errors import NotAllowed, ValidationFailed
from backend.ledger.entries import Asset
from backend.ledger.models import LedgerEntry
from backend.municipalities.models import Municipality
from backend.rewards.programmes import local_date, local_day_bounds
from backend.schools.models import School, SchoolClass, VolunteerCertificate
from backend.schools.periods import Period

NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def neis_hours(minutes: int) -> tuple[int, int]:
    """NEIS records whole hours; the rest is carried (1365 keeps minutes)."""
    minutes = max(minutes, 0)
    return minutes // 60, minutes % 60


def digest_of(figures: dict, secret: str) -> str:
    """HMAC-SHA256 of the canonical figures, 20 bytes in base32 (32 characters)."""
    body = json.dumps(figures, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    tag = hmac.new(secret.encode(), b"pvpp-certificate:" + body, hashlib.sha256).digest()[:20]
    return base64.b32encode(tag).decode()


def qr_payload(base_url: str, number: str, digest: str) -> str:
    return f"{base_url.rstrip('/')}/certificates/verify?n={number}&d={digest}"


def parse_qr(payload: str) -> tuple[str, str]:
    """Number and digest from a scanned payload (the URL above)."""
    from urllib.parse import parse_qs, urlparse

    query = parse_qs(urlparse(payload.strip()).query)
    try:
        return query["n"][0], query["d"][0]
    except (KeyError, IndexError):
        raise ValidationFailed("payload", "This QR code is not a People's VPP certificate.") from None


async def _minute_entries(student: User, period: Period, tz: str) -> list[LedgerEntry]:
    since, until = local_day_bounds(period.start, tz)[0], local_day_bounds(period.end, tz)[0]
    return list(await LedgerEntry.filter(account=student.pseudonym, asset=Asset.VOLUNTEER_MINUTES,
                                         recorded_at__gte=since, recorded_at__lt=until).order_by("seq"))


async def _activity_summary(student: User, period: Period) -> list[list]:
    types = await Activity.filter(user_id=student.id, status="accepted", occurred_on__gte=period.start,
                                  occurred_on__lt=period.end).values_list("activity_type", flat=True)
    return [[name, count] for name, count in sorted(Counter(types).items())]


def _number() -> str:
    return "VPP-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(12))


async def issue(principal: Principal, student_id: int, period: Period, secret: str, tz: str,
                now: datetime | None = None) -> VolunteerCertificate:
    """Issue a certificate: the student's school staff (or the student, a guardian, an operator)."""
    student = await User.get_or_none(id=student_id)
    allowed = student is not None and student.role is Role.STUDENT and (
        principal.user_id == student.id or principal.is_guardian_of(student.id)
        or principal.keeps_school_record_of(student.school_id, student.school_class_id))
    if not allowed:
        raise NotAllowed("Only the student, a guardian, their school's staff or an operator issue this.")
    if student.school_id is None:
        raise ValidationFailed("studentId", "Volunteer hours are certified through the student's school.")
    now = now or datetime.now(UTC)
    entries = await _minute_entries(student, period, tz)
    minutes = sum(e.amount for e in entries)
    if minutes <= 0:
        raise ValidationFailed("period", "No volunteer time was recorded in this period.")
    school = await School.get(id=student.school_id)
    municipality = await Municipality.get(id=school.municipality_id)
    school_class = await SchoolClass.get_or_none(id=student.school_class_id) if student.school_class_id else None
    hours, carry = neis_hours(minutes)
    number = _number()
    figures = {
        "v": 1, "number": number, "name": student.display_name, "pseudonym": str(student.pseudonym),
        "school": school.name, "class": school_class.name if school_class else "",
        "periodStart": period.start.isoformat(), "periodEnd": period.end.isoformat(), "periodLabel": period.label,
        "minutes": minutes, "hours": hours, "carryMinutes": carry, "seqs": [e.seq for e in entries],
        "activities": await _activity_summary(student, period),
        "issuer": f"{school.name} · {municipality.name} People's VPP",
        "issuedOn": local_date(now, tz).isoformat(),
    }
    return await VolunteerCertificate.create(number=number, student=student, figures=figures,
                                             digest=digest_of(figures, secret), issued_by_id=principal.user_id,
                                             issued_at=now)


@dataclass(frozen=True)
class Verification:
    valid: bool
    reason: str
    certificate: VolunteerCertificate | None
    entries: list[LedgerEntry]


async def verify(number: str, digest: str, secret: str) -> Verification:
    """Recompute a certificate's digest and its minutes from the ledger entries it lists."""
    cert = await VolunteerCertificate.get_or_none(number=str(number).strip()[:32])
    if cert is None:
        return Verification(False, "unknown_number", None, [])
    figures = cert.figures
    entries = list(await LedgerEntry.filter(seq__in=figures["seqs"]).order_by("seq"))
    if not hmac.compare_digest(digest_of(figures, secret), cert.digest):
        return Verification(False, "record_altered", cert, entries)
    if not hmac.compare_digest(str(digest).strip().upper(), cert.digest):
        return Verification(False, "digest_mismatch", cert, entries)
    pseudonym = figures["pseudonym"]
    if len(entries) != len(figures["seqs"]) or any(str(e.account) != pseudonym or e.asset != Asset.VOLUNTEER_MINUTES
                                                   for e in entries):
        return Verification(False, "entries_missing", cert, entries)
    if sum(e.amount for e in entries) != figures["minutes"] or neis_hours(figures["minutes"]) != (
            figures["hours"], figures["carryMinutes"]):
        return Verification(False, "figures_do_not_match_ledger", cert, entries)
    return Verification(True, "ok", cert, entries)


def masked(name: str) -> str:
    """A name as the public page shows it: first and last character, the rest hidden."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
