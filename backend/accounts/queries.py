"""Queries of the accounts domain."""

from __future__ import annotations


import strawberry

from backend.accounts import privacy
from backend.accounts.models import User as UserModel
from backend.accounts.types import DataExport, User
from backend.errors import NotAllowed as NotAllowedError
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors

UserResult = result_union("UserResult", User, NotAllowed, ValidationFailed)
DataExportResult = result_union("DataExportResult", DataExport, NotAllowed, ValidationFailed)


@strawberry.type
class AccountQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="The signed-in user.")
    async def me(self, info: Info) -> User:
        principal = require_principal(info)
        row = await info.context.loaders.user.load(principal.user_id)
        return User.from_model(row)

    @strawberry.field(permission_classes=[IsAuthenticated])
    @returns_errors
    async def user(self, info: Info, id: strawberry.ID) -> UserResult:
        principal = require_principal(info)
        row: UserModel | None = await info.context.loaders.user.load(parse_id(id, "id"))
        if row is None or not principal.can_view_user(row.id, row.household_id, row.school_id):
            raise NotAllowedError("You cannot see this user.")
        return User.from_model(row)

    @strawberry.field(permission_classes=[IsAuthenticated], description="Everything held about you, as JSON.")
    @returns_errors
    async def export_my_data(self, info: Info) -> DataExportResult:
        principal = require_principal(info)
        data = await privacy.export_user_data(principal, principal.user_id, info.context.settings.display_timezone)
        return DataExport(data=data)

    @strawberry.field(permission_classes=[IsAuthenticated], description="Everything held about your child, as JSON.")
    @returns_errors
    async def export_child_data(self, info: Info, student_id: strawberry.ID) -> DataExportResult:
        principal = require_principal(info)
        student = parse_id(student_id, "studentId")
        if not principal.is_guardian_of(student):
            raise NotAllowedError("Only a guardian can export a child's data.")
        data = await privacy.export_user_data(principal, student, info.context.settings.display_timezone)
        return DataExport(data=data)
