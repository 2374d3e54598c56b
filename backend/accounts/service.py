"""Sign-up, sign-in, refresh, sign-out and request authentication."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from redis.asyncio import Redis
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend.accounts.models import GuardianLink, RefreshToken, Role, Session, User
from backend.accounts.passwords import check_password_strength, hash_password, verify_password
from backend.accounts.principal import Principal
from backend.accounts.ratelimit import AttemptCounter
from backend.accounts.tokens import (
    decode_access_token,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
)
from backend.accounts.validation import check_student_birth_date, clean_email, clean_name
from backend.codes import age_on, local_today
from backend.errors import (
    AlreadyExists,
    ConsentRequired,
    InvalidCredentials,
    InvalidToken,
    RateLimited,
    ValidationFailed,
)
from backend.households import service as households
from backend.schools.service import class_by_join_code
from backend.settings import Settings

SELF_SIGN_UP_ROLES = (Role.STUDENT, Role.PARENT)


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    session_id: uuid.UUID


async def count_sign_up(settings: Settings, redis: Redis, address: str) -> None:
    """Refuse sign-ups beyond ``signup_max_per_address`` per window from one client address."""
    await AttemptCounter(redis, "signup-address", limit=settings.signup_max_per_address,
                         window_seconds=settings.signup_window_seconds).take(address)


async def sign_up(
    settings: Settings,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role,
    birth_date: date | None = None,
    invite_code: str | None = None,
    household_name: str | None = None,
    municipality_id: int | None = None,
    class_code: str | None = None,
) -> User:
    """Create a student or parent account, joining or creating a household.

    A parent without an invite code creates a household; a student must join one with a
    parent's invite code so that a guardian can be linked (and consent, if under 14).
    """
    if role not in SELF_SIGN_UP_ROLES:
        raise ValidationFailed("role", "Only students and parents can sign up themselves.")
    email = clean_email(email)
    display_name = clean_name(display_name)
    today = local_today(settings.display_timezone)
    if role is Role.STUDENT:
        birth_date = check_student_birth_date(birth_date, today)
        if not invite_code:
            raise ValidationFailed("inviteCode", "Students join their family's household with a parent's invite code.")
    else:
        birth_date = None
    check_password_strength(
        password,
        min_length=settings.password_min_length,
        min_score=settings.password_min_strength,
        user_inputs=[email, email.split("@")[0], display_name],
    )
    household = await households.household_by_invite_code(invite_code) if invite_code else None
    school_class = await class_by_join_code(class_code) if class_code and role is Role.STUDENT else None
    if await User.exists(email=email):
        raise AlreadyExists("email", "An account with this email already exists.")
    password_hash = await hash_password(password, memory_kib=settings.password_hash_memory_kib, time_cost=settings.password_hash_time_cost)
    try:
        async with in_transaction():
            if household is None:
                household = await households.create_household(
                    clean_name(household_name or f"{display_name}'s home", "householdName", 120),
                    municipality_id,
                )
            user = await User.create(
                pseudonym=uuid.uuid4(),
                email=email,
                password_hash=password_hash,
                display_name=display_name,
                role=role,
                birth_date=birth_date,
                household_id=household.id,
                school_id=school_class.school_id if school_class else None,
                school_class_id=school_class.id if school_class else None,
            )
            await households.link_guardians(user)
    except IntegrityError:
        raise AlreadyExists("email", "An account with this email already exists.") from None
    return user


async def needs_guardian_consent(settings: Settings, user: User) -> bool:
    """True for an under-age student without any guardian's consent in force."""
    if user.role is not Role.STUDENT or user.birth_date is None:
        return False
    if age_on(user.birth_date, local_today(settings.display_timezone)) >= settings.guardian_consent_age:
        return False
    return not await GuardianLink.exists(student_id=user.id, consent_given_at__isnull=False)


async def sign_in(
    settings: Settings, redis: Redis, *, email: str, password: str, address: str
) -> Tokens:
    """Check credentials under per-account and per-address limits; open a session.

    Only failures count, so a whole class signing in from one school network is not
    locked out, while guessing passwords from one address or against one account is.
    """
    account_key = email.strip().lower()
    per_account = AttemptCounter(
        redis, "signin-account",
        limit=settings.signin_max_failures_per_account, window_seconds=settings.signin_window_seconds,
    )
    per_address = AttemptCounter(
        redis, "signin-address",
        limit=settings.signin_max_failures_per_address, window_seconds=settings.signin_window_seconds,
    )
    await per_address.take(address)  # counted before the (slow) hash check, given back on success
    try:
        await per_account.take(account_key)
    except RateLimited:
        await per_address.release(address)
        raise
    user = await User.get_or_none(email=account_key)
    if not await verify_password(user.password_hash if user else None, password) or user is None:
        raise InvalidCredentials()
    await per_account.reset(account_key)
    await per_address.release(address)
    if await needs_guardian_consent(settings, user):
        raise ConsentRequired()
    return await _open_session(settings, user)


