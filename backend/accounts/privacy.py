"""The data subject's rights: export everything held about a person, and delete the account.

A guardian can do both for their child. Ledger entries (a later domain) are keyed by the
user's pseudonym only, so they survive deletion without pointing back at a person.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from backend.accounts.models import ConsentRecord, GuardianLink, Role, Session, User
from backend.accounts.passwords import verify_password
from backend.accounts.principal import Principal
from backend.codes import age_on, local_today
from backend.errors import InvalidCredentials, NotAllowed
from backend.settings import Settings

EXPORT_FORMAT_VERSION = 1


def _check_subject(principal: Principal, user_id: int) -> None:
    if user_id != principal.user_id and not principal.is_guardian_of(user_id):
        raise NotAllowed("You can only do this for yourself or for a child you are the guardian of.")


def _iso(dt: datetime | None, tz: ZoneInfo) -> str | None:
    return dt.astimezone(tz).isoformat() if dt else None


async def export_user_data(principal: Principal, user_id: int, tz_name: str) -> dict[str, Any]:
    """Everything the platform holds about one person, as JSON-ready data."""
    _check_subject(principal, user_id)
    tz = ZoneInfo(tz_name)
    user = await User.get(id=user_id).select_related("household", "school", "school_class", "municipality")
    links = await GuardianLink.filter(student_id=user_id).select_related("guardian") if user.role is Role.STUDENT \
        else await GuardianLink.filter(guardian_id=user_id).select_related("student")
    records = await ConsentRecord.filter(link_id__in=[link.id for link in links]).order_by("recorded_at")
    sessions = await Session.filter(user_id=user_id).order_by("created_at")
    return {
        "format": EXPORT_FORMAT_VERSION,
        "exportedFor": str(user.pseudonym),
        "profile": {
            "id": user.id,
            "pseudonym": str(user.pseudonym),
            "email": user.email,
            "displayName": user.display_name,
            "role": user.role.value,
            "birthDate": user.birth_date.isoformat() if user.birth_date else None,
            "createdAt": _iso(user.created_at, tz),
        },
        "household": {"id": user.household.id, "name": user.household.name} if user.household else None,
        "school": {"id": user.school.id, "name": user.school.name} if user.school else None,
        "schoolClass": {"id": user.school_class.id, "name": user.school_class.name} if user.school_class else None,
        "municipality": {"id": user.municipality.id, "name": user.municipality.name} if user.municipality else None,
        "guardianLinks": [
            {
                "id": link.id,
                "guardian" if user.role is Role.STUDENT else "student": (
                    link.guardian.display_name if user.role is Role.STUDENT else link.student.display_name
                ),
                "consentGivenAt": _iso(link.consent_given_at, tz),
                "consentHistory": [
                    {"action": r.action.value, "noticeVersion": r.notice_version, "at": _iso(r.recorded_at, tz)}
                    for r in records
                    if r.link_id == link.id
                ],
            }
            for link in links
        ],
        "sessions": [
            {
                "createdAt": _iso(s.created_at, tz),
                "expiresAt": _iso(s.expires_at, tz),
                "revokedAt": _iso(s.revoked_at, tz),
                "revokedReason": s.revoked_reason,
            }
            for s in sessions
        ],
    }


async def delete_account(principal: Principal, user_id: int, password: str | None) -> UUID:
    """Delete a person's account and personal data; returns the pseudonym that remains.

    Deleting one's own account needs the password again; a guardian deletes a child's.
    """
    _check_subject(principal, user_id)
    user = await User.get(id=user_id)
    if user_id == principal.user_id and not await verify_password(user.password_hash, password or ""):
        raise InvalidCredentials("The password is incorrect.")
    async with in_transaction():
        await Session.filter(user_id=user_id).delete()
        await GuardianLink.filter(student_id=user_id).delete()
        await GuardianLink.filter(guardian_id=user_id).delete()
        await User.filter(id=user_id).delete()
    return user.pseudonym


async def purge_unconsented_children(settings: Settings) -> int:
    """Delete under-age students whose guardian never consented within the grace period.

    Such an account was created only to ask for consent; keeping a child's data without it
    is not allowed (PIPA §22-2). Accounts that once had consent are left alone.
    """
    cutoff = datetime.now(UTC) - timedelta(days=settings.unconsented_account_days)
    today = local_today(settings.display_timezone)
    consented = set(await ConsentRecord.all().values_list("link__student_id", flat=True))
    candidates = await User.filter(role=Role.STUDENT, created_at__lt=cutoff, birth_date__isnull=False)
    doomed = [
        u.id for u in candidates
        if u.id not in consented and age_on(u.birth_date, today) < settings.guardian_consent_age
    ]
    if doomed:
        async with in_transaction():
            await Session.filter(user_id__in=doomed).delete()
            await GuardianLink.filter(student_id__in=doomed).delete()
            await User.filter(id__in=doomed).delete()
    return len(doomed)
