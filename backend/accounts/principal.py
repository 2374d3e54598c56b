"""Who is asking, and the pure scope rules that decide what they may see.

No I/O here: every rule works on plain ids so the authorisation matrix can be reasoned about
(and tested) without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from backend.accounts.models import Role

SCHOOL_STAFF = frozenset({Role.TEACHER, Role.SCHOOL_ADMIN})
HOUSEHOLD_ROLES = frozenset({Role.STUDENT, Role.PARENT})


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user as the request sees them."""

    user_id: int
    pseudonym: UUID
    role: Role
    session_id: UUID
    household_id: int | None = None
    school_id: int | None = None
    school_class_id: int | None = None
    municipality_id: int | None = None
    children_ids: frozenset[int] = field(default_factory=frozenset)
    #: The user row loaded while authenticating, so the request need not load it again.
    user: Any = field(default=None, compare=False, repr=False)

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR

    @property
    def is_school_staff(self) -> bool:
        return self.role in SCHOOL_STAFF

    def can_view_household(self, household_id: int | None) -> bool:
        if household_id is None:
            return False
        return self.is_operator or (
            self.role in HOUSEHOLD_ROLES and household_id == self.household_id
        )

    def can_manage_household(self, household_id: int | None) -> bool:
        """Parents manage their household (invite code, members); operators any."""
        return self.is_operator or (
            self.role is Role.PARENT and household_id is not None and household_id == self.household_id
        )

    def is_staff_of_school(self, school_id: int | None) -> bool:
        return school_id is not None and self.is_school_staff and school_id == self.school_id

    def can_view_school_people(self, school_id: int | None) -> bool:
        """Rosters, classes' join codes and staff lists: the school's own staff and operators."""
        return self.is_operator or self.is_staff_of_school(school_id)

    def can_view_municipality_data(self, municipality_id: int | None) -> bool:
        return self.is_operator or (
            self.role is Role.OFFICER
            and municipality_id is not None
            and municipality_id == self.municipality_id
        )

    def keeps_school_record_of(self, school_id: int | None, school_class_id: int | None) -> bool:
        """A student's points, activities and volunteer hours: the staff of the student's school
        (a teacher with a class of their own: that class only) and operators."""
        if self.is_operator:
            return True
        if not self.is_staff_of_school(school_id):
            return False
        return self.role is Role.SCHOOL_ADMIN or self.school_class_id in (None, school_class_id)

    def is_guardian_of(self, user_id: int) -> bool:
        return user_id in self.children_ids

    def can_view_user(self, user_id: int, household_id: int | None, school_id: int | None) -> bool:
        """Whether the basic card of a user (name, role) is visible at all."""
        return (
            user_id == self.user_id
            or self.can_view_household(household_id)
            or self.can_view_school_people(school_id)
            or self.is_guardian_of(user_id)
        )

    def can_view_private(self, user_id: int, household_id: int | None = None) -> bool:
        """Email, birth date, consent: the person, their guardians and operators."""
        return self.is_operator or user_id == self.user_id or self.is_guardian_of(user_id)

    def can_view_family(self, user_id: int, household_id: int | None) -> bool:
        """Household membership and guardian links: the person, their household, operators."""
        return (
            self.is_operator
            or user_id == self.user_id
            or self.can_view_household(household_id)
            or self.is_guardian_of(user_id)
        )

    def can_view_school_membership(
        self, user_id: int, household_id: int | None, school_id: int | None
    ) -> bool:
        return self.can_view_family(user_id, household_id) or self.can_view_school_people(school_id)
