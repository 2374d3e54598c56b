"""The demo's people and places: municipality, schools, classes, staff, families, programme.

The eight documented accounts keep their passwords; the other families' members get a hash of
a random secret nobody knows (they exist for the scoreboards and reports, not to sign in).
Idempotent: rows are found by their unique keys (email, invite code, names) before creating.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from backend.accounts.models import ConsentAction, ConsentRecord, GuardianLink, Role, User
from backend.accounts.consent import CONSENT_NOTICE_VERSION
from backend.accounts.passwords import hash_password
from backend.households.models import Household
from backend.households.service import link_guardians
from backend.codes import local_today
from backend.municipalities.models import Municipality
from backend.rewards.formula import available_years
from backend.rewards.models import Programme, ProgrammeEnrolment
from backend.schools.models import School, SchoolClass
from backend.demo.plan import SCHOOLS, Family, Plan


@dataclass(frozen=True)
class DemoUser:
    role: Role
    email: str
    password: str
    display_name: str
    note: str = ""


def _birth_date(age: int) -> date:
    today = datetime.now(UTC).date()
    return date(today.year - age, 3, 1)


async def _user(spec: DemoUser, password_hash: str | None = None, **scope) -> User:
    existing = await User.get_or_none(email=spec.email)
    if existing:
        return existing
    if spec.password:
        password_hash = await hash_password(spec.password)
    return await User.create(
        pseudonym=uuid.uuid4(), email=spec.email, password_hash=password_hash,
        display_name=spec.display_name, role=spec.role, **scope,
    )


DEMO_USERS = {
    "operator": DemoUser(Role.OPERATOR, "operator@demo.pvpp.kr", "demo-Operator-1!", "KPX Operator"),
    "officer": DemoUser(Role.OFFICER, "officer@demo.pvpp.kr", "demo-Officer-1!", "Naju Officer"),
    "admin": DemoUser(Role.SCHOOL_ADMIN, "schooladmin@demo.pvpp.kr", "demo-Admin-1!", "Principal Kim"),
    "teacher": DemoUser(Role.TEACHER, "teacher@demo.pvpp.kr", "demo-Teacher-1!", "Teacher Lee"),
    "parent1": DemoUser(Role.PARENT, "parent1@demo.pvpp.kr", "demo-Parent-1!", "Park Jiyoung"),
    "student1": DemoUser(Role.STUDENT, "student1@demo.pvpp.kr", "demo-Student-1!", "Park Minjun", "13, guardian consent given"),
    "parent2": DemoUser(Role.PARENT, "parent2@demo.pvpp.kr", "demo-Parent-2!", "Choi Sunhee"),
    "student2": DemoUser(Role.STUDENT, "student2@demo.pvpp.kr", "demo-Student-2!", "Choi Yuna", "15"),
}


@dataclass
class Population:
    """The rows the history refers to, by plan index."""

    municipality: Municipality
    schools: list[School]
    programme: Programme
    parents: dict[int, User] = field(default_factory=dict)
    students: dict[int, User] = field(default_factory=dict)
    households: dict[int, Household] = field(default_factory=dict)
    staff: dict[str, User] = field(default_factory=dict)

    def teacher_of(self, school: int) -> User:
        return self.staff["teacher" if school == 0 else f"teacher{school}"]


async def _consent(parent: User, student: User) -> None:
    await link_guardians(student)
    link = await GuardianLink.get(guardian=parent, student=student)
    if link.consent_given_at is None:
        link.consent_given_at = datetime.now(UTC)
        await link.save(update_fields=["consent_given_at"])
        await ConsentRecord.create(link=link, action=ConsentAction.GIVEN, notice_version=CONSENT_NOTICE_VERSION)


async def load_demo_data() -> list[DemoUser]:
    """The documented accounts only (two families, staff); return the sign-in table."""
    from backend.demo.plan import DemoConfig, make_plan

    plan = make_plan(DemoConfig(households=2), local_today("Asia/Seoul"))
    await ensure_population(plan)
    return list(DEMO_USERS.values())


async def ensure_population(plan: Plan) -> Population:
    """Create whatever of the plan's people and places does not exist yet."""
    naju, _ = await Municipality.get_or_create(code="46170", defaults={"name": "Naju-si (나주시)"})
    year = datetime.now(UTC).year
    schools, classes = [], {}
    for s, (name, class_names) in enumerate(SCHOOLS):
        school, _ = await School.get_or_create(name=name, municipality=naju)
        schools.append(school)
        for c, class_name in enumerate(class_names):
            join = "DEMO2CLS" if (s, class_name) == (0, "2-1") else f"DEMO{s}C{c}X"
            classes[(s, class_name)], _ = await SchoolClass.get_or_create(
                school=school, year=year, name=class_name,
                defaults={"grade": 6 + int(class_name[0]), "join_code": join})
    pop = Population(naju, schools, await _demo_programme(naju, schools))
    pop.staff["teacher"] = await _user(DEMO_USERS["teacher"], school_id=schools[0].id)
    pop.staff["operator"] = await _user(DEMO_USERS["operator"])
    pop.staff["officer"] = await _user(DEMO_USERS["officer"], municipality_id=naju.id)
    pop.staff["admin"] = await _user(DEMO_USERS["admin"], school_id=schools[0].id)
    unusable = await hash_password(secrets.token_urlsafe(24))
    for s, school in enumerate(schools[1:], start=1):
        spec = DemoUser(Role.TEACHER, f"teacher{s + 1}@demo.pvpp.kr", "", f"Teacher of {school.name.split(' (')[0]}")
        pop.staff[f"teacher{s}"] = await _user(spec, password_hash=unusable, school_id=school.id)
    for family in plan.families:
        await _family(pop, family, classes[(family.school, family.class_name)], unusable)
    return pop


