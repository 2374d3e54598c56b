"""Sign-up, sign-in, refresh and sign-out over HTTP, on every backend."""

from __future__ import annotations

import pytest

from backend.accounts.models import RefreshToken, User
from tests.builders import PASSWORD, SIGN_IN, birth_date_for_age, build_world, gql, sign_in

SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) {
    __typename
    ... on SignUpSuccess { guardianConsentRequired user { id role displayName } }
    ... on Error { message }
    ... on ValidationFailed { field }
    ... on AlreadyExists { field }
  }
}"""
REFRESH = """
mutation($t: String!) { refreshSession(refreshToken: $t) {
  __typename ... on AuthPayload { accessToken refreshToken } ... on Error { message } } }"""
ME = "{ me { id displayName role email } }"


async def test_parent_signs_up_and_in(client):
    body = await gql(client, SIGN_UP, {"input": {
        "email": "New.Parent@Example.org", "password": PASSWORD, "displayName": "New Parent", "role": "PARENT"}})
    assert body["data"]["signUp"]["__typename"] == "SignUpSuccess"
    assert body["data"]["signUp"]["guardianConsentRequired"] is False
    token = await sign_in(client, "new.parent@example.org")
    me = await gql(client, ME, token=token)
    assert me["data"]["me"]["email"] == "new.parent@example.org"
    user = await User.get(email="new.parent@example.org")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "password1234"}, "password"),
        ({"displayName": "   "}, "displayName"),
        ({"displayName": "x" * 61}, "displayName"),
        ({"role": "TEACHER"}, "role"),
        ({"role": "STUDENT", "birthDate": "2014-01-01"}, "inviteCode"),
        ({"role": "STUDENT", "inviteCode": "XXXX"}, "birthDate"),
        ({"role": "STUDENT", "birthDate": "2999-01-01", "inviteCode": "X"}, "birthDate"),
        ({"inviteCode": "NOSUCHCODE"}, "inviteCode"),
        ({"municipalityId": "abc"}, "municipalityId"),
        ({"municipalityId": "999"}, "municipalityId"),
    ],
)
async def test_sign_up_rejects_bad_input_with_the_field(client, change, field):
    payload = {"email": "kid@example.org", "password": PASSWORD, "displayName": "Kid", "role": "PARENT", **change}
    body = await gql(client, SIGN_UP, {"input": payload})
    result = body["data"]["signUp"]
    assert result["__typename"] == "ValidationFailed", result
    assert result["field"] == field
    assert await User.all().count() == 0, "nothing may be written on a failed sign-up"


async def test_duplicate_sign_up_is_a_typed_conflict(client):
    payload = {"email": "dup@example.org", "password": PASSWORD, "displayName": "Dup", "role": "PARENT"}
    first = await gql(client, SIGN_UP, {"input": payload})
    second = await gql(client, SIGN_UP, {"input": {**payload, "email": "DUP@example.org "}})
    assert first["data"]["signUp"]["__typename"] == "SignUpSuccess"
    assert second["data"]["signUp"] == {"__typename": "AlreadyExists", "message": second["data"]["signUp"]["message"], "field": "email"}
    assert await User.filter(email="dup@example.org").count() == 1


async def test_concurrent_duplicate_sign_ups_create_one_account(client):
    import asyncio

    payload = {"email": "race@example.org", "password": PASSWORD, "displayName": "Race", "role": "PARENT"}
    bodies = await asyncio.gather(*[gql(client, SIGN_UP, {"input": payload}) for _ in range(5)])
    kinds = sorted(b["data"]["signUp"]["__typename"] for b in bodies)
    assert kinds.count("SignUpSuccess") == 1 and kinds.count("AlreadyExists") == 4
    assert await User.filter(email="race@example.org").count() == 1


async def test_under_14_student_needs_guardian_consent(client):
    parent = await gql(client, SIGN_UP, {"input": {
        "email": "mum@example.org", "password": PASSWORD, "displayName": "Mum", "role": "PARENT"}})
    assert parent["data"]["signUp"]["__typename"] == "SignUpSuccess"
    parent_token = await sign_in(client, "mum@example.org")
    household = await gql(client, "{ myHousehold { inviteCode } }", token=parent_token)
    code = household["data"]["myHousehold"]["inviteCode"]
    kid = await gql(client, SIGN_UP, {"input": {
        "email": "kid@example.org", "password": PASSWORD, "displayName": "Kid", "role": "STUDENT",
        "birthDate": birth_date_for_age(12).isoformat(), "inviteCode": code.lower()}})
    assert kid["data"]["signUp"]["guardianConsentRequired"] is True
    kid_id = kid["data"]["signUp"]["user"]["id"]

    denied = await gql(client, SIGN_IN, {"email": "kid@example.org", "password": PASSWORD})
    assert denied["data"]["signIn"]["__typename"] == "ConsentRequired"
    wrong = await gql(client, SIGN_IN, {"email": "kid@example.org", "password": "Wrong-password-123"})
    assert wrong["data"]["signIn"]["__typename"] == "InvalidCredentials", "consent state must not leak before the password is checked"

    given = await gql(client, "mutation($id: ID!) { giveGuardianConsent(studentId: $id) { __typename ... on GuardianLink { consentGiven } } }",
                      {"id": kid_id}, token=parent_token)
    assert given["data"]["giveGuardianConsent"] == {"__typename": "GuardianLink", "consentGiven": True}
    kid_token = await sign_in(client, "kid@example.org")
    assert (await gql(client, ME, token=kid_token))["data"]["me"]["role"] == "STUDENT"

    withdrawn = await gql(client, "mutation($id: ID!) { withdrawGuardianConsent(studentId: $id) { __typename ... on GuardianLink { consentGiven } } }",
                          {"id": kid_id}, token=parent_token)
    assert withdrawn["data"]["withdrawGuardianConsent"]["consentGiven"] is False
    after = await client.post("/graphql", json={"query": ME}, headers={"authorization": f"Bearer {kid_token}"})
    assert after.status_code == 401, "withdrawing consent signs the child out at once"


async def test_wrong_password_and_unknown_account_look_the_same(client):
    await build_world()
    wrong = await gql(client, SIGN_IN, {"email": "parent_a1@example.org", "password": "Not-the-password-1"})
    unknown = await gql(client, SIGN_IN, {"email": "nobody@example.org", "password": "Not-the-password-1"})
    assert wrong["data"]["signIn"] == unknown["data"]["signIn"]
    assert wrong["data"]["signIn"]["__typename"] == "InvalidCredentials"


async def test_sign_in_is_rate_limited_per_account(client, settings):
    await build_world()
    for _ in range(settings.signin_max_failures_per_account):
        body = await gql(client, SIGN_IN, {"email": "parent_a1@example.org", "password": "Not-the-password-1"})
        assert body["data"]["signIn"]["__typename"] == "InvalidCredentials"
    limited = await gql(client, SIGN_IN, {"email": "parent_a1@example.org", "password": PASSWORD})
    assert limited["data"]["signIn"]["__typename"] == "RateLimited"
    assert 0 < limited["data"]["signIn"]["retryAfterSeconds"] <= settings.signin_window_seconds
    other = await gql(client, SIGN_IN, {"email": "parent_a2@example.org", "password": PASSWORD})
    assert other["data"]["signIn"]["__typename"] == "AuthPayload", "another account is not locked"


async def test_sign_in_is_rate_limited_per_address(db):
    import httpx

    from backend.app import create_app

    settings = db.model_copy(update={"signin_max_failures_per_address": 4})
    app = create_app(settings, manage_db=False)
    await build_world()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.9.9", 1)),
                                 base_url="http://pvpp.test") as client:
        for i in range(4):
            body = await gql(client, SIGN_IN, {"email": f"guess{i}@example.org", "password": "Not-the-password-1"})
            assert body["data"]["signIn"]["__typename"] == "InvalidCredentials"
        limited = await gql(client, SIGN_IN, {"email": "parent_a1@example.org", "password": PASSWORD})
        assert limited["data"]["signIn"]["__typename"] == "RateLimited"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.8.8.8", 1)),
                                 base_url="http://pvpp.test") as other:
        assert await sign_in(other, "parent_a1@example.org"), "another address is not limited"
    await app.state.redis.aclose()


async def test_successful_sign_ins_from_one_address_are_not_limited(client, settings):
    """A class signing in together from a school network must not lock itself out."""
    world = await build_world()
    for _ in range(settings.signin_max_failures_per_account + 2):
        for user in (world.family_a1.student, world.family_a2.student):
            await sign_in(client, user.email)


async def test_refresh_rotates_and_reuse_ends_the_session(client):
    await build_world()
    body = await gql(client, SIGN_IN, {"email": "parent_a1@example.org", "password": PASSWORD})
    first = body["data"]["signIn"]["refreshToken"]
    rotated = await gql(client, REFRESH, {"t": first})
    assert rotated["data"]["refreshSession"]["__typename"] == "AuthPayload"
    second = rotated["data"]["refreshSession"]["refreshToken"]
    assert second != first
    assert not await RefreshToken.filter(token_hash=first).exists(), "refresh tokens are stored hashed"

    replay = await gql(client, REFRESH, {"t": first})
    assert replay["data"]["refreshSession"]["__typename"] == "InvalidToken"
    after_theft = await gql(client, REFRESH, {"t": second})
    assert after_theft["data"]["refreshSession"]["__typename"] == "InvalidToken", "reuse revokes the whole session"
    new_access = rotated["data"]["refreshSession"]["accessToken"]
    response = await client.post("/graphql", json={"query": ME}, headers={"authorization": f"Bearer {new_access}"})
    assert response.status_code == 401


async def test_forged_refresh_token_is_rejected(client):
    body = await gql(client, REFRESH, {"t": "forged-token"})
    assert body["data"]["refreshSession"]["__typename"] == "InvalidToken"


async def test_sign_out_revokes_the_access_token(client):
    await build_world()
    token = await sign_in(client, "parent_a1@example.org")
    out = await gql(client, "mutation { signOut { ok } }", token=token)
    assert out["data"]["signOut"]["ok"] is True
    response = await client.post("/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_sign_in_payload_shows_the_users_own_private_fields(client):
    await build_world()
    body = await gql(client, 'mutation { signIn(email: "parent_a1@example.org", password: "%s") '
                             '{ ... on AuthPayload { user { email household { name } } } } }' % PASSWORD)
    assert "errors" not in body, body
    assert body["data"]["signIn"]["user"] == {"email": "parent_a1@example.org", "household": {"name": "Household a1"}}
