"""GraphQL types of the accounts domain."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from backend.accounts.models import GuardianLink as GuardianLinkModel
from backend.accounts.models import Role as RoleModel
from backend.accounts.models import User as UserModel
from backend.codes import age_on, local_today
from backend.graphql.access import public_type, visible
from backend.graphql.context import Info
from backend.graphql.permissions import CanViewFamily, CanViewPrivate, CanViewSchoolMembership
from backend.graphql.scalars import to_display

if TYPE_CHECKING:
    from backend.households.types import Household
    from backend.municipalities.types import Municipality
    from backend.schools.types import School, SchoolClass

Role = strawberry.enum(RoleModel, name="Role")


@strawberry.enum
class GuardianConsent(Enum):
    NOT_REQUIRED = "not_required"
    GIVEN = "given"
    MISSING = "missing"


@strawberry.type
class User:
    id: strawberry.ID = visible()
    display_name: str = visible()
    role: Role = visible()
    user_id: strawberry.Private[int]
    household_id: strawberry.Private[int | None]
    school_id: strawberry.Private[int | None]
    school_class_id: strawberry.Private[int | None]
    model: strawberry.Private[UserModel]

    @classmethod
    def from_model(cls, user: UserModel) -> User:
        return cls(
            id=strawberry.ID(str(user.id)), display_name=user.display_name, role=user.role,
            user_id=user.id, household_id=user.household_id, school_id=user.school_id,
            school_class_id=user.school_class_id, model=user,
        )

    @strawberry.field(permission_classes=[CanViewPrivate])
    def email(self) -> str | None:
        return self.model.email

    @strawberry.field(permission_classes=[CanViewPrivate])
    def birth_date(self) -> date | None:
        return self.model.birth_date

    @strawberry.field(permission_classes=[CanViewPrivate])
    def created_at(self, info: Info) -> datetime | None:
        return to_display(self.model.created_at, info.context.settings.display_timezone)

    @strawberry.field(permission_classes=[CanViewPrivate])
    async def guardian_consent(self, info: Info) -> GuardianConsent | None:
        """Whether this student may use the platform (guardian consent under 14)."""
        user = self.model
        settings = info.context.settings
        if user.role is not RoleModel.STUDENT or user.birth_date is None or age_on(
            user.birth_date, local_today(settings.display_timezone)
        ) >= settings.guardian_consent_age:
            return GuardianConsent.NOT_REQUIRED
        links = await info.context.loaders.links_by_student.load(user.id)
        return GuardianConsent.GIVEN if any(l.consent_given_at for l in links) else GuardianConsent.MISSING

    @strawberry.field(permission_classes=[CanViewFamily])
    async def household(
        self, info: Info
    ) -> Annotated[Household, strawberry.lazy("backend.households.types")] | None:
        from backend.households.types import Household

        if self.household_id is None:
            return None
        row = await info.context.loaders.household.load(self.household_id)
        return Household.from_model(row) if row else None

    @strawberry.field(permission_classes=[CanViewSchoolMembership])
    async def school(self, info: Info) -> Annotated[School, strawberry.lazy("backend.schools.types")] | None:
        from backend.schools.types import School

        if self.school_id is None:
            return None
        row = await info.context.loaders.school.load(self.school_id)
        return School.from_model(row) if row else None

    @strawberry.field(permission_classes=[CanViewSchoolMembership])
    async def school_class(
        self, info: Info
    ) -> Annotated[SchoolClass, strawberry.lazy("backend.schools.types")] | None:
        from backend.schools.types import SchoolClass

        if self.school_class_id is None:
            return None
        row = await info.context.loaders.school_class.load(self.school_class_id)
        return SchoolClass.from_model(row) if row else None

    @strawberry.field(permission_classes=[CanViewPrivate],
                      description="The municipality an officer serves (null for other roles).")
    async def municipality(
        self, info: Info
    ) -> Annotated[Municipality, strawberry.lazy("backend.municipalities.types")] | None:
        from backend.municipalities.types import Municipality

        if self.model.municipality_id is None:
            return None
        row = await info.context.loaders.municipality.load(self.model.municipality_id)
        return Municipality.from_model(row) if row else None

    @strawberry.field(permission_classes=[CanViewFamily], description="Links to this student's guardians.")
    async def guardians(self, info: Info) -> list[GuardianLink] | None:
        links = await info.context.loaders.links_by_student.load(self.user_id)
        return [GuardianLink.from_model(link) for link in links]

    @strawberry.field(permission_classes=[CanViewFamily], description="Links to the children this user is guardian of.")
    async def children(self, info: Info) -> list[GuardianLink] | None:
        links = await info.context.loaders.links_by_guardian.load(self.user_id)
        return [GuardianLink.from_model(link) for link in links]


@strawberry.type
class GuardianLink:
    """A guardian and a student; visible where the student's family is visible."""

    id: strawberry.ID = visible()
    consent_given: bool = visible()
    guardian_id: strawberry.Private[int]
    student_id: strawberry.Private[int]
    consent_given_at_utc: strawberry.Private[datetime | None]

    @classmethod
    def from_model(cls, link: GuardianLinkModel) -> GuardianLink:
        return cls(
            id=strawberry.ID(str(link.id)), consent_given=link.consent_given_at is not None,
            guardian_id=link.guardian_id, student_id=link.student_id,
            consent_given_at_utc=link.consent_given_at,
        )

    @visible()
    def consent_given_at(self, info: Info) -> datetime | None:
        return to_display(self.consent_given_at_utc, info.context.settings.display_timezone)

    @visible()
    async def guardian(self, info: Info) -> User | None:
        row = await info.context.loaders.user.load(self.guardian_id)
        return User.from_model(row) if row else None

    @visible()
    async def student(self, info: Info) -> User | None:
        row = await info.context.loaders.user.load(self.student_id)
        return User.from_model(row) if row else None


@public_type
@strawberry.type
class AuthPayload:
    """A new session: send ``accessToken`` as ``Authorization: Bearer``; keep ``refreshToken`` safe."""

    access_token: str
    refresh_token: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User


@public_type
@strawberry.type
class SignedOut:
    ok: bool


@public_type
@strawberry.type
class AccountDeleted:
    pseudonym: str = strawberry.field(description="The pseudonymous id under which ledger entries remain.")


@public_type
@strawberry.type
class DataExport:
    data: strawberry.scalars.JSON
