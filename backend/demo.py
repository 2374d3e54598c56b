"""Demo data for local use: one municipality, school, class, teacher, two families, staff.

Loading is idempotent: running it again leaves existing rows alone.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from backend.accounts.models import ConsentAction, ConsentRecord, GuardianLink, Role, User
from backend.accounts.consent import CONSENT_NOTICE_VERSION
from backend.accounts.passwords import hash_password
from backend.db import close_db, init_db
from backend.households.models import Household
from backend.households.service import link_guardians
from backend.codes import local_today
from backend.municipalities.models import Municipality
from backend.rewards.formula import available_years
from backend.rewards.models import Programme, ProgrammeEnrolment
from backend.schools.models import School, SchoolClass
from backend.settings import Settings


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


async def _user(spec: DemoUser, **scope) -> User:
    existing = await User.get_or_none(email=spec.email)
    if existing:
        return existing
    return await User.create(
        pseudonym=uuid.uuid4(), email=spec.email, password_hash=await hash_password(spec.password),
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


async def load_demo_data() -> list[DemoUser]:
    """Create the demo rows that do not exist yet; return the sign-in table."""
    naju, _ = await Municipality.get_or_create(code="46170", defaults={"name": "Naju-si (나주시)"})
    school, _ = await School.get_or_create(name="Bitgaram Middle School (빛가람중학교)", municipality=naju)
    await _user(DEMO_USERS["teacher"], school_id=school.id)
    school_class, _ = await SchoolClass.get_or_create(
        school=school, year=datetime.now(UTC).year, name="2-1",
        defaults={"grade": 8, "join_code": "DEMO2CLS"},
    )
    await _user(DEMO_USERS["operator"])
    await _user(DEMO_USERS["officer"], municipality_id=naju.id)
    await _user(DEMO_USERS["admin"], school_id=school.id)
    for n, age in (("1", 13), ("2", 15)):
        household, _ = await Household.get_or_create(
            invite_code=f"DEMOHOME{n}", defaults={"name": f"Demo household {n}", "municipality": naju}
        )
        parent = await _user(DEMO_USERS[f"parent{n}"], household_id=household.id)
        student = await _user(
            DEMO_USERS[f"student{n}"], household_id=household.id, birth_date=_birth_date(age),
            school_id=school.id, school_class_id=school_class.id,
        )
        await link_guardians(student)
        link = await GuardianLink.get(guardian=parent, student=student)
        if link.consent_given_at is None:
            link.consent_given_at = datetime.now(UTC)
            await link.save(update_fields=["consent_given_at"])
            await ConsentRecord.create(link=link, action=ConsentAction.GIVEN, notice_version=CONSENT_NOTICE_VERSION)
    await _demo_programme(naju, school)
    return list(DEMO_USERS.values())


async def _demo_programme(naju: Municipality, school: School) -> None:
    """This year's Naju programme with the demo school enrolled."""
    year = local_today("Asia/Seoul").year
    rules_year = max((y for y in available_years() if y <= year), default=min(available_years()))
    programme, _ = await Programme.get_or_create(
        municipality=naju, year=year,
        defaults={"name": f"Naju People's VPP {year} (나주 시민발전소)", "rules_year": rules_year,
                  "starts_on": date(year, 1, 1), "ends_on": date(year, 12, 31), "coin_budget_won": 50_000_000},
    )
    await ProgrammeEnrolment.get_or_create(programme=programme, school=school)


def sign_in_table(users: list[DemoUser]) -> str:
    lines = ["Demo accounts (sign in with the signIn mutation):"]
    for u in users:
        note = f"  ({u.note})" if u.note else ""
        lines.append(f"  {u.role.value:<13} {u.email:<28} {u.password}{note}")
    return "\n".join(lines)


def load_demo_data_cli(settings: Settings) -> int:
    async def _run() -> list[DemoUser]:
        await init_db(settings)
        try:
            return await load_demo_data()
        finally:
            await close_db()

    users = asyncio.run(_run())
    print(sign_in_table(users))
    print(
        "\nExample:\n  curl -s http://%s:%d/graphql -H 'content-type: application/json' \\\n"
        "    -d '{\"query\":\"mutation { signIn(email: \\\"%s\\\", password: \\\"%s\\\") "
        "{ __typename ... on AuthPayload { accessToken } } }\"}'"
        % (settings.host, settings.port, users[5].email, users[5].password)
    )
    return 0
