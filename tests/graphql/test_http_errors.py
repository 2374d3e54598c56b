"""Bad requests get a clear JSON error and a fitting HTTP status, never a 500 or a trace."""

from __future__ import annotations

import jwt
import pytest

from backend.accounts.tokens import issue_access_token
from tests.builders import build_world, gql, sign_in


def _assert_clean(response) -> None:
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"query": "{ me { "}, 400),                        # syntax error
        ({"query": "{ me { noSuchField } }"}, 400),          # unknown field
        ({"query": "{ household(id: 1) { __typename } }", "variables": []}, 400),  # bad variables shape
        ({"query": "query($id: ID!) { household(id: $id) { __typename } }", "variables": {"id": {"x": 1}}}, 400),
        ({"query": "mutation { signIn(email: 1, password: true) { __typename } }"}, 400),  # wrong types
        ({"query": ""}, 400),
        ({}, 400),
        ({"query": "subscription { x }"}, 400),
    ],
)
async def test_malformed_graphql_is_400(client, body, status):
    response = await client.post("/graphql", json=body)
    _assert_clean(response)
    assert response.status_code == status
    assert response.json()["errors"][0]["message"]


async def test_body_that_is_not_json_is_400(client):
    response = await client.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})
    _assert_clean(response)
    assert response.status_code == 400


async def test_unsupported_method_is_405(client):
    response = await client.put("/graphql", json={"query": "{ __typename }"})
    _assert_clean(response)
    assert response.status_code == 405


async def test_oversized_body_is_413(client, settings):
    huge = "{ __typename }" + " " * (settings.max_request_bytes + 10)
    response = await client.post("/graphql", json={"query": huge})
    _assert_clean(response)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_too_deep_query_is_refused(client, settings):
    await build_world()
    token = await sign_in(client, "parent_a1@example.org")
    inner = "id"
    for _ in range(settings.graphql_max_depth):
        inner = f"household {{ members {{ {inner} }} }}"
    response = await client.post("/graphql", json={"query": f"{{ me {{ {inner} }} }}"},
                                 headers={"authorization": f"Bearer {token}"})
    _assert_clean(response)
    assert response.status_code == 400
    assert "exceeds maximum operation depth" in response.json()["errors"][0]["message"]


async def test_too_many_aliases_are_refused(client, settings):
    aliases = " ".join(f"a{i}: __typename" for i in range(settings.graphql_max_aliases + 1))
    response = await client.post("/graphql", json={"query": f"{{ {aliases} }}"})
    _assert_clean(response)
    assert response.status_code == 400


async def test_too_many_tokens_are_refused(client, settings):
    fields = " ".join("__typename" for _ in range(settings.graphql_max_tokens))
    response = await client.post("/graphql", json={"query": f"{{ {fields} }}"})
    _assert_clean(response)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-jwt", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a.b.c"],
)
async def test_malformed_authorization_is_401(client, header):
    response = await client.post("/graphql", json={"query": "{ me { id } }"}, headers={"authorization": header})
    _assert_clean(response)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_forged_and_expired_tokens_are_401(client, settings):
    world = await build_world()
    token = await sign_in(client, "parent_a1@example.org")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": str(world.operator.id)}, "a-guessed-key-that-is-long-enough-for-hs256", algorithm="HS256")
    none_alg = jwt.encode({**claims, "sub": str(world.operator.id)}, None, algorithm="none")
    import uuid

    expired = issue_access_token(world.family_a1.parent.id, uuid.UUID(claims["sid"]), key=settings.signing_key, ttl_seconds=-5)
    for bad in (forged, none_alg, expired):
        response = await client.post("/graphql", json={"query": "{ me { id } }"}, headers={"authorization": f"Bearer {bad}"})
        _assert_clean(response)
        assert response.status_code == 401


async def test_token_of_another_users_session_is_401(client, settings):
    """A validly signed token whose user does not own the named session is refused."""
    world = await build_world()
    token = await sign_in(client, "parent_a1@example.org")
    claims = jwt.decode(token, options={"verify_signature": False})
    import uuid

    swapped = issue_access_token(world.operator.id, uuid.UUID(claims["sid"]), key=settings.signing_key, ttl_seconds=60)
    response = await client.post("/graphql", json={"query": "{ me { id } }"}, headers={"authorization": f"Bearer {swapped}"})
    assert response.status_code == 401


async def test_anonymous_protected_query_is_401(client):
    response = await client.post("/graphql", json={"query": "{ me { id } }"})
    _assert_clean(response)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_unknown_path_is_json_404(client):
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_bad_ids_are_typed_validation_errors(client):
    await build_world()
    token = await sign_in(client, "operator@example.org")
    for bad in ("abc", "-1", "0", "99999999999999999999"):
        body = await gql(client, 'query($id: ID!) { household(id: $id) { __typename ... on ValidationFailed { field } } }',
                         {"id": bad}, token=token)
        assert body["data"]["household"] == {"__typename": "ValidationFailed", "field": "id"}


async def test_graphiql_is_served(client):
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_bad_id_in_a_list_query_is_a_named_input_error(client):
    await build_world()
    token = await sign_in(client, "operator@example.org")
    body = await gql(client, '{ schools(municipalityId: "abc") { name } }', token=token)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "municipalityId"}


async def test_validation_is_cached_across_requests(client):
    """The depth/alias rules are built once, so identical documents hit the cache."""
    from strawberry.extensions.validation_cache import _get_validate_cache

    cache = _get_validate_cache(1_000)
    query = "{ __typename municipalities_probe: __typename }"
    await client.post("/graphql", json={"query": query})
    before = cache.cache_info().hits
    for _ in range(3):
        assert (await client.post("/graphql", json={"query": query})).status_code == 200
    assert cache.cache_info().hits == before + 3
