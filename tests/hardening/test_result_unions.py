"""Every operation's result union holds every error its service can raise.

The test walks the schema: for each Query/Mutation field it follows the resolver's calls
through the project's modules (functions, module attributes and classes it constructs) and
collects the ``DomainError`` subclasses raised on the way. Each must be a member of the
field's result union, and every union also holds the generic ValidationFailed (input check)
and ServiceUnavailable (outage). A union missing one answered "Unexpected server error."
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from functools import cache

import pytest
from graphql import GraphQLNonNull, GraphQLUnionType

from backend.errors import DomainError
from backend.graphql import results
from backend.graphql.errors import GENERIC_ERRORS
from backend.graphql.schema import build_schema

SCHEMA = build_schema()
GQL = SCHEMA._schema
MAX_DEPTH = 8
#: Raise only when a permission class is missing, which tests/test_authorization_matrix.py checks.
GUARDS = {results.require_principal}


def _resolve(node: ast.expr, namespace: dict) -> object | None:
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, namespace)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def _ours(obj: object) -> bool:
    return (getattr(obj, "__module__", "") or "").startswith("backend.")


@cache
def _raised(func: object, depth: int = 0) -> frozenset[type[DomainError]]:
    """DomainError classes ``func`` or what it calls (statically resolvable) can raise."""
    func = inspect.unwrap(func)
    if func in GUARDS:
        return frozenset()
    if isinstance(func, type):
        found: set[type[DomainError]] = set()
        for member in vars(func).values():
            if inspect.isfunction(member) and depth < MAX_DEPTH:
                found |= _raised(member, depth + 1)
        return frozenset(found)
    if not inspect.isfunction(func) or not _ours(func):
        return frozenset()
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError):
        return frozenset()
    namespace = {**func.__globals__, **(inspect.getclosurevars(func).nonlocals if func.__closure__ else {})}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            cls = _resolve(target, namespace)
            if isinstance(cls, type) and issubclass(cls, DomainError):
                found.add(cls)
        elif isinstance(node, ast.Call) and depth < MAX_DEPTH:
            callee = _resolve(node.func, namespace)
            if isinstance(callee, types.MethodType):
                callee = callee.__func__
            if callee is not None and _ours(callee) and not (isinstance(callee, type) and issubclass(callee, DomainError)):
                found |= _raised(callee, depth + 1)
    return frozenset(found)


def _graphql_name(cls: type[DomainError]) -> str | None:
    for klass in cls.__mro__:
        if klass.__name__ in GQL.type_map:
            return klass.__name__
    return None


def _operations():
    for root in (GQL.mutation_type, GQL.query_type):
        for name, field in root.fields.items():
            definition = field.extensions.get("strawberry-definition")
            if definition is not None and definition.base_resolver is not None:
                yield pytest.param(root.name, name, field, definition.base_resolver.wrapped_func, id=f"{root.name}.{name}")


def _union(field) -> GraphQLUnionType | None:
    field_type = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    return field_type if isinstance(field_type, GraphQLUnionType) else None


@pytest.mark.parametrize(("root", "name", "field", "resolver"), list(_operations()))
def test_result_union_holds_every_error_the_operation_can_raise(root, name, field, resolver):
    raised = _raised(resolver)
    union = _union(field)
    if union is None:
        assert root == "Query" or not raised, f"{name} can raise {sorted(c.__name__ for c in raised)} but has no result union"
        return
    members = {t.name for t in union.types}
    missing = {cls.__name__: _graphql_name(cls) for cls in raised if _graphql_name(cls) not in members}
    assert not missing, f"{root}.{name} ({union.name}) can raise {missing} (error: GraphQL type) outside its union"
    assert {t.__name__ for t in GENERIC_ERRORS} <= members


def test_every_mutation_returns_a_result_union_or_raises_nothing():
    """Mutations without a union (signOut) must not raise expected errors at all."""
    for name, field in GQL.mutation_type.fields.items():
        resolver = field.extensions["strawberry-definition"].base_resolver.wrapped_func
        assert _union(field) is not None or not _raised(resolver), name


def test_the_walk_finds_errors_through_services():
    """The walk itself works: signIn's service raises RateLimited and InvalidCredentials."""
    resolver = GQL.mutation_type.fields["signIn"].extensions["strawberry-definition"].base_resolver.wrapped_func
    names = {cls.__name__ for cls in _raised(resolver)}
    assert {"RateLimited", "InvalidCredentials", "ConsentRequired"} <= names
