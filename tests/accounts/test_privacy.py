"""Export and deletion of personal data, by the person and by a guardian for a child."""

from __future__ import annotations

import json

from backend.accounts.models import ConsentRecord, GuardianLink, Session, User
from tests.builders import PASSWORD, build_world, gql, sign_in

EXPORT_ME = "{ exportMyData { __typename ... on DataExport { data } ... on Error { message } } }"
EXPORT_CHILD = "query($id: ID!) { exportChildData(studentId: $id) { __typename ... on DataExport { data } ... on Error { message } } }"
DELETE_ME = "mutation($p: String!) { deleteMyAccount(password: $p) { __typename ... on AccountDeleted { pseudonym } ... on Error { message } } }"
DELETE_CHILD = "mutation($id: ID!) { deleteChildAccount(studentId: $id) { __typename ... on AccountDeleted { pseudonym } ... on Error { message } } }"


async def test_user_exports_own_data(client):
    world = await build_world()
    token = await sign_in(client, "student_a1@example.org")
    body = await gql(client, EXPORT_ME, token=token)
    data = body["data"]["exportMyData"]["data"]
    assert data["profile"]["email"] == "student_a1@example.org"
    assert data["profile"]["pseudonym"] == str(world.family_a1.student.pseudonym)
    assert data["household"]["name"] == "Household a1"
    assert data["guardianLinks"][0]["consentHistory"][0]["action"] == "given"
    assert data["profile"]["createdAt"].endswith("+09:00"), "times are shown in Asia/Seoul"
    assert "password" not in json.dumps(data).lower()
    assert len(data["sessions"]) == 1


async def test_guardian_exports_child_data_but_not_others(client):
    world = await build_world()
    token = await sign_in(client, "parent_a1@example.org")
    own_child = await gql(client, EXPORT_CHILD, {"id": str(world.family_a1.student.id)}, token=token)
    assert own_child["data"]["exportChildData"]["data"]["profile"]["email"] == "student_a1@example.org"
    other_child = await gql(client, EXPORT_CHILD, {"id": str(world.family_a2.student.id)}, token=token)
    assert other_child["data"]["exportChildData"]["__typename"] == "NotAllowed"
    teacher = await sign_in(client, "teacher_a@example.org")
    by_teacher = await gql(client, EXPORT_CHILD, {"id": str(world.family_a1.student.id)}, token=teacher)
    assert by_teacher["data"]["exportChildData"]["__typename"] == "NotAllowed"


async def test_delete_own_account_needs_password_and_removes_personal_data(client):
    world = await build_world()
    parent = world.family_a2.parent
    token = await sign_in(client, parent.email)
    wrong = await gql(client, DELETE_ME, {"p": "not-my-password"}, token=token)
    assert wrong["data"]["deleteMyAccount"]["__typename"] == "InvalidCredentials"
    assert await User.exists(id=parent.id)

    done = await gql(client, DELETE_ME, {"p": PASSWORD}, token=token)
    assert done["data"]["deleteMyAccount"] == {"__typename": "AccountDeleted", "pseudonym": str(parent.pseudonym)}
    assert not await User.exists(id=parent.id)
    assert not await Session.filter(user_id=parent.id).exists()
    assert not await GuardianLink.filter(guardian_id=parent.id).exists()
    response = await client.post("/graphql", json={"query": "{ me { id } }"}, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_guardian_deletes_child_account(client):
    world = await build_world()
    child = world.family_a1.student
    token = await sign_in(client, "parent_a1@example.org")
    child_token = await sign_in(client, child.email)
    not_mine = await gql(client, DELETE_CHILD, {"id": str(world.family_a2.student.id)}, token=token)
    assert not_mine["data"]["deleteChildAccount"]["__typename"] == "NotAllowed"
    assert await User.exists(id=world.family_a2.student.id)

    done = await gql(client, DELETE_CHILD, {"id": str(child.id)}, token=token)
    assert done["data"]["deleteChildAccount"]["pseudonym"] == str(child.pseudonym)
    assert not await User.exists(id=child.id)
    assert not await ConsentRecord.filter(link__student_id=child.id).exists()
    response = await client.post("/graphql", json={"query": "{ me { id } }"}, headers={"authorization": f"Bearer {child_token}"})
    assert response.status_code == 401
    assert await User.exists(id=world.family_a1.parent.id), "the guardian's own account stays"


async def test_a_child_cannot_delete_a_parent(client):
    world = await build_world()
    token = await sign_in(client, "student_a2@example.org")
    body = await gql(client, DELETE_CHILD, {"id": str(world.family_a2.parent.id)}, token=token)
    assert body["data"]["deleteChildAccount"]["__typename"] == "NotAllowed"
    assert await User.exists(id=world.family_a2.parent.id)


async def test_children_without_consent_are_purged_after_the_grace_period(db):
    from datetime import UTC, datetime, timedelta

    from backend.accounts.models import Role
    from backend.accounts.privacy import purge_unconsented_children
    from tests.builders import birth_date_for_age, make_user

    world = await build_world()
    household = world.family_a2.household
    old = datetime.now(UTC) - timedelta(days=db.unconsented_account_days + 1)
    stale = await make_user(Role.STUDENT, "stale@example.org", household_id=household.id, birth_date=birth_date_for_age(10))
    fresh = await make_user(Role.STUDENT, "fresh@example.org", household_id=household.id, birth_date=birth_date_for_age(10))
    older = await make_user(Role.STUDENT, "older@example.org", household_id=household.id, birth_date=birth_date_for_age(15))
    await User.filter(id__in=[stale.id, older.id, world.family_a1.student.id]).update(created_at=old)

    assert await purge_unconsented_children(db) == 1
    assert not await User.exists(id=stale.id)
    assert await User.exists(id=fresh.id), "still within the grace period"
    assert await User.exists(id=older.id), "14 and over needs no guardian consent"
    assert await User.exists(id=world.family_a1.student.id), "consent was given"
    assert await purge_unconsented_children(db) == 0
