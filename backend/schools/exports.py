"""Volunteer records for the 1365 portal and NEIS as CSV (UTF-8 with BOM, so Excel reads Hangul).

One row per student and day with volunteer minutes credited: student, class, date, place or
organiser, content, minutes (1365 keeps minutes) and NEIS whole hours. NEIS hours are counted on
the running total, so each row carries the minutes that do not yet make an hour and no minute
is lost or counted twice. Only students with a standing transfer consent are exported
(append-only ``TransferConsent``); every export is logged with who, when and which students.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date

from backend.accounts.models import Role, User
from backend.accounts.principal import Principal
from backend.codes import age_on
from backend.errors import NotAllowed, ValidationFailed
from backend.ledger.entries import Asset
from backend.ledger.models import LedgerEntry
from backend.municipalities.models import Municipality
from backend.rewards.programmes import local_date, local_day_bounds
from backend.schools.models import School, SchoolClass, TransferConsent, VolunteerExport
from backend.schools.periods import Period

HEADER = ["학생 Student", "학년반 Class", "날짜 Date", "장소·주관 Place/organiser", "활동 내용 Content",
          "인정 분 Minutes (1365)", "NEIS 시간 Hours", "이월 분 Carried minutes"]
CONTENT = "가정 에너지 절약 활동 (People's VPP) Household energy saving"


async def set_transfer_consent(principal: Principal, student_id: int, given: bool, consent_age: int,
                               today: date) -> TransferConsent:
    """A guardian records (or withdraws) the student's consent; a student old enough may do so too."""
    student = await User.get_or_none(id=student_id)
    if student is None or student.role is not Role.STUDENT:
        raise NotAllowed("Only a student's guardian (or the student from 14) decides this.")
    own = principal.user_id == student.id and student.birth_date is not None and age_on(
        student.birth_date, today) >= consent_age
    if not (principal.is_guardian_of(student.id) or own):
        raise NotAllowed("Only a student's guardian (or the student from 14) decides this.")
    return await TransferConsent.create(student=student, given_by_id=principal.user_id,
                                        action="given" if given else "withdrawn")


async def consented(student_ids: list[int]) -> set[int]:
    """Students whose latest transfer-consent record is ``given``."""
    latest: dict[int, str] = {}
    for sid, action in await TransferConsent.filter(student_id__in=student_ids).order_by("id").values_list(
            "student_id", "action"):
        latest[sid] = action
    return {sid for sid, action in latest.items() if action == "given"}


def neis_rows(daily: list[tuple[date, int]]) -> list[tuple[date, int, int, int]]:
    """(day, minutes, NEIS whole hours credited that day, minutes carried after it)."""
    out, total = [], 0
    for day, minutes in daily:
        before, total = total, total + minutes
        out.append((day, minutes, total // 60 - before // 60, total % 60))
    return out


async def export_csv(principal: Principal, school_id: int, class_id: int | None, period: Period,
                     tz: str) -> tuple[str, VolunteerExport]:
    school = await School.get_or_none(id=school_id)
    if school is None or not (principal.is_operator or principal.is_staff_of_school(school_id)):
        raise NotAllowed("Only the school's staff export its volunteer records.")
    if class_id is not None and not await SchoolClass.exists(id=class_id, school_id=school_id):
        raise ValidationFailed("classId", "No such class at this school.")
    if not principal.keeps_school_record_of(school_id, class_id) or (
            class_id is None and principal.role is Role.TEACHER and principal.school_class_id is not None):
        raise NotAllowed("A class teacher exports their own class.")
    query = User.filter(role=Role.STUDENT, school_id=school_id)
    if class_id is not None:
        query = query.filter(school_class_id=class_id)
    students = list(await query.order_by("school_class_id", "display_name", "id"))
    allowed = await consented([s.id for s in students])
    chosen = [s for s in students if s.id in allowed]
    classes = dict(await SchoolClass.filter(school_id=school_id).values_list("id", "name"))
    municipality = await Municipality.get(id=school.municipality_id)
    since, until = local_day_bounds(period.start, tz)[0], local_day_bounds(period.end, tz)[0]
    by_account = {str(s.pseudonym): s for s in chosen}
    daily: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    entries = await LedgerEntry.filter(account__in=[s.pseudonym for s in chosen], asset=Asset.VOLUNTEER_MINUTES,
                                       recorded_at__gte=since, recorded_at__lt=until).values_list(
        "account", "amount", "recorded_at") if chosen else []
    for account, amount, at in entries:
        daily[by_account[str(account)].id][local_date(at, tz)] += amount
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    place = f"{school.name} · {municipality.name} People's VPP"
    rows = 0
    for s in chosen:
        for day, minutes, hours, carry in neis_rows(sorted(daily[s.id].items())):
            writer.writerow([s.display_name, classes.get(s.school_class_id, ""), day.isoformat(), place, CONTENT,
                             minutes, hours, carry])
            rows += 1
    log = await VolunteerExport.create(exported_by_id=principal.user_id, school_id=school_id, school_class_id=class_id,
                                       period_start=period.start, period_end=period.end,
                                       student_ids=[s.id for s in chosen], withheld=len(students) - len(chosen),
                                       rows=rows)
    return "\ufeff" + buffer.getvalue(), log
