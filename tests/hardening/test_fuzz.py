"""Property-based fuzzing of the real ASGI app over the whole schema.

Hypothesis draws an operation (any Query or Mutation field), a caller (anonymous, a student,
an operator) and variables built from the field's argument types, with hostile strings (NUL,
lone surrogates, control and bidi characters, very long text), out-of-range numbers and
values of the wrong type; a second property posts arbitrary JSON bodies and documents. Every
answer must be JSON with a status below 500 and no masked "Unexpected server error."

Runs ``PVPP_FUZZ_OPERATIONS`` (default 150) operation cases and ``PVPP_FUZZ_BODIES`` (default
60) body cases per database backend: 420 cases in about a minute on two cores.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.graphql.schema import build_schema
from tests.builders import build_world, sign_in

OPERATIONS = int(os.environ.get("PVPP_FUZZ_OPERATIONS", "150"))
BODIES = int(os.environ.get("PVPP_FUZZ_BODIES", "60"))
SCHEMA = build_schema()._schema
#: Would end the fuzzer's own sessions; they are fuzzed anonymously (401) instead.
SESSION_ENDING = {"signOut", "deleteMyAccount"}

HOSTILE = ["", " ", "\u0000", "a\u0000b", "\ud800", "\udfff", "x\ud83dy", "\u202e\u2066evil", "\ufeff",
           "\u0085", "\x1b[31m", "e\u0301", "'; DROP TABLE \"user\"; --", "%s%n", "../../etc/passwd",
           "a" * 65, "a" * 101, "a" * 255, "a" * 1_025, "a" * 2_001, "1e309", "-0", "NaN", "0x10",
           "2026-02-30", "2026-01-01T25:00:00Z", "9999-12-31T23:59:59+14:00", "{}", "[]", "null"]
strings = st.one_of(st.sampled_from(HOSTILE), st.text(st.characters(codec=None, exclude_categories=()), max_size=80))
ints = st.one_of(st.integers(-2**31, 2**31 - 1), st.sampled_from([0, -1, 2**31, 2**53, -2**63]))
json_values = st.recursive(st.none() | st.booleans() | ints | st.floats(allow_nan=False) | strings,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings, inner, max_size=3),
                           max_leaves=8)


def value_for(gql_type: Any, depth: int = 0) -> st.SearchStrategy:
    """A value that fits ``gql_type`` most of the time, and something else sometimes."""
    if isinstance(gql_type, GraphQLNonNull):
        return value_for(gql_type.of_type, depth)
    if isinstance(gql_type, GraphQLList):
        return st.lists(value_for(gql_type.of_type, depth + 1), max_size=3) | json_values
    if isinstance(gql_type, GraphQLEnumType):
        return st.sampled_from(list(gql_type.values)) | strings
    if isinstance(gql_type, GraphQLInputObjectType):
        if depth > 3:
            return st.just({})
        fields = {name: value_for(field.type, depth + 1) for name, field in gql_type.fields.items()}
        return st.fixed_dictionaries({}, optional=fields) | json_values
    assert isinstance(gql_type, GraphQLScalarType)
    by_name = {"Int": ints, "Float": st.floats(-1e12, 1e12) | ints, "Boolean": st.booleans(),
               "ID": st.integers(-5, 50).map(str) | strings, "Upload": st.none(),
               "Date": st.dates().map(str) | strings, "DateTime": st.datetimes().map(lambda d: d.isoformat() + "Z") | strings,
               "JSON": json_values}
    return st.one_of(by_name.get(gql_type.name, strings), json_values)


def selection(gql_type: Any) -> str:
    named = get_named_type(gql_type)
    if isinstance(named, GraphQLUnionType):
        return "{ __typename ... on Error { message } }"
    if isinstance(named, GraphQLObjectType):
        return "{ __typename }"
    return ""


def document(kind: str, name: str, field: Any) -> str:
    params = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
    args = ", ".join(f"{a}: ${a}" for a in field.args)
    return (f"{kind}{'(' + params + ')' if params else ''} "
            f"{{ {name}{'(' + args + ')' if args else ''} {selection(field.type)} }}")


FIELDS = [("query", n, f) for n, f in SCHEMA.query_type.fields.items()] + \
         [("mutation", n, f) for n, f in SCHEMA.mutation_type.fields.items()]


@st.composite
def operations(draw) -> tuple[str, dict[str, Any], str]:
    kind, name, field = draw(st.sampled_from(FIELDS))
    variables = {a: draw(value_for(arg.type)) for a, arg in field.args.items()}
    caller = "anonymous" if name in SESSION_ENDING else draw(st.sampled_from(["anonymous", "student", "operator"]))
    return document(kind, name, field), variables, caller


def check(response) -> None:
    assert response.status_code < 500, response.text[:2000]
    assert response.headers["content-type"].startswith("application/json"), response.text[:500]
    assert "Unexpected server error" not in response.text, response.text[:2000]
    json.loads(response.text)


async def _fuzz(run_property) -> None:
    """Run a Hypothesis property in a thread; its requests run on this test's event loop."""
    await asyncio.to_thread(run_property, asyncio.get_running_loop())


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


async def test_random_operations_never_fail_on_the_server(client):
    world = await build_world()
    tokens = {"anonymous": None, "student": await sign_in(client, world.family_a1.student.email),
              "operator": await sign_in(client, world.operator.email)}

    async def post(body: bytes, token: str | None):
        headers = {"content-type": "application/json"} | ({"authorization": f"Bearer {token}"} if token else {})
        return await client.post("/graphql", content=body, headers=headers)

    def run(loop):
        @fuzz_settings(OPERATIONS)
        @given(operations())
        def prop(case):
            query, variables, caller = case
            body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True).encode()
            check(asyncio.run_coroutine_threadsafe(post(body, tokens[caller]), loop).result(60))

        prop()

    await _fuzz(run)


documents = st.one_of(
    st.sampled_from(["{ __typename }", "{ me { id } }", "query { x }", "mutation { signOut { ok } }",
                     "subscription { drEvents { id } }", "query A { __typename } query A { __typename }",
                     "{ " * 300, "{ a" + "[" * 500, "query($a: [[[[Int]]]]) { __typename }"]),
    strings,
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"query": documents}, optional={"variables": json_values, "operationName": json_values,
                                                          "extensions": json_values}),
)


async def test_random_bodies_never_fail_on_the_server(client):
    async def post(body: bytes, content_type: str):
        return await client.post("/graphql", content=body, headers={"content-type": content_type})

    def run(loop):
        @fuzz_settings(BODIES)
        @given(bodies, st.sampled_from(["application/json", "multipart/form-data; boundary=x",
                                        "multipart/form-data", "text/plain", "application/graphql"]))
        def prop(body, content_type):
            raw = json.dumps(body, ensure_ascii=True).encode()
            check(asyncio.run_coroutine_threadsafe(post(raw, content_type), loop).result(60))

        prop()

    await _fuzz(run)
