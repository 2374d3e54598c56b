"""GraphQL of volunteer certificates: issue (with the PDF) and public verification."""

from __future__ import annotations

import base64
from datetime import date

import strawberry

from backend.codes import local_today
from backend.errors import ValidationFailed as ValidationFailedError
from backend.graphql.access import public_type
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import Anyone, IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors
from backend.schools import certificates
from backend.schools.proofs import entry_proofs
from backend.schools.periods import PeriodKind, period_of
from backend.schools.score_types import PeriodRange, ScorePeriod
from backend.schools.scoreboard import period_day


@public_type
@strawberry.type(description="An issued certificate: its figures, the QR payload and the PDF (base64).")
class VolunteerCertificate:
    number: str
    digest: str
    minutes: int
    hours: int = strawberry.field(description="Whole hours for NEIS")
    carry_minutes: int
    period_label: str = strawberry.field(description="As printed on the certificate; apps format `period`")
    period: PeriodRange
    qr_payload: str
    pdf_base64: str


@public_type
@strawberry.type(description="A ledger entry of a certificate with its RFC 9162 inclusion proof (null until a "
                             "checkpoint covers it).")
class CertificateEntry:
    seq: int
    amount: int
    leaf_hash: str
    proof_tree_size: int | None
    proof_root_hash: str | None
    proof_path: list[str] | None


@public_type
@strawberry.type(description="What a scan of a certificate's QR code shows, recomputed from the ledger.")
class CertificateVerification:
    valid: bool
    reason: str = strawberry.field(description="ok, unknown_number, digest_mismatch, record_altered, "
                                               "entries_missing or figures_do_not_match_ledger")
    number: str
    student: str | None = strawberry.field(description="The student's name, masked")
    school: str | None
    period_start: date | None
    period_end: date | None
    minutes: int | None
    hours: int | None
    carry_minutes: int | None
    issuer: str | None
    issued_on: date | None
    entries: list[CertificateEntry]


CertificateResult = result_union("CertificateResult", VolunteerCertificate, NotAllowed, ValidationFailed)
VerificationResult = result_union("VerificationResult", CertificateVerification, ValidationFailed)


async def _entries(rows) -> list[CertificateEntry]:
    proofs, _ = await entry_proofs(rows)
    return [CertificateEntry(seq=p.seq, amount=p.amount, leaf_hash=p.leaf_hash, proof_tree_size=p.tree_size,
                             proof_root_hash=p.root_hash, proof_path=p.path) for p in proofs]


@strawberry.type
class CertificateQueries:
    @strawberry.field(permission_classes=[Anyone],
                      description="Public: verify a certificate by its number and digest (or the scanned QR text).")
    @returns_errors
    async def verify_certificate(self, info: Info, number: str | None = None, digest: str | None = None,
                                 qr_payload: str | None = None) -> VerificationResult:
        if qr_payload is not None:
            number, digest = certificates.parse_qr(qr_payload[:500])
        if not number or not digest:
            raise ValidationFailedError("number", "Give the number and digest, or the scanned QR text.")
        result = await certificates.verify(number[:40], digest[:64], info.context.settings.signing_key)
        f = result.certificate.figures if result.certificate else {}
        show = result.certificate is not None and result.reason != "digest_mismatch"
        return CertificateVerification(
            valid=result.valid, reason=result.reason, number=number[:40],
            student=certificates.masked(f["name"]) if show else None, school=f.get("school") if show else None,
            period_start=date.fromisoformat(f["periodStart"]) if show else None,
            period_end=date.fromisoformat(f["periodEnd"]) if show else None,
            minutes=f.get("minutes") if show else None, hours=f.get("hours") if show else None,
            carry_minutes=f.get("carryMinutes") if show else None, issuer=f.get("issuer") if show else None,
            issued_on=date.fromisoformat(f["issuedOn"]) if show else None,
            entries=await _entries(result.entries) if show else [])


@strawberry.type
class CertificateMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated],
                         description="Issue a volunteer certificate of a student for a period (their school's "
                                     "staff, the student, a guardian, operators).")
    @returns_errors
    async def issue_volunteer_certificate(self, info: Info, student_id: strawberry.ID,
                                          period: ScorePeriod = ScorePeriod.SCHOOL_YEAR,
                                          on: date | None = None) -> CertificateResult:
        settings = info.context.settings
        day = period_day(on, local_today(settings.display_timezone))
        chosen = period_of(PeriodKind(period.value), day)
        cert = await certificates.issue(require_principal(info), parse_id(student_id, "studentId"), chosen,
                                        settings.signing_key, settings.display_timezone)
        from backend.schools.certificate_pdf import render  # fpdf loads on first use, not at API start

        payload = certificates.qr_payload(settings.public_base_url, cert.number, cert.digest)
        f = cert.figures
        return VolunteerCertificate(number=cert.number, digest=cert.digest, minutes=f["minutes"], hours=f["hours"],
                                    carry_minutes=f["carryMinutes"], period_label=f["periodLabel"],
                                    period=PeriodRange.of(chosen),
                                    qr_payload=payload, pdf_base64=base64.b64encode(render(f, payload)).decode())



