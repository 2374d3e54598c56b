"""Account models: users, sessions with refresh tokens, guardian links and consent records."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    STUDENT = "student"
    PARENT = "parent"
    TEACHER = "teacher"
    SCHOOL_ADMIN = "school_admin"
    OFFICER = "officer"
    OPERATOR = "operator"


class ConsentAction(StrEnum):
    GIVEN = "given"
    WITHDRAWN = "withdrawn"


class User(Model):
    """A person using the platform.

    Scope columns say what the user belongs to: ``household`` for students and parents,
    ``school`` (and ``school_class``) for students and school staff, ``municipality`` for
    officers. ``pseudonym`` is the only id that leaves the accounts domain (ledger, logs).
    """

    id = fields.IntField(primary_key=True)
    pseudonym = fields.UUIDField(unique=True)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    display_name = fields.CharField(max_length=60)
    role = fields.CharEnumField(Role, max_length=16)
    birth_date = fields.DateField(null=True)
    household = fields.ForeignKeyField(
        "pvpp.Household", related_name="members", null=True, on_delete=fields.SET_NULL
    )
    school = fields.ForeignKeyField(
        "pvpp.School", related_name="members", null=True, on_delete=fields.SET_NULL
    )
    school_class = fields.ForeignKeyField(
        "pvpp.SchoolClass", related_name="students", null=True, on_delete=fields.SET_NULL
    )
    municipality = fields.ForeignKeyField(
        "pvpp.Municipality", related_name="officers", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "user"


class Session(Model):
    """One signed-in device. Access tokens name it, and revoking it signs the device out."""

    id = fields.UUIDField(primary_key=True)
    user = fields.ForeignKeyField("pvpp.User", related_name="sessions", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=40, null=True)

    class Meta:
        table = "session"


class RefreshToken(Model):
    """A single-use refresh token, stored only as its SHA-256 hash.

    Refreshing rotates it; presenting a used token again revokes the whole session
    so a stolen token and its owner cannot both go on.
    """

    id = fields.IntField(primary_key=True)
    session = fields.ForeignKeyField(
        "pvpp.Session", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_token"


class GuardianLink(Model):
    """A parent who is the legal guardian of a student. Consent lives in ``ConsentRecord``."""

    id = fields.IntField(primary_key=True)
    guardian = fields.ForeignKeyField(
        "pvpp.User", related_name="children_links", on_delete=fields.CASCADE
    )
    student = fields.ForeignKeyField(
        "pvpp.User", related_name="guardian_links", on_delete=fields.CASCADE
    )
    consent_given_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "guardian_link"
        unique_together = (("guardian", "student"),)


class ConsentRecord(Model):
    """Append-only record of a guardian giving or withdrawing consent (PIPA §22-2)."""

    id = fields.IntField(primary_key=True)
    link = fields.ForeignKeyField("pvpp.GuardianLink", related_name="records", on_delete=fields.CASCADE)
    action = fields.CharEnumField(ConsentAction, max_length=10)
    notice_version = fields.CharField(max_length=20)
    recorded_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "consent_record"
