"""School logic: schools, classes and joining a class."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from backend.accounts.models import Role, User
from backend.accounts.principal import Principal
from backend.codes import local_today, new_code, normalise_code
from backend.errors import AlreadyExists, NotAllowed, ValidationFailed
from backend.municipalities.models import Municipality
from backend.schools.models import School, SchoolClass


async def class_by_join_code(code: str) -> SchoolClass:
    school_class = await SchoolClass.get_or_none(join_code=normalise_code(code))
    if school_class is None:
        raise ValidationFailed("classCode", "This class code is not valid.")
    return school_class


async def create_school(principal: Principal, name: str, municipality_id: int) -> School:
    """Operators create schools anywhere; officers in their own municipality."""
    if not principal.can_view_municipality_data(municipality_id):
        raise NotAllowed("You can only add schools to your own municipality.")
    if not await Municipality.exists(id=municipality_id):
        raise ValidationFailed("municipalityId", "No such municipality.")
    return await School.create(name=name, municipality_id=municipality_id)


async def create_class(
    principal: Principal, school_id: int, name: str, grade: int, year: int | None, tz: str
) -> SchoolClass:
    if not principal.can_view_school_people(school_id):
        raise NotAllowed("Only staff of this school can add classes.")
    if not await School.exists(id=school_id):
        raise ValidationFailed("schoolId", "No such school.")
    if not 1 <= grade <= 12:
        raise ValidationFailed("grade", "Grade must be between 1 and 12.")
    year = year or local_today(tz).year
    for _ in range(5):
        try:
            return await SchoolClass.create(
                school_id=school_id, name=name, grade=grade, year=year,
                join_code=new_code(),
            )
        except IntegrityError:
            if await SchoolClass.exists(school_id=school_id, year=year, name=name):
                raise AlreadyExists("name", "This school already has a class with that name this year.") from None
    raise RuntimeError("could not draw a unique class code")


async def join_class(principal: Principal, class_code: str) -> User:
    if principal.role is not Role.STUDENT:
        raise NotAllowed("Only students join classes.")
    school_class = await class_by_join_code(class_code)
    user = await User.get(id=principal.user_id)
    user.school_class_id = school_class.id
    user.school_id = school_class.school_id
    await user.save(update_fields=["school_class_id", "school_id"])
    return user
