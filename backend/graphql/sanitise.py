"""One input check for every string argument of the schema, before any resolver runs.

Every ``String``/``ID`` argument, and every string inside an input object or list, is
checked and normalised here: at most :data:`DEFAULT_MAX_LENGTH` characters (fewer for the
names in :data:`MAX_LENGTHS`), no NUL or other control characters except tab and line
breaks, no lone surrogates (they cannot be stored or encoded), and NFC normalisation
(passwords are left as typed, so existing hashes still verify). A refused argument makes
the field answer ``ValidationFailed { field message }`` when its result union has that
member, and a ``BAD_USER_INPUT`` error naming the argument otherwise.

:func:`sanitise_arguments` wraps the resolvers of the built schema, so a field added later
is covered without doing anything.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLUnionType, default_field_resolver

from backend import errors as domain
from backend.graphql.errors import ValidationFailed
from backend.graphql.results import BadUserInput

DEFAULT_MAX_LENGTH = 2_000
#: ``imageBase64``: a photo of a coin QR code at the officer's counter, bounded in practice by
#: the request body limit (PVPP_MAX_REQUEST_BYTES).
MAX_LENGTHS = {"email": 254, "password": 1_024, "imageBase64": 1_400_000}
#: Compared byte for byte with a stored hash: normalising would lock out existing users.
NOT_NORMALISED = frozenset({"password"})
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def clean_string(value: str, field: str) -> str:
    """``value`` checked and NFC-normalised, or ``ValidationFailed`` naming ``field``."""
    limit = MAX_LENGTHS.get(field, DEFAULT_MAX_LENGTH)
    if len(value) > limit:
        raise domain.ValidationFailed(field, f"Use at most {limit} characters.")
    for ch in value:
        if ch < " " or "\x7f" <= ch <= "\x9f":
            if ch not in _ALLOWED_CONTROLS:
                raise domain.ValidationFailed(field, "Control characters (such as NUL) are not allowed.")
        elif "\ud800" <= ch <= "\udfff":
            raise domain.ValidationFailed(field, "The text is not valid Unicode (a lone surrogate).")
    return value if field in NOT_NORMALISED else unicodedata.normalize("NFC", value)


def clean_value(value: Any, field: str) -> Any:
    """Strings anywhere inside an argument (input objects are dicts here) cleaned."""
    if isinstance(value, str):
        return clean_string(value, field)
    if isinstance(value, dict):  # keys too: a JSON argument's keys may be stored (jsonb refuses NUL)
        return {clean_string(key, field) if isinstance(key, str) else key: clean_value(item, key)
                for key, item in value.items()}
    if isinstance(value, list):
        return [clean_value(item, field) for item in value]
    return value


def _takes_validation_failed(field_type: Any) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLUnionType) and any(t.name == "ValidationFailed" for t in field_type.types)


def _wrap(resolve: Callable[..., Any] | None, typed: bool) -> Callable[..., Any]:
    def resolve_clean(source: Any, info: Any, **kwargs: Any) -> Any:
        try:
            kwargs = {name: clean_value(value, name) for name, value in kwargs.items()}
        except domain.ValidationFailed as exc:
            if typed:
                return ValidationFailed(message=exc.message, field=exc.field)
            raise BadUserInput(exc) from None
        return (resolve or default_field_resolver)(source, info, **kwargs)

    return resolve_clean


def sanitise_arguments(schema: GraphQLSchema) -> list[str]:
    """Wrap every field that takes arguments; returns their names (``Type.field``)."""
    wrapped = []
    for type_name, gql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(gql_type, GraphQLObjectType):
            continue
        for field_name, field in gql_type.fields.items():
            if not field.args:
                continue
            typed = _takes_validation_failed(field.type)
            if field.subscribe is not None:
                field.subscribe = _wrap(field.subscribe, False)
            else:
                field.resolve = _wrap(field.resolve, typed)
            wrapped.append(f"{type_name}.{field_name}")
    return wrapped
