"""Per-request DataLoaders: every relation is fetched in one query per level, never per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Coroutine, Sequence
from functools import cached_property
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from backend.accounts.models import GuardianLink, Role, User
from backend.households.models import Household
from backend.municipalities.models import Municipality
from backend.schools.models import School, SchoolClass

LoadFn = Callable[[Sequence[int]], Coroutine[Any, Any, list[Any]]]


def by_id(model: type[Model]) -> LoadFn:
    async def load(keys: Sequence[int]) -> list[Any]:
        rows = {row.pk: row for row in await model.filter(pk__in=list(keys))}
        return [rows.get(key) for key in keys]

    return load


def grouped(model: type[Model], key_field: str, order_by: str = "id", **filters: Any) -> LoadFn:
    async def load(keys: Sequence[int]) -> list[list[Any]]:
        groups: dict[int, list[Any]] = defaultdict(list)
        rows = await model.filter(**{f"{key_field}__in": list(keys)}, **filters).order_by(order_by)
        for row in rows:
            groups[getattr(row, key_field)].append(row)
        return [groups.get(key, []) for key in keys]

    return load


class Loaders:
    """Created lazily, one per request, so unused loaders cost nothing."""

    @cached_property
    def user(self) -> DataLoader[int, User | None]:
        return DataLoader(by_id(User))

    @cached_property
    def household(self) -> DataLoader[int, Household | None]:
        return DataLoader(by_id(Household))

    @cached_property
    def school(self) -> DataLoader[int, School | None]:
        return DataLoader(by_id(School))

    @cached_property
    def school_class(self) -> DataLoader[int, SchoolClass | None]:
        return DataLoader(by_id(SchoolClass))

    @cached_property
    def municipality(self) -> DataLoader[int, Municipality | None]:
        return DataLoader(by_id(Municipality))

    def _users_grouped(self, key_field: str, **filters: Any) -> DataLoader[int, list[User]]:
        """Users by a scope column; each user found also fills the by-id loader."""
        load = grouped(User, key_field, **filters)

        async def load_and_prime(keys: Sequence[int]) -> list[list[User]]:
            groups = await load(keys)
            for group in groups:
                for user in group:
                    self.user.prime(user.id, user)
            return groups

        return DataLoader(load_and_prime)

    @cached_property
    def household_members(self) -> DataLoader[int, list[User]]:
        return self._users_grouped("household_id")

    @cached_property
    def class_students(self) -> DataLoader[int, list[User]]:
        return self._users_grouped("school_class_id", role=Role.STUDENT)

    @cached_property
    def school_staff(self) -> DataLoader[int, list[User]]:
        return self._users_grouped("school_id", role__in=[Role.TEACHER, Role.SCHOOL_ADMIN])

    @cached_property
    def school_classes(self) -> DataLoader[int, list[SchoolClass]]:
        return DataLoader(grouped(SchoolClass, "school_id", order_by="name"))

    @cached_property
    def municipality_schools(self) -> DataLoader[int, list[School]]:
        return DataLoader(grouped(School, "municipality_id", order_by="name"))

    @cached_property
    def links_by_student(self) -> DataLoader[int, list[GuardianLink]]:
        return DataLoader(grouped(GuardianLink, "student_id"))

    @cached_property
    def links_by_guardian(self) -> DataLoader[int, list[GuardianLink]]:
        return DataLoader(grouped(GuardianLink, "guardian_id"))
