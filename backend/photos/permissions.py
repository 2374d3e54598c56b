"""Who may see and who may review a photo: pure rules on the uploader's ids.

- the uploader sees their own photos (and only uploads for their own activities);
- reviewers: a linked guardian of the uploader; a teacher of the uploader's school (only
  their class when the teacher is assigned to one); the school's admins; operators;
- nobody reviews their own photo.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.accounts.models import Role
from backend.accounts.principal import Principal


@dataclass(frozen=True, slots=True)
class Uploader:
    user_id: int
    school_id: int | None
    school_class_id: int | None


def may_review(principal: Principal, uploader: Uploader) -> bool:
    if principal.user_id == uploader.user_id:
        return False
    if principal.is_operator or principal.is_guardian_of(uploader.user_id):
        return True
    if uploader.school_id is None or principal.school_id != uploader.school_id:
        return False
    if principal.role is Role.SCHOOL_ADMIN:
        return True
    if principal.role is Role.TEACHER:
        return principal.school_class_id is None or principal.school_class_id == uploader.school_class_id
    return False


def may_view(principal: Principal, uploader: Uploader) -> bool:
    return principal.user_id == uploader.user_id or may_review(principal, uploader)


def is_reviewer(principal: Principal) -> bool:
    """Whether the review queue could hold anything for this principal."""
    return principal.is_operator or principal.role in (Role.TEACHER, Role.SCHOOL_ADMIN) or bool(principal.children_ids)
