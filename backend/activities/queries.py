"""Queries of the activities domain."""

from __future__ import annotations


import strawberry

from backend.accounts.models import Role
from backend.activities import catalogue as cat
from backend.activities.models import Activity as ActivityModel
from backend.activities.types import Activity, ActivityList, ActivityType
from backend.errors import NotAllowed as NotAllowedError
from backend.errors import ValidationFailed as ValidationFailedError
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, require_principal, returns_errors

ActivityListResult = result_union("ActivityListResult", ActivityList, NotAllowed, ValidationFailed)


async def target_user_id(info: Info, user_id: strawberry.ID | None, what: str) -> int:
    """The user whose data is asked for: oneself, a guardian's child, anyone for operators, or a
    student of the school whose record the caller keeps (school staff)."""
    principal = require_principal(info)
    if user_id is None:
        return principal.user_id
    wanted = parse_id(user_id, "userId")
    if wanted == principal.user_id or principal.is_guardian_of(wanted) or principal.is_operator:
        return wanted
    if principal.is_school_staff:
        student = await info.context.loaders.user.load(wanted)
        if (student is not None and student.role is Role.STUDENT
                and principal.keeps_school_record_of(student.school_id, student.school_class_id)):
            return wanted
    raise NotAllowedError(f"Only the person, their guardian, their school's staff or an operator can see {what}.")


@strawberry.type
class ActivityQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="The activity catalogue in force.")
    def activity_types(self) -> list[ActivityType]:
        catalogue = cat.load_catalogue()
        return [ActivityType.from_catalogue(t, catalogue.version) for t in catalogue.types]

    @strawberry.field(permission_classes=[IsAuthenticated], description="Reported activities, newest first.")
    @returns_errors
    async def activities(self, info: Info, user_id: strawberry.ID | None = None, limit: int = 50) -> ActivityListResult:
        owner = await target_user_id(info, user_id, "activities")
        if not 1 <= limit <= 200:
            raise ValidationFailedError("limit", "limit must be between 1 and 200.")
        rows = await ActivityModel.filter(user_id=owner).order_by("-occurred_on", "-id").limit(limit)
        return ActivityList(items=[Activity.from_model(a) for a in rows])
