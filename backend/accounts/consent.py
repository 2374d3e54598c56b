"""Guardian consent for students under 14 (PIPA §22-2)."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from backend.accounts.models import ConsentAction, ConsentRecord, GuardianLink, User
from backend.accounts.principal import Principal
from backend.accounts.service import needs_guardian_consent, revoke_all_sessions
from backend.errors import NotAllowed
from backend.settings import Settings

#: Version of the consent notice the guardian was shown; bump when its text changes.
CONSENT_NOTICE_VERSION = "2026-11"


async def _link_for(principal: Principal, student_id: int) -> GuardianLink:
    link = await GuardianLink.get_or_none(guardian_id=principal.user_id, student_id=student_id)
    if link is None:
        raise NotAllowed("Only a linked guardian can give or withdraw consent for this student.")
    return link


async def give_consent(principal: Principal, student_id: int) -> GuardianLink:
    link = await _link_for(principal, student_id)
    if link.consent_given_at is None:
        async with in_transaction():
            claimed = await GuardianLink.filter(id=link.id, consent_given_at__isnull=True).update(
                consent_given_at=datetime.now(UTC)
            )
            if claimed:
                await ConsentRecord.create(
                    link_id=link.id, action=ConsentAction.GIVEN, notice_version=CONSENT_NOTICE_VERSION
                )
        await link.refresh_from_db()
    return link


async def withdraw_consent(settings: Settings, principal: Principal, student_id: int) -> GuardianLink:
    """Withdraw consent; a student left without any consent is signed out everywhere."""
    link = await _link_for(principal, student_id)
    if link.consent_given_at is not None:
        async with in_transaction():
            claimed = await GuardianLink.filter(id=link.id, consent_given_at__isnull=False).update(
                consent_given_at=None
            )
            if claimed:
                await ConsentRecord.create(
                    link_id=link.id, action=ConsentAction.WITHDRAWN, notice_version=CONSENT_NOTICE_VERSION
                )
        await link.refresh_from_db()
    student = await User.get(id=student_id)
    if await needs_guardian_consent(settings, student):
        await revoke_all_sessions(student_id, "consent-withdrawn")
    return link
