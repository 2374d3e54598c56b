"""Scoreboard arithmetic (pure): per-student normalising, small-group suppression, tie-stable ranks.

Groups (classes, schools, municipalities) are compared per enrolled student so a small school
can win. A group with fewer than ``min_students`` enrolled students gets no score and no rank:
figures of a handful of children could identify them (the same rule as the DR live view).
Ties share a rank (standard competition ranking, 1-2-2-4), and equal scores are listed in a
fixed order (by group id), so a refresh never reshuffles them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class GroupTotals:
    """What the database summed for one group over one period."""

    group_id: int
    name: str
    enrolled: int
    participants: int = 0
    deemed_kwh: float = 0.0
    measured_kwh: float = 0.0
    points: int = 0
    dr_reduction_kwh: float = 0.0
    dr_contracted_kwh: float = 0.0


@dataclass(frozen=True)
class Score:
    totals: GroupTotals
    suppressed: bool
    rank: int | None = None
    points_per_student: float | None = None
    deemed_kwh_per_student: float | None = None
    measured_kwh_per_student: float | None = None
    participation_rate: float | None = None
    dr_delivery_rate: float | None = None


def normalise(totals: GroupTotals, min_students: int) -> Score:
    """Per-student figures, or a suppressed score for a group that is too small."""
    n = totals.enrolled
    if n < min_students:
        return Score(totals, suppressed=True)
    delivery = (totals.dr_reduction_kwh / totals.dr_contracted_kwh) if totals.dr_contracted_kwh > 0 else None
    return Score(
        totals, suppressed=False, points_per_student=round(totals.points / n, 3),
        deemed_kwh_per_student=round(totals.deemed_kwh / n, 4),
        measured_kwh_per_student=round(totals.measured_kwh / n, 4),
        participation_rate=round(totals.participants / n, 4),
        dr_delivery_rate=None if delivery is None else round(delivery, 4),
    )


def rank(scores: list[Score]) -> list[Score]:
    """Rank unsuppressed scores by points per student (ties share a rank); suppressed ones last."""
    ranked = sorted((s for s in scores if not s.suppressed),
                    key=lambda s: (-(s.points_per_student or 0.0), s.totals.group_id))
    out: list[Score] = []
    previous: float | None = None
    current = 0
    for position, score in enumerate(ranked, start=1):
        if score.points_per_student != previous:
            current, previous = position, score.points_per_student
        out.append(replace(score, rank=current))
    hidden = sorted((s for s in scores if s.suppressed), key=lambda s: s.totals.group_id)
    return out + hidden


def scoreboard(totals: list[GroupTotals], min_students: int) -> list[Score]:
    return rank([normalise(t, min_students) for t in totals])
