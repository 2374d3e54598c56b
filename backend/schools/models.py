"""School models."""

from tortoise import fields
from tortoise.models import Model


class School(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    municipality = fields.ForeignKeyField(
        "pvpp.Municipality", related_name="schools", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "school"


class SchoolClass(Model):
    """A class (반) of one school year. Students join it with its join code."""

    id = fields.IntField(primary_key=True)
    school = fields.ForeignKeyField("pvpp.School", related_name="classes", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=60)
    grade = fields.SmallIntField()
    year = fields.SmallIntField()
    join_code = fields.CharField(max_length=16, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "school_class"
        unique_together = (("school", "year", "name"),)


class PrizeBudget(Model):
    """A school's or municipality's pot for prizes, kept as a ledger account of its own.

    ``account`` is the budget's pseudonymous ledger account: funding credits it, each award
    debits it in the same transaction that credits the winners, so the ledger alone shows where
    every prize came from and that the budget never went below zero.
    """

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    school = fields.ForeignKeyField("pvpp.School", related_name="prize_budgets", null=True, on_delete=fields.RESTRICT)
    municipality = fields.ForeignKeyField("pvpp.Municipality", related_name="prize_budgets", on_delete=fields.RESTRICT)
    asset = fields.CharField(max_length=20)  # points or coins_won
    account = fields.UUIDField(unique=True)
    funded = fields.BigIntField()
    created_by = fields.ForeignKeyField("pvpp.User", related_name="prize_budgets", null=True,
                                        on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "prize_budget"


class Nomination(Model):
    """A teacher's nomination of a student, a family or a class for a best-case prize."""

    id = fields.IntField(primary_key=True)
    school = fields.ForeignKeyField("pvpp.School", related_name="nominations", on_delete=fields.CASCADE)
    nominee_kind = fields.CharField(max_length=10)  # student, family, class
    nominee_id = fields.IntField()  # user, household or school_class id
    category = fields.CharField(max_length=40)
    period_kind = fields.CharField(max_length=12)
    period_start = fields.DateField()
    reason = fields.TextField()
    evidence = fields.JSONField(default=dict)  # {"activityIds": [...], "photoIds": [...], "drEventId": n}
    status = fields.CharField(max_length=10, default="open")  # open, awarded, withdrawn
    nominated_by = fields.ForeignKeyField("pvpp.User", related_name="nominations", null=True,
                                          on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "nomination"
        indexes = (("school_id", "period_start"),)


class Award(Model):
    """An awarded nomination and its ledger legs.

    ``active_key`` (nominee, category, period) is unique while the award stands and null once
    it is withdrawn, so the database itself refuses a second award for the same thing.
    """

    id = fields.IntField(primary_key=True)
    nomination = fields.OneToOneField("pvpp.Nomination", related_name="award", on_delete=fields.CASCADE)
    active_key = fields.CharField(max_length=120, null=True, unique=True)
    budget = fields.ForeignKeyField("pvpp.PrizeBudget", related_name="awards", null=True, on_delete=fields.RESTRICT)
    asset = fields.CharField(max_length=20)
    amount = fields.BigIntField()  # the prize (0 for an honour)
    recipients = fields.JSONField(default=list)  # pseudonyms (str) credited
    first_seq = fields.BigIntField()
    awarded_by = fields.ForeignKeyField("pvpp.User", related_name="awards_given", null=True,
                                        on_delete=fields.SET_NULL)
    awarded_at = fields.DatetimeField()
    withdrawn_at = fields.DatetimeField(null=True)
    withdrawn_reason = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "award"


class VolunteerCertificate(Model):
    """A volunteer-hour certificate (봉사활동 확인서) of one student and period.

    The figures are fixed at issue and listed with the ledger entries they sum; ``digest`` is an
    HMAC of the figures that the certificate's QR code carries, so a scan recomputes it.
    """

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)
    student = fields.ForeignKeyField("pvpp.User", related_name="certificates", null=True, on_delete=fields.SET_NULL)
    figures = fields.JSONField()  # name, school, class, period, minutes, hours, carry, seqs, issuer, issued_on
    digest = fields.CharField(max_length=40)
    issued_by = fields.ForeignKeyField("pvpp.User", related_name="certificates_issued", null=True,
                                       on_delete=fields.SET_NULL)
    issued_at = fields.DatetimeField()

    class Meta:
        table = "volunteer_certificate"


class TransferConsent(Model):
    """Append-only record of consent to send volunteer records on to 1365/NEIS
    (봉사실적 연계 정보제공 동의): given or withdrawn, by a guardian or the student."""

    id = fields.IntField(primary_key=True)
    student = fields.ForeignKeyField("pvpp.User", related_name="transfer_consents", on_delete=fields.CASCADE)
    given_by = fields.ForeignKeyField("pvpp.User", related_name="transfer_consents_given", null=True,
                                      on_delete=fields.SET_NULL)
    action = fields.CharField(max_length=10)  # given, withdrawn
    recorded_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "transfer_consent"
        indexes = (("student_id", "id"),)


class VolunteerExport(Model):
    """Every export of volunteer records: who, when, which students, which period."""

    id = fields.IntField(primary_key=True)
    exported_by = fields.ForeignKeyField("pvpp.User", related_name="volunteer_exports", null=True,
                                         on_delete=fields.SET_NULL)
    school = fields.ForeignKeyField("pvpp.School", related_name="volunteer_exports", on_delete=fields.CASCADE)
    school_class = fields.ForeignKeyField("pvpp.SchoolClass", related_name="volunteer_exports", null=True,
                                          on_delete=fields.SET_NULL)
    period_start = fields.DateField()
    period_end = fields.DateField()
    student_ids = fields.JSONField()  # the students whose records were exported
    withheld = fields.IntField()  # students left out for want of transfer consent
    rows = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "volunteer_export"