async def _family(pop: Population, family: Family, school_class: SchoolClass, unusable: str | None) -> None:
    household, _ = await Household.get_or_create(
        invite_code=family.invite_code, defaults={"name": family.name, "municipality": pop.municipality})
    n = family.demo_number
    parent_spec = DEMO_USERS[f"parent{n}"] if n else DemoUser(Role.PARENT, family.parent_email, "", family.parent_name)
    student_spec = DEMO_USERS[f"student{n}"] if n else DemoUser(Role.STUDENT, family.student_email, "",
                                                                  family.student_name)
    parent = await _user(parent_spec, password_hash=unusable, household_id=household.id)
    student = await _user(student_spec, password_hash=unusable, household_id=household.id,
                          birth_date=_birth_date(family.student_age), school_id=school_class.school_id,
                          school_class_id=school_class.id)
    await _consent(parent, student)
    pop.households[family.index], pop.parents[family.index], pop.students[family.index] = household, parent, student


async def _demo_programme(naju: Municipality, schools: list[School]) -> Programme:
    """This year's Naju programme with the demo schools enrolled."""
    year = local_today("Asia/Seoul").year
    rules_year = max((y for y in available_years() if y <= year), default=min(available_years()))
    programme, _ = await Programme.get_or_create(
        municipality=naju, year=year,
        defaults={"name": f"Naju People's VPP {year} (나주 시민발전소)", "rules_year": rules_year,
                  "starts_on": date(year, 1, 1), "ends_on": date(year, 12, 31), "coin_budget_won": 50_000_000},
    )
    for school in schools:
        await ProgrammeEnrolment.get_or_create(programme=programme, school=school)
    return programme


def sign_in_table(users: list[DemoUser]) -> str:
    lines = ["Demo accounts (sign in with the signIn mutation):"]
    for u in users:
        note = f"  ({u.note})" if u.note else ""
        lines.append(f"  {u.role.value:<13} {u.email:<28} {u.password}{note}")
    return "\n".join(lines)
