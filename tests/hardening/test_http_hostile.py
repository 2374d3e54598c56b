"""Hostile HTTP requests get a 4xx JSON error, never a 500 or a masked error."""

from __future__ import annotations

import json

import pytest

from tests.graphql.test_http_errors import _assert_clean
from tests.hardening.support import post_json

DEEP = 2_000


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("raw", [b"null", b'"s"', b"123", b"[]", b"true",
                                 _nested(DEEP).encode(),
                                 b'{"query": "{ __typename }", "variables": {"a": ' + _nested(DEEP).encode() + b"}}",
                                 b'{"query": "{ __typename }", "variables": ' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}"])
async def test_json_body_that_is_not_an_operation_is_400(client, raw):
    response = await client.post("/graphql", content=raw, headers={"content-type": "application/json"})
    _assert_clean(response)
    assert response.status_code == 400


@pytest.mark.parametrize(("content_type", "body"), [
    ("multipart/form-data", b"--x\r\ncontent-disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n"),
    ("multipart/form-data; boundary=x", b"garbage that is not a part at all"),
    ("multipart/form-data; boundary=x", json.dumps({"query": "{ __typename }"}).encode()),
    ("multipart/form-data; boundary=x",
     b"--x\r\ncontent-disposition: form-data; name=\"operations\"\r\n\r\nnull\r\n--x--\r\n"),
    ("multipart/form-data; boundary=x",
     b"--x\r\ncontent-disposition: form-data; name=\"operations\"\r\n\r\n{\"query\": \"{ __typename }\"}\r\n"
     b"--x\r\ncontent-disposition: form-data; name=\"map\"\r\n\r\n[1]\r\n--x--\r\n"),
    ("multipart/form-data; boundary=x",
     b"--x\r\ncontent-disposition: form-data; name=\"operations\"\r\n\r\n{\"query\": \"{ __typename }\"}\r\n"
     b"--x\r\ncontent-disposition: form-data; name=\"map\"\r\n\r\n{\"0\": [\"variables.file\"]}\r\n"
     b"--x\r\ncontent-disposition: form-data; name=\"0\"; filename=\"" + b"a" * 5_000 + b".jpg\"\r\n"
     b"content-type: image/jpeg\r\n\r\nxx\r\n--x--\r\n"),
])
async def test_malformed_multipart_is_400(client, content_type, body):
    response = await client.post("/graphql", content=body, headers={"content-type": content_type})
    _assert_clean(response)
    assert response.status_code == 400, response.text


async def test_subscription_over_http_is_400(client):
    response = await client.post("/graphql", json={"query": "subscription { drEvents { id } }"})
    _assert_clean(response)
    assert response.status_code == 400
    assert "subscription" in response.json()["errors"][0]["message"].lower()


async def test_several_operations_without_a_name_are_400(client):
    query = "query A { __typename } mutation B { signOut { ok } }"
    response = await client.post("/graphql", json={"query": query})
    _assert_clean(response)
    assert response.status_code == 400
    named = await client.post("/graphql", json={"query": query, "operationName": "A"})
    assert named.status_code == 200 and named.json()["data"] == {"__typename": "Query"}


async def test_lone_surrogate_echoed_in_an_error_is_still_json(client):
    response = await post_json(client, {"query": 'query($n: Int!) { __typename }', "variables": {"n": "\ud800"}})
    _assert_clean(response)
    assert response.status_code == 400
