"""Queries of the schools domain."""

from __future__ import annotations

from datetime import date

import strawberry

from backend.errors import NotAllowed as NotAllowedError
from backend.graphql.context import Info
from backend.graphql.errors import NotAllowed, ValidationFailed, result_union
from backend.graphql.permissions import IsAuthenticated
from backend.graphql.results import parse_id, parse_id_argument, require_principal, returns_errors
from backend.schools.models import School as SchoolModel
from backend.codes import local_today
from backend.schools import scoreboard as boards
from backend.schools.periods import PeriodKind, period_of
from backend.schools.score_types import GroupRank, MyRanks, PeriodRange, Scoreboard, ScoreLevel, ScorePeriod
from backend.schools.types import School, SchoolClass

SchoolResult = result_union("SchoolResult", School, NotAllowed, ValidationFailed)
SchoolClassResult = result_union("SchoolClassResult", SchoolClass, NotAllowed, ValidationFailed)
ScoreboardResult = result_union("ScoreboardResult", Scoreboard, NotAllowed, ValidationFailed)
MyRanksResult = result_union("MyRanksResult", MyRanks, NotAllowed, ValidationFailed)
MAX_PAGE = 200


@strawberry.type
class SchoolQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Schools by name (public facts), paged.")
    async def schools(
        self, info: Info, municipality_id: strawberry.ID | None = None, first: int = 50, offset: int = 0
    ) -> list[School]:
        query = SchoolModel.all().order_by("name", "id")
        if municipality_id is not None:
            query = query.filter(municipality_id=parse_id_argument(municipality_id, "municipalityId"))
        rows = await query.offset(max(offset, 0)).limit(min(max(first, 0), MAX_PAGE))
        return [School.from_model(s) for s in rows]

    @strawberry.field(permission_classes=[IsAuthenticated])
    @returns_errors
    async def school(self, info: Info, id: strawberry.ID) -> SchoolResult:
        row = await info.context.loaders.school.load(parse_id(id, "id"))
        if row is None:
            raise NotAllowedError("You cannot see this school.")
        return School.from_model(row)

    @strawberry.field(permission_classes=[IsAuthenticated])
    @returns_errors
    async def school_class(self, info: Info, id: strawberry.ID) -> SchoolClassResult:
        principal = require_principal(info)
        row = await info.context.loaders.school_class.load(parse_id(id, "id"))
        if row is None or not (
            principal.can_view_school_people(row.school_id) or principal.school_class_id == row.id
        ):
            raise NotAllowedError("You cannot see this class.")
        return SchoolClass.from_model(row)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Classes of a school, schools of a municipality, or municipalities, ranked per "
                                  "enrolled student over a period (staff; small groups suppressed).")
    @returns_errors
    async def scoreboard(self, info: Info, level: ScoreLevel, scope_id: strawberry.ID | None = None,
                         period: ScorePeriod = ScorePeriod.MONTH, on: date | None = None) -> ScoreboardResult:
        settings = info.context.settings
        lvl = boards.Level(level.value)
        scope = await boards.check_scope(require_principal(info), lvl,
                                         None if scope_id is None else parse_id(scope_id, "scopeId"))
        day = boards.period_day(on, local_today(settings.display_timezone))
        board = await boards.board(lvl, scope, period_of(PeriodKind(period.value), day),
                                   settings.display_timezone, settings.scoreboard_min_students)
        return Scoreboard.of(board, settings.scoreboard_min_students)

    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="A student's class rank in their school and school rank in their municipality.")
    @returns_errors
    async def my_ranks(self, info: Info, period: ScorePeriod = ScorePeriod.MONTH,
                       on: date | None = None) -> MyRanksResult:
        settings = info.context.settings
        principal = require_principal(info)
        day = boards.period_day(on, local_today(settings.display_timezone))
        p = period_of(PeriodKind(period.value), day)
        class_rank, school_rank = await boards.my_ranks(principal, p, settings.display_timezone,
                                                        settings.scoreboard_min_students)
        return MyRanks(period=PeriodRange.of(p), class_rank=GroupRank.of(class_rank),
                       school_rank=GroupRank.of(school_rank))
