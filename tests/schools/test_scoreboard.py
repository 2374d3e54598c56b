"""Scoreboards from the database: figures per class and school, suppression, who sees what."""

from __future__ import annotations

from backend.codes import local_today, new_code
from backend.schools.models import School, SchoolClass
from tests.builders import build_world, gql, sign_in, start_programmes
from tests.schools.support import add_activity, add_students, award_points, settled_dr

BOARD = """
query($level: ScoreLevel!, $scope: ID) { scoreboard(level: $level, scopeId: $scope, period: MONTH) {
  __typename ... on Error { message }
  ... on Scoreboard { period { label } entries { groupId name rank suppressed enrolled participationRate
      pointsPerStudent deemedKwhPerStudent measuredKwhPerStudent drDeliveryRate points } } } }"""
RANKS = """
query { myRanks(period: SCHOOL_YEAR) { __typename ... on Error { message }
  ... on MyRanks { classRank { rank rankedGroups suppressed pointsPerStudent }
                   schoolRank { rank rankedGroups suppressed pointsPerStudent } } } }"""


async def _setup(settings):
    w = await build_world()
    programme, _ = await start_programmes(w)
    today = local_today(settings.display_timezone)
    a = w.class_a  # student_a1, student_a2 and four more: 6 enrolled
    extra = await add_students(a, 4, w.muni_a.id, "a")
    small = await SchoolClass.create(school=w.school_a, name="2-9", grade=8, year=2026, join_code=new_code())
    tiny = await add_students(small, 3, w.muni_a.id, "t")  # 3 enrolled: suppressed
    other = await School.create(name="Small school", municipality=w.muni_a)
    other_class = await SchoolClass.create(school=other, name="1-1", grade=7, year=2026, join_code=new_code())
    rivals = await add_students(other_class, 5, w.muni_a.id, "r")
    students_a = [w.family_a1.student, w.family_a2.student, *extra]
    for s in students_a[:3]:
        await add_activity(s, programme, today, "0.5", 100)
    await add_activity(students_a[3], programme, today, "9.0", 100, status="rejected")  # does not count
    await award_points([(s, 100) for s in students_a[:3]] + [(t, 5_000) for t in tiny] + [(r, 200) for r in rivals])
    await settled_dr(w.muni_a.id, w.family_a1.household.id, reduction=1.5, contracted=2.0)
    return w, other, small


async def test_staff_see_classes_with_figures_per_student_and_small_classes_suppressed(client, db):
    w, other, small = await _setup(db)
    teacher = await sign_in(client, w.teacher_a.email)
    board = (await gql(client, BOARD, {"level": "CLASS", "scope": None}, teacher))["data"]["scoreboard"]
    entries = {e["groupId"]: e for e in board["entries"]}
    a = entries[str(w.class_a.id)]
    assert (a["rank"], a["name"], a["enrolled"], a["points"], a["suppressed"]) == (1, "2-1", 6, 300, False)
    assert a["pointsPerStudent"] == 50.0 and a["participationRate"] == 0.5
    assert a["deemedKwhPerStudent"] == 0.25 and a["measuredKwhPerStudent"] == 0.25 and a["drDeliveryRate"] == 0.75
    s = entries[str(small.id)]  # 5,000 points each, but only 3 students: no score, no rank
    assert (s["suppressed"], s["rank"], s["pointsPerStudent"], s["points"]) == (True, None, None, None)
    schools = (await gql(client, BOARD, {"level": "SCHOOL", "scope": str(w.muni_a.id)}, teacher))["data"]["scoreboard"]
    ranked = [(e["name"], e["rank"], e["pointsPerStudent"]) for e in schools["entries"]]
    # school A: 300 + 15,000 points over 9 students = 1,700; the small school 1,000 over 5 = 200
    assert ranked == [("School A", 1, 1700.0), ("Small school", 2, 200.0)]


async def test_students_see_only_their_own_ranks_and_others_no_board(client, db):
    w, other, _ = await _setup(db)
    student = await sign_in(client, w.family_a1.student.email)
    ranks = (await gql(client, RANKS, token=student))["data"]["myRanks"]
    assert ranks["classRank"] == {"rank": 1, "rankedGroups": 1, "suppressed": False, "pointsPerStudent": 50.0}
    assert ranks["schoolRank"]["rank"] == 1 and ranks["schoolRank"]["rankedGroups"] == 2
    board = (await gql(client, BOARD, {"level": "CLASS", "scope": str(w.school_a.id)}, student))["data"]
    assert board["scoreboard"]["__typename"] == "NotAllowed"
    parent = await sign_in(client, w.family_a1.parent.email)
    assert (await gql(client, RANKS, token=parent))["data"]["myRanks"]["__typename"] == "NotAllowed"
    teacher_b = await sign_in(client, w.teacher_b.email)
    denied = (await gql(client, BOARD, {"level": "CLASS", "scope": str(w.school_a.id)}, teacher_b))["data"]
    assert denied["scoreboard"]["__typename"] == "NotAllowed"
    officer = await sign_in(client, w.officer_a.email)
    cities = (await gql(client, BOARD, {"level": "MUNICIPALITY", "scope": None}, officer))["data"]["scoreboard"]
    assert [e["name"] for e in cities["entries"]] == ["Naju-si", "Gwangsan-gu"]  # B has 1 student: suppressed last
    assert cities["entries"][1]["suppressed"] is True