async def _open_session(settings: Settings, user: User) -> Tokens:
    expires_at = datetime.now(UTC) + timedelta(days=settings.refresh_token_ttl_days)
    refresh_token, token_hash = new_refresh_token()
    async with in_transaction():
        session = await Session.create(id=uuid.uuid4(), user=user, expires_at=expires_at)
        await RefreshToken.create(session=session, token_hash=token_hash)
    return Tokens(
        access_token=issue_access_token(
            user.id, session.id, key=settings.signing_key, ttl_seconds=settings.access_token_ttl_seconds
        ),
        refresh_token=refresh_token,
        expires_in=settings.access_token_ttl_seconds,
        user=user,
        session_id=session.id,
    )


async def refresh(settings: Settings, refresh_token: str) -> Tokens:
    """Rotate a refresh token. Reusing a spent token revokes its whole session."""
    now = datetime.now(UTC)
    record = await RefreshToken.get_or_none(
        token_hash=hash_refresh_token(refresh_token)
    ).select_related("session__user")
    if record is None:
        raise InvalidToken()
    session = record.session
    if session.revoked_at is not None or session.expires_at <= now:
        raise InvalidToken("This session has ended; sign in again.")
    claimed = await RefreshToken.filter(id=record.id, used_at__isnull=True).update(used_at=now)
    if not claimed:
        await revoke_session(session.id, "refresh-token-reuse")
        raise InvalidToken("This refresh token was already used; the session has been ended.")
    if await needs_guardian_consent(settings, session.user):
        await revoke_session(session.id, "consent-missing")
        raise ConsentRequired()
    new_token, token_hash = new_refresh_token()
    async with in_transaction():
        await RefreshToken.create(session_id=session.id, token_hash=token_hash)
        await Session.filter(id=session.id).update(
            expires_at=now + timedelta(days=settings.refresh_token_ttl_days)
        )
    return Tokens(
        access_token=issue_access_token(
            session.user.id, session.id, key=settings.signing_key,
            ttl_seconds=settings.access_token_ttl_seconds,
        ),
        refresh_token=new_token,
        expires_in=settings.access_token_ttl_seconds,
        user=session.user,
        session_id=session.id,
    )


async def revoke_session(session_id: uuid.UUID, reason: str) -> None:
    await Session.filter(id=session_id, revoked_at__isnull=True).update(
        revoked_at=datetime.now(UTC), revoked_reason=reason
    )


async def revoke_all_sessions(user_id: int, reason: str) -> None:
    await Session.filter(user_id=user_id, revoked_at__isnull=True).update(
        revoked_at=datetime.now(UTC), revoked_reason=reason
    )


async def authenticate(settings: Settings, access_token: str) -> Principal:
    """Turn a bearer token into a principal; one query (two for parents)."""
    claims = decode_access_token(access_token, key=settings.signing_key)
    session = await Session.get_or_none(
        id=claims.session_id, revoked_at__isnull=True, expires_at__gt=datetime.now(UTC)
    ).select_related("user")
    if session is None or session.user_id != claims.user_id:
        raise InvalidToken("This session has ended; sign in again.")
    return await principal_for(session.user, session.id)


async def session_end_reason(settings: Settings, principal: Principal) -> str | None:
    """Why ``principal`` may no longer act (its session was revoked or expired, the account
    was deleted, its role or scope changed, a child lost guardian consent), or None.

    Long-lived connections (WebSocket subscriptions) ask this every few seconds, so what
    ends an HTTP session at once also ends them."""
    session = await Session.get_or_none(
        id=principal.session_id, revoked_at__isnull=True, expires_at__gt=datetime.now(UTC)
    ).select_related("user")
    if session is None or session.user_id != principal.user_id:
        return "The session has ended; sign in again."
    user = session.user
    now = (user.role, user.household_id, user.school_id, user.school_class_id, user.municipality_id)
    then = (principal.role, principal.household_id, principal.school_id, principal.school_class_id,
            principal.municipality_id)
    if now != then:
        return "Your role or membership changed; sign in again."
    if await needs_guardian_consent(settings, user):
        return "A guardian's consent is needed."
    return None


async def principal_for(user: User, session_id: uuid.UUID) -> Principal:
    """The principal of a user in a session; parents also get their children's ids."""
    children: frozenset[int] = frozenset()
    if user.role is Role.PARENT:
        children = frozenset(
            await GuardianLink.filter(guardian_id=user.id).values_list("student_id", flat=True)
        )
    return Principal(
        user_id=user.id,
        pseudonym=user.pseudonym,
        role=user.role,
        session_id=session_id,
        household_id=user.household_id,
        school_id=user.school_id,
        school_class_id=user.school_class_id,
        municipality_id=user.municipality_id,
        children_ids=children,
        user=user,
    )
