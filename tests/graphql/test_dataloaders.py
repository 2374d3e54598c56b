"""Relations are batched: the number of SQL statements does not grow with the data."""

from __future__ import annotations

from backend.accounts.models import Role
from backend.codes import new_code
from backend.households.models import Household
from backend.households.service import link_guardians
from backend.schools.models import SchoolClass
from tests.builders import birth_date_for_age, build_world, gql, make_user, sign_in

ROSTER = """
{ school(id: %d) { ... on School { name municipality { name }
    classes { name school { name } students { displayName school { name } schoolClass { name }
      household { name } } }
    staff { displayName school { name } } } } }"""
DASHBOARD = """
{ me { household { name municipality { name }
    members { displayName school { name municipality { name } } schoolClass { name } }
    guardianLinks { consentGiven guardian { displayName } student { displayName } } } } }"""


async def _add_students(world, n: int) -> None:
    for i in range(n):
        school_class = await SchoolClass.create(school=world.school_a, name=f"extra-{i}", grade=7, year=2026, join_code=new_code())
        household = await Household.create(name=f"h{i}", invite_code=new_code(), municipality=world.muni_a)
        await make_user(Role.PARENT, f"p{i}@example.org", household_id=household.id)
        student = await make_user(Role.STUDENT, f"s{i}@example.org", household_id=household.id,
                                  birth_date=birth_date_for_age(15), school_id=world.school_a.id, school_class_id=school_class.id)
        await link_guardians(student)


async def _statements(client, count_queries, query: str, token: str) -> int:
    count_queries.statements.clear()
    body = await gql(client, query, token=token)
    assert "errors" not in body, body
    return len(count_queries.statements)


async def test_school_roster_is_constant_in_queries(client, count_queries):
    world = await build_world()
    token = await sign_in(client, "operator@example.org")
    small = await _statements(client, count_queries, ROSTER % world.school_a.id, token)
    await _add_students(world, 6)
    large = await _statements(client, count_queries, ROSTER % world.school_a.id, token)
    assert large == small, f"N+1: {small} statements for 2 students, {large} for 8"
    assert small <= 10


async def test_household_dashboard_is_constant_in_queries(client, count_queries):
    world = await build_world()
    token = await sign_in(client, "parent_a1@example.org")
    small = await _statements(client, count_queries, DASHBOARD, token)
    household = world.family_a1.household
    for i in range(4):
        kid = await make_user(Role.STUDENT, f"kid{i}@example.org", household_id=household.id,
                              birth_date=birth_date_for_age(15), school_id=world.school_a.id, school_class_id=world.class_a.id)
        await link_guardians(kid)
    large = await _statements(client, count_queries, DASHBOARD, token)
    assert large == small
    assert small <= 8
