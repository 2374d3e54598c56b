"""The pure scope rules, without a database."""

from __future__ import annotations

import uuid

from backend.accounts.models import Role
from backend.accounts.principal import Principal


def principal(role: Role, **scope) -> Principal:
    return Principal(user_id=scope.pop("user_id", 1), pseudonym=uuid.uuid4(), role=role, session_id=uuid.uuid4(), **scope)


def test_household_roles_see_only_their_household():
    parent = principal(Role.PARENT, household_id=10)
    assert parent.can_view_household(10) and not parent.can_view_household(11)
    assert parent.can_manage_household(10) and not parent.can_manage_household(11)
    student = principal(Role.STUDENT, household_id=10, school_id=5)
    assert student.can_view_household(10) and not student.can_manage_household(10)
    assert not student.can_view_school_people(5), "a student does not see the school's rosters"


def test_staff_see_their_school_only():
    teacher = principal(Role.TEACHER, school_id=5)
    assert teacher.can_view_school_people(5) and not teacher.can_view_school_people(6)
    assert not teacher.can_view_household(10)
    assert not teacher.can_view_private(user_id=99)


def test_officer_sees_their_municipality_only():
    officer = principal(Role.OFFICER, municipality_id=3)
    assert officer.can_view_municipality_data(3) and not officer.can_view_municipality_data(4)
    assert not officer.can_view_household(10) and not officer.can_view_school_people(5)


def test_guardian_sees_child_private_data():
    parent = principal(Role.PARENT, user_id=1, household_id=10, children_ids=frozenset({7}))
    assert parent.can_view_private(7) and not parent.can_view_private(8)


def test_operator_sees_everything():
    operator = principal(Role.OPERATOR)
    assert operator.can_view_household(10) and operator.can_view_school_people(5)
    assert operator.can_view_municipality_data(3) and operator.can_view_private(99)


def test_none_scopes_are_never_matched():
    nobody = principal(Role.PARENT, household_id=None)
    assert not nobody.can_view_household(None)
    officer = principal(Role.OFFICER, municipality_id=None)
    assert not officer.can_view_municipality_data(None)
