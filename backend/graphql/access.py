"""Least privilege for every field of the schema.

A field is served only if it declares who may read it: permission classes, or ``visible()``
meaning "whoever could reach the parent object". Types made with ``@public_type`` (errors,
payloads) declare all their fields visible. :func:`deny_undeclared_fields` replaces the
resolver of every other field with one that refuses, so a field added without a decision
is denied rather than leaked.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLObjectType, GraphQLSchema

ACCESS = "pvpp_access"
_PUBLIC_TYPES: set[type] = set()
_BACKREF = "strawberry-definition"


def visible(**kwargs: Any) -> Any:
    """A field readable by anyone who can reach its parent object."""
    metadata = {**kwargs.pop("metadata", {}), ACCESS: "visible"}
    return strawberry.field(metadata=metadata, **kwargs)


def public_type(cls: type) -> type:
    """Mark every field of a type (an error or a payload) as visible."""
    _PUBLIC_TYPES.add(cls)
    return cls


class FieldNotAllowed(GraphQLError):
    def __init__(self, field: str) -> None:
        super().__init__(
            f"Access to {field} is not allowed.", extensions={"code": "FORBIDDEN"}
        )


def _declared(owner: GraphQLObjectType, field: Any) -> bool:
    owner_def = owner.extensions.get(_BACKREF)
    if owner_def is not None and getattr(owner_def, "origin", None) in _PUBLIC_TYPES:
        return True
    definition = field.extensions.get(_BACKREF)
    if definition is None:
        return False
    return bool(definition.permission_classes) or definition.metadata.get(ACCESS) == "visible"


def _deny(name: str):
    def resolve(*_args: Any, **_kwargs: Any) -> None:
        raise FieldNotAllowed(name)

    return resolve


def deny_undeclared_fields(schema: GraphQLSchema) -> list[str]:
    """Make undeclared fields refuse; returns their names (``Type.field``)."""
    denied = []
    for type_name, gql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(gql_type, GraphQLObjectType):
            continue
        for field_name, field in gql_type.fields.items():
            if not _declared(gql_type, field):
                qualified = f"{type_name}.{field_name}"
                field.resolve = _deny(qualified)
                denied.append(qualified)
    return denied
