"""Small permission classes, one rule each, each with a message the client sees.

Object-level scoping happens where objects are fetched (queries return only what the
principal may see); these classes guard root operations and the sensitive fields of
objects that are reachable.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from backend.graphql.context import Info


def _principal(info: Info):
    return info.context.principal


class IsAuthenticated(BasePermission):
    message = "Sign in first."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return _principal(info) is not None


class Anyone(BasePermission):
    """Explicitly open to everyone, signed in or not (sign-up, sign-in, refresh)."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return True


class _FieldRule(BasePermission):
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        p = _principal(info)
        return p is not None and self.allows(p, source)

    def allows(self, principal, source) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


class CanViewPrivate(_FieldRule):
    """Email, birth date, consent state: the person, their guardians, operators."""

    message = "Only the person, their guardian or an operator can see this."

    def allows(self, principal, source) -> bool:
        return principal.can_view_private(source.user_id, source.household_id)


class CanViewFamily(_FieldRule):
    message = "Only the person's household or an operator can see this."

    def allows(self, principal, source) -> bool:
        return principal.can_view_family(source.user_id, source.household_id)


class CanViewSchoolMembership(_FieldRule):
    message = "Only the person's household, their school's staff or an operator can see this."

    def allows(self, principal, source) -> bool:
        return principal.can_view_school_membership(source.user_id, source.household_id, source.school_id)


class CanViewHousehold(_FieldRule):
    message = "Only members of this household or an operator can see this."

    def allows(self, principal, source) -> bool:
        return principal.can_view_household(source.household_id)


class CanManageHousehold(_FieldRule):
    message = "Only a parent of this household or an operator can see this."

    def allows(self, principal, source) -> bool:
        return principal.can_manage_household(source.household_id)


class CanViewSchoolPeople(_FieldRule):
    message = "Only staff of this school or an operator can see this."

    def allows(self, principal, source) -> bool:
        return principal.can_view_school_people(source.school_id)
