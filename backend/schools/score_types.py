"""GraphQL types of scoreboards: staff boards with names, and a student's own ranks."""

from __future__ import annotations

from datetime import date, timedelta
from enum import Enum

import strawberry

from backend.graphql.access import public_type
from backend.schools.periods import Period
from backend.schools.scoreboard import Board, MyRank
from backend.schools.scoring import Score


@strawberry.enum
class ScoreLevel(Enum):
    CLASS = "class"
    SCHOOL = "school"
    MUNICIPALITY = "municipality"


@strawberry.enum
class ScorePeriod(Enum):
    MONTH = "month"
    TERM = "term"
    SCHOOL_YEAR = "school_year"


@public_type
@strawberry.type(description="A scoring period: first and last day (school year March-February).")
class PeriodRange:
    kind: ScorePeriod
    label: str
    first_day: date
    last_day: date

    @classmethod
    def of(cls, period: Period) -> PeriodRange:
        return cls(kind=ScorePeriod(period.kind.value), label=period.label, first_day=period.start,
                   last_day=period.end - timedelta(days=1))


@public_type
@strawberry.type(description="One group's figures; per-student figures and rank are null when suppressed.")
class ScoreEntry:
    group_id: strawberry.ID
    name: str
    rank: int | None
    suppressed: bool = strawberry.field(description="Fewer enrolled students than the minimum: no score shown")
    enrolled: int
    participation_rate: float | None
    points_per_student: float | None
    deemed_kwh_per_student: float | None
    measured_kwh_per_student: float | None
    dr_delivery_rate: float | None = strawberry.field(description="DR reduction / contracted over settled events")
    points: int | None
    deemed_kwh: float | None
    measured_kwh: float | None

    @classmethod
    def of(cls, s: Score) -> ScoreEntry:
        t, hide = s.totals, s.suppressed
        return cls(group_id=strawberry.ID(str(t.group_id)), name=t.name, rank=s.rank, suppressed=hide,
                   enrolled=t.enrolled, participation_rate=s.participation_rate,
                   points_per_student=s.points_per_student, deemed_kwh_per_student=s.deemed_kwh_per_student,
                   measured_kwh_per_student=s.measured_kwh_per_student, dr_delivery_rate=s.dr_delivery_rate,
                   points=None if hide else t.points, deemed_kwh=None if hide else round(t.deemed_kwh, 3),
                   measured_kwh=None if hide else round(t.measured_kwh, 3))


@public_type
@strawberry.type(description="Ranked by points per enrolled student; ties share a rank.")
class Scoreboard:
    level: ScoreLevel
    scope_id: strawberry.ID | None
    period: PeriodRange
    min_students: int
    entries: list[ScoreEntry]

    @classmethod
    def of(cls, b: Board, min_students: int) -> Scoreboard:
        return cls(level=ScoreLevel(b.level.value),
                   scope_id=None if b.scope_id is None else strawberry.ID(str(b.scope_id)),
                   period=PeriodRange.of(b.period), min_students=min_students,
                   entries=[ScoreEntry.of(s) for s in b.scores])


@public_type
@strawberry.type(description="Where the student's own group stands, without other groups' names.")
class GroupRank:
    level: ScoreLevel
    rank: int | None
    ranked_groups: int
    suppressed: bool
    points_per_student: float | None

    @classmethod
    def of(cls, r: MyRank) -> GroupRank:
        return cls(level=ScoreLevel(r.level.value), rank=r.rank, ranked_groups=r.ranked, suppressed=r.suppressed,
                   points_per_student=r.points_per_student)


@public_type
@strawberry.type
class MyRanks:
    period: PeriodRange
    class_rank: GroupRank
    school_rank: GroupRank
