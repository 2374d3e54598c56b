"""Builders for test objects: a small world of two municipalities, schools and households."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx

from backend.accounts.models import (
    ConsentAction,
    ConsentRecord,
    GuardianLink,
    Role,
    User,
)
from backend.accounts.passwords import hash_password
from backend.accounts.principal import Principal
from backend.accounts.service import principal_for
from backend.codes import local_today, new_code
from backend.households.models import Household
from backend.households.service import link_guardians
from backend.municipalities.models import Municipality
from backend.rewards.models import Programme, ProgrammeEnrolment
from backend.schools.models import School, SchoolClass

PASSWORD = "Correct-Horse-Battery-7"


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
    token: str | None = None, expect_status: int | None = 200,
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    if expect_status is not None:
        assert response.status_code == expect_status, response.text
    return response.json()


SIGN_IN = """
mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) {
    __typename
    ... on AuthPayload { accessToken refreshToken expiresIn user { id role } }
    ... on Error { message }
    ... on RateLimited { retryAfterSeconds }
  }
}"""


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    body = await gql(client, SIGN_IN, {"email": email, "password": password})
    result = body["data"]["signIn"]
    assert result["__typename"] == "AuthPayload", result
    return result["accessToken"]


async def make_user(role: Role, email: str, name: str | None = None, **scope: Any) -> User:
    return await User.create(
        pseudonym=uuid.uuid4(), email=email, display_name=name or email.split("@")[0], role=role,
        password_hash=await hash_password(PASSWORD, memory_kib=1_024, time_cost=1), **scope,
    )


def birth_date_for_age(age: int) -> date:
    today = datetime.now(UTC).date()
    return date(today.year - age - 1, 12, 31) if (today.month, today.day) < (12, 31) else date(today.year - age, 1, 1)


async def consent(guardian: User, student: User) -> None:
    link = await GuardianLink.get(guardian=guardian, student=student)
    link.consent_given_at = datetime.now(UTC)
    await link.save()
    await ConsentRecord.create(link=link, action=ConsentAction.GIVEN, notice_version="test")


@dataclass
class Family:
    household: Household
    parent: User
    student: User


@dataclass
class World:
    """Two municipalities (A, B), one school and class in each, families in each, staff."""

    muni_a: Municipality
    muni_b: Municipality
    school_a: School
    school_b: School
    class_a: SchoolClass
    class_b: SchoolClass
    family_a1: Family
    family_a2: Family
    family_b: Family
    teacher_a: User
    teacher_b: User
    admin_a: User
    officer_a: User
    officer_b: User
    operator: User
    tokens: dict[str, str] = field(default_factory=dict)

    def users(self) -> dict[str, User]:
        return {
            "student_a1": self.family_a1.student, "parent_a1": self.family_a1.parent,
            "student_a2": self.family_a2.student, "parent_a2": self.family_a2.parent,
            "student_b": self.family_b.student, "parent_b": self.family_b.parent,
            "teacher_a": self.teacher_a, "teacher_b": self.teacher_b, "admin_a": self.admin_a,
            "officer_a": self.officer_a, "officer_b": self.officer_b, "operator": self.operator,
        }

    async def sign_in_all(self, client: httpx.AsyncClient) -> dict[str, str]:
        for name, user in self.users().items():
            self.tokens[name] = await sign_in(client, user.email)
        return self.tokens


async def _family(tag: str, muni: Municipality, school_class: SchoolClass, student_age: int = 15) -> Family:
    household = await Household.create(name=f"Household {tag}", invite_code=new_code(), municipality=muni)
    parent = await make_user(Role.PARENT, f"parent_{tag}@example.org", household_id=household.id)
    student = await make_user(
        Role.STUDENT, f"student_{tag}@example.org", household_id=household.id,
        birth_date=birth_date_for_age(student_age), school_id=school_class.school_id, school_class_id=school_class.id,
    )
    await link_guardians(student)
    if student_age < 14:
        await consent(parent, student)
    return Family(household, parent, student)


async def build_world() -> World:
    muni_a = await Municipality.create(name="Naju-si", code="46170")
    muni_b = await Municipality.create(name="Gwangsan-gu", code="29200")
    school_a = await School.create(name="School A", municipality=muni_a)
    school_b = await School.create(name="School B", municipality=muni_b)
    class_a = await SchoolClass.create(school=school_a, name="2-1", grade=8, year=2026, join_code=new_code())
    class_b = await SchoolClass.create(school=school_b, name="3-2", grade=9, year=2026, join_code=new_code())
    return World(
        muni_a=muni_a, muni_b=muni_b, school_a=school_a, school_b=school_b, class_a=class_a, class_b=class_b,
        family_a1=await _family("a1", muni_a, class_a, student_age=12),
        family_a2=await _family("a2", muni_a, class_a),
        family_b=await _family("b", muni_b, class_b),
        teacher_a=await make_user(Role.TEACHER, "teacher_a@example.org", school_id=school_a.id),
        teacher_b=await make_user(Role.TEACHER, "teacher_b@example.org", school_id=school_b.id),
        admin_a=await make_user(Role.SCHOOL_ADMIN, "admin_a@example.org", school_id=school_a.id),
        officer_a=await make_user(Role.OFFICER, "officer_a@example.org", municipality_id=muni_a.id),
        officer_b=await make_user(Role.OFFICER, "officer_b@example.org", municipality_id=muni_b.id),
        operator=await make_user(Role.OPERATOR, "operator@example.org"),
    )


async def principal_of(user: User) -> Principal:
    """The principal a signed-in request of ``user`` would carry."""
    await user.refresh_from_db()
    return await principal_for(user, uuid.uuid4())


async def start_programmes(world: World, year: int | None = None,
                           budget_won: int = 10_000_000) -> tuple[Programme, Programme]:
    """A programme for a whole year (this year in Seoul by default) in both municipalities,
    following the 2026 rules; only school A enrols (in A's)."""
    year = year or local_today("Asia/Seoul").year
    programmes = []
    for muni in (world.muni_a, world.muni_b):
        programmes.append(await Programme.create(
            municipality=muni, name=f"{muni.name} saves {year}", year=year, rules_year=2026,
            starts_on=date(year, 1, 1), ends_on=date(year, 12, 31), coin_budget_won=budget_won,
        ))
    await ProgrammeEnrolment.create(programme=programmes[0], school=world.school_a)
    return programmes[0], programmes[1]
