"""Every string argument goes through one check: too long, NUL, control characters and lone
surrogates are a typed ValidationFailed (never a masked error from the database), and text is
stored NFC-normalised."""

from __future__ import annotations

import pytest

from backend.accounts.models import User
from backend.graphql.sanitise import clean_string, clean_value
from backend.errors import ValidationFailed
from tests.accounts.test_auth_graphql import REFRESH, SIGN_UP
from tests.builders import PASSWORD, SIGN_IN, build_world, sign_in
from tests.hardening.support import post_json
from tests.plugs.test_plugs_graphql import PUSH

HOSTILE = ["a\u0000b", "\ud800", "x\udfffy", "a\u0001b"]


async def _data(client, query, variables, token=None):
    response = await post_json(client, {"query": query, "variables": variables}, token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


@pytest.mark.parametrize(("email", "password", "field"), [
    ("a" * 250 + "@example.org", PASSWORD, "email"),
    ("someone@example.org", "p" * 1_025, "password"),
])
async def test_sign_in_with_an_overlong_argument_is_validation_failed(client, email, password, field):
    result = await _data(client, SIGN_IN + "", {"email": email, "password": password})
    assert result["__typename"] == "ValidationFailed"


@pytest.mark.parametrize("bad", HOSTILE)
async def test_hostile_strings_in_sign_in_sign_up_and_refresh_are_typed(client, bad):
    query = SIGN_IN.replace("... on Error { message }", "... on Error { message } ... on ValidationFailed { field }")
    assert await _data(client, query, {"email": f"user{bad}@example.org", "password": PASSWORD}) \
        == {"__typename": "ValidationFailed", "message": "Control characters (such as NUL) are not allowed."
            if bad[1:2] in ("\u0000", "\u0001") else "The text is not valid Unicode (a lone surrogate).", "field": "email"}
    assert (await _data(client, query, {"email": "a@example.org", "password": bad}))["field"] == "password"
    signed_up = await _data(client, SIGN_UP, {"input": {"email": f"kid{bad}@example.org", "password": PASSWORD,
                                                        "displayName": "Kid", "role": "PARENT"}})
    assert (signed_up["__typename"], signed_up["field"]) == ("ValidationFailed", "email")
    refreshed = await _data(client, REFRESH.replace("... on Error { message }", "... on ValidationFailed { field }"),
                            {"t": bad})
    assert refreshed == {"__typename": "ValidationFailed", "field": "refreshToken"}
    assert await User.all().count() == 0


@pytest.mark.parametrize("bad", HOSTILE)
async def test_hostile_strings_in_plug_pushes_are_typed(client, bad):
    for variables, field in (({"device": "dev-1", "token": "t", "batch": bad}, "batchId"),
                             ({"device": bad, "token": "t", "batch": "b"}, "deviceId"),
                             ({"device": "dev-1", "token": bad, "batch": "b"}, "token")):
        result = await _data(client, PUSH, {**variables, "readings": [{"ts": bad, "powerW": 1.0}]})
        assert result["__typename"] == "ValidationFailed", result
        assert result["field"] in (field, "ts")


@pytest.mark.parametrize("length", [65, 80, 100, 101, 500])
async def test_push_with_a_device_id_of_65_or_more_characters_is_validation_failed(client, length):
    result = await _data(client, PUSH, {"device": "d" * length, "token": "t", "batch": "b",
                                        "readings": [{"ts": "2026-01-01T00:00:00Z", "powerW": 1.0}]})
    assert (result["__typename"], result["field"]) == ("ValidationFailed", "deviceId")


@pytest.mark.parametrize("email", ["kid\u0085@example.org", "k\u200bid@example.org", "k\u00a0id@example.org"])
async def test_sign_up_email_refuses_invisible_and_control_characters(client, email):
    result = await _data(client, SIGN_UP, {"input": {"email": email, "password": PASSWORD,
                                                     "displayName": "Kid", "role": "PARENT"}})
    assert (result["__typename"], result["field"]) == ("ValidationFailed", "email")


async def test_text_is_stored_nfc_normalised(client):
    decomposed = "Jose\u0301"
    result = await _data(client, SIGN_UP, {"input": {"email": "jose@example.org", "password": PASSWORD,
                                                     "displayName": decomposed, "role": "PARENT"}})
    assert result["user"]["displayName"] == "Jos\u00e9"
    assert (await User.get(email="jose@example.org")).display_name == "Jos\u00e9"


async def test_hostile_string_in_a_list_query_is_a_named_input_error(client):
    await build_world()
    token = await sign_in(client, "operator@example.org")
    response = await post_json(client, {"query": 'query($m: ID!) { schools(municipalityId: $m) { name } }',
                                        "variables": {"m": "1\u0000"}}, token=token)
    body = response.json()
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "municipalityId"}
    assert "Unexpected" not in response.text


def test_clean_string_rules():
    assert clean_string("line\nbreak\tand tab\r", "reason") == "line\nbreak\tand tab\r"
    assert clean_string("e\u0301", "name") == "\u00e9"
    assert clean_string("e\u0301", "password") == "e\u0301"  # hashes compare what was typed
    for bad in ("\u0000", "\u007f", "\u009b", "\ud800", "x" * 2_001):
        with pytest.raises(ValidationFailed):
            clean_string(bad, "reason")


def test_json_keys_are_checked_too():
    assert clean_value({"e\u0301": ["e\u0301"]}, "params") == {"\u00e9": ["\u00e9"]}
    with pytest.raises(ValidationFailed):
        clean_value({"bad\u0000key": 1}, "params")
