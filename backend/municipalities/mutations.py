"""Mutations of the municipalities domain."""

from __future__ import annotations


import strawberry

from backend.accounts.validation import clean_name
from backend.graphql.context import Info
from backend.graphql.errors import AlreadyExists, NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import require_principal, returns_errors
from backend.municipalities import service
from backend.municipalities.types import Municipality

MunicipalityChangeResult = result_union("MunicipalityChangeResult", Municipality, NotAllowed, ValidationFailed,
                                        AlreadyExists)


@strawberry.type
class MunicipalityMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated])
    @returns_errors
    async def create_municipality(self, info: Info, name: str, code: str) -> MunicipalityChangeResult:
        municipality = await service.create_municipality(
            require_principal(info), clean_name(name, "name", 120), code[:20]
        )
        return Municipality.from_model(municipality)
