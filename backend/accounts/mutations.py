"""Mutations of the accounts domain: sign-up/in/out, refresh, consent, deletion, staff accounts."""

from __future__ import annotations

from datetime import date

import strawberry

from backend.accounts import consent, privacy, service, staff
from backend.accounts.models import Role as RoleModel
from backend.accounts.types import AccountDeleted, AuthPayload, GuardianLink, Role, SignedOut, User
from backend.graphql.access import public_type
from backend.graphql.context import Info
from backend.graphql.errors import (
    result_union,
    AlreadyExists,
    ConsentRequired,
    InvalidCredentials,
    InvalidToken,
    NotAllowed,
    RateLimited,
    ValidationFailed,
)
from backend.graphql.permissions import Anyone, IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors


@public_type
@strawberry.type
class SignUpSuccess:
    user: User
    guardian_consent_required: bool = strawberry.field(
        description="True for a student under 14: a linked guardian must consent before sign-in works."
    )


@public_type
@strawberry.type
class StaffAccountCreated:
    user: User


@strawberry.input
class SignUpInput:
    email: str
    password: str
    display_name: str
    role: Role = strawberry.field(description="STUDENT or PARENT; staff accounts are created for them.")
    birth_date: date | None = strawberry.field(default=None, description="Required for students.")
    invite_code: str | None = strawberry.field(default=None, description="A household's invite code; required for students.")
    household_name: str | None = strawberry.field(default=None, description="Name of the new household (parents without an invite code).")
    municipality_id: strawberry.ID | None = None
    class_code: str | None = strawberry.field(default=None, description="A class join code (students).")


@strawberry.input
class StaffAccountInput:
    email: str
    password: str
    display_name: str
    role: Role
    school_id: strawberry.ID | None = None
    municipality_id: strawberry.ID | None = None


SignUpResult = result_union("SignUpResult", SignUpSuccess, ValidationFailed, AlreadyExists, RateLimited)
SignInResult = result_union("SignInResult", AuthPayload, InvalidCredentials, RateLimited, ConsentRequired)
RefreshResult = result_union("RefreshResult", AuthPayload, InvalidToken, ConsentRequired)
ConsentResult = result_union("ConsentResult", GuardianLink, NotAllowed, ValidationFailed)
DeleteAccountResult = result_union("DeleteAccountResult", AccountDeleted, InvalidCredentials, NotAllowed,
                                   ValidationFailed)
StaffAccountResult = result_union("StaffAccountResult", StaffAccountCreated, ValidationFailed, AlreadyExists,
                                  NotAllowed)


def _optional_id(value: strawberry.ID | None, field: str) -> int | None:
    return None if value is None else parse_id(value, field)


async def _auth_payload(info: Info, tokens: service.Tokens) -> AuthPayload:
    """The payload; the rest of this request sees the user as signed in (e.g. ``user.email``)."""
    info.context.principal = await service.principal_for(tokens.user, tokens.session_id)
    return AuthPayload(
        access_token=tokens.access_token, refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in, user=User.from_model(tokens.user),
    )


@strawberry.type
class AccountMutations:
    @strawberry.mutation(permission_classes=[Anyone])
    @returns_errors
    async def sign_up(self, info: Info, input: SignUpInput) -> SignUpResult:
        settings = info.context.settings
        await service.count_sign_up(settings, info.context.redis, info.context.client_address)
        user = await service.sign_up(
            settings, email=input.email, password=input.password, display_name=input.display_name,
            role=RoleModel(input.role.value), birth_date=input.birth_date, invite_code=input.invite_code,
            household_name=input.household_name,
            municipality_id=_optional_id(input.municipality_id, "municipalityId"),
            class_code=input.class_code,
        )
        return SignUpSuccess(
            user=User.from_model(user),
            guardian_consent_required=await service.needs_guardian_consent(settings, user),
        )

    @strawberry.mutation(permission_classes=[Anyone])
    @returns_errors
    async def sign_in(self, info: Info, email: str, password: str) -> SignInResult:
        tokens = await service.sign_in(
            info.context.settings, info.context.redis, email=email, password=password,
            address=info.context.client_address,
        )
        return await _auth_payload(info, tokens)

    @strawberry.mutation(permission_classes=[Anyone])
    @returns_errors
    async def refresh_session(self, info: Info, refresh_token: str) -> RefreshResult:
        return await _auth_payload(info, await service.refresh(info.context.settings, refresh_token))

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="End this device's session.")
    async def sign_out(self, info: Info) -> SignedOut:
        await service.revoke_session(require_principal(info).session_id, "signed-out")
        return SignedOut(ok=True)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    @returns_errors
    async def give_guardian_consent(self, info: Info, student_id: strawberry.ID) -> ConsentResult:
        link = await consent.give_consent(require_principal(info), parse_id(student_id, "studentId"))
        return GuardianLink.from_model(link)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    @returns_errors
    async def withdraw_guardian_consent(self, info: Info, student_id: strawberry.ID) -> ConsentResult:
        link = await consent.withdraw_consent(
            info.context.settings, require_principal(info), parse_id(student_id, "studentId")
        )
        return GuardianLink.from_model(link)

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Delete your account; needs your password.")
    @returns_errors
    async def delete_my_account(self, info: Info, password: str) -> DeleteAccountResult:
        principal = require_principal(info)
        pseudonym = await privacy.delete_account(principal, principal.user_id, password)
        return AccountDeleted(pseudonym=str(pseudonym))

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="A guardian deletes their child's account.")
    @returns_errors
    async def delete_child_account(self, info: Info, student_id: strawberry.ID) -> DeleteAccountResult:
        principal = require_principal(info)
        student = parse_id(student_id, "studentId")
        if not principal.is_guardian_of(student):
            return NotAllowed(message="Only a guardian can delete a child's account.")
        pseudonym = await privacy.delete_account(principal, student, None)
        return AccountDeleted(pseudonym=str(pseudonym))

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    @returns_errors
    async def create_staff_account(self, info: Info, input: StaffAccountInput) -> StaffAccountResult:
        user = await staff.create_staff_account(
            info.context.settings, require_principal(info), email=input.email, password=input.password,
            display_name=input.display_name, role=RoleModel(input.role.value),
            school_id=_optional_id(input.school_id, "schoolId"),
            municipality_id=_optional_id(input.municipality_id, "municipalityId"),
        )
        return StaffAccountCreated(user=User.from_model(user))
