from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from backend.ledger.entries import Asset
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class DescriptionOnly(ops.AlterField):
    """A new ledger asset only changes the enum's description: the varchar column stays as it is
    (a real ALTER would rebuild the SQLite table and lose its unique constraint)."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('pvpp', '0008_photo_capture_source')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MunicipalReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('municipality', fields.ForeignKeyField('pvpp.Municipality', source_field='municipality_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('year', fields.SmallIntField()),
                ('month', fields.SmallIntField()),
                ('figures', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('generated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'municipal_report', 'app': 'pvpp', 'unique_together': (('municipality', 'year', 'month'),), 'pk_attr': 'id', 'table_description': "A municipality's monthly report: the figures as computed (the PDF is rendered from them)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Nomination',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('school', fields.ForeignKeyField('pvpp.School', source_field='school_id', db_constraint=True, to_field='id', related_name='nominations', on_delete=OnDelete.CASCADE)),
                ('nominee_kind', fields.CharField(max_length=10)),
                ('nominee_id', fields.IntField()),
                ('category', fields.CharField(max_length=40)),
                ('period_kind', fields.CharField(max_length=12)),
                ('period_start', fields.DateField()),
                ('reason', fields.TextField(unique=False)),
                ('evidence', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='open', max_length=10)),
                ('nominated_by', fields.ForeignKeyField('pvpp.User', source_field='nominated_by_id', null=True, db_constraint=True, to_field='id', related_name='nominations', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'nomination', 'app': 'pvpp', 'indexes': [Index(fields=['school_id', 'period_start'])], 'pk_attr': 'id', 'table_description': "A teacher's nomination of a student, a family or a class for a best-case prize."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PrizeBudget',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=120)),
                ('school', fields.ForeignKeyField('pvpp.School', source_field='school_id', null=True, db_constraint=True, to_field='id', related_name='prize_budgets', on_delete=OnDelete.RESTRICT)),
                ('municipality', fields.ForeignKeyField('pvpp.Municipality', source_field='municipality_id', db_constraint=True, to_field='id', related_name='prize_budgets', on_delete=OnDelete.RESTRICT)),
                ('asset', fields.CharField(max_length=20)),
                ('account', fields.UUIDField(unique=True)),
                ('funded', fields.BigIntField()),
                ('created_by', fields.ForeignKeyField('pvpp.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='prize_budgets', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'prize_budget', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': "A school's or municipality's pot for prizes, kept as a ledger account of its own."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Award',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('nomination', fields.OneToOneField('pvpp.Nomination', source_field='nomination_id', db_constraint=True, to_field='id', related_name='award', on_delete=OnDelete.CASCADE)),
                ('active_key', fields.CharField(null=True, unique=True, max_length=120)),
                ('budget', fields.ForeignKeyField('pvpp.PrizeBudget', source_field='budget_id', null=True, db_constraint=True, to_field='id', related_name='awards', on_delete=OnDelete.RESTRICT)),
                ('asset', fields.CharField(max_length=20)),
                ('amount', fields.BigIntField()),
                ('recipients', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('first_seq', fields.BigIntField()),
                ('awarded_by', fields.ForeignKeyField('pvpp.User', source_field='awarded_by_id', null=True, db_constraint=True, to_field='id', related_name='awards_given', on_delete=OnDelete.SET_NULL)),
                ('awarded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_reason', fields.CharField(null=True, max_length=200)),
            ],
            options={'table': 'award', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'An awarded nomination and its ledger legs.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TransferConsent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('student', fields.ForeignKeyField('pvpp.User', source_field='student_id', db_constraint=True, to_field='id', related_name='transfer_consents', on_delete=OnDelete.CASCADE)),
                ('given_by', fields.ForeignKeyField('pvpp.User', source_field='given_by_id', null=True, db_constraint=True, to_field='id', related_name='transfer_consents_given', on_delete=OnDelete.SET_NULL)),
                ('action', fields.CharField(max_length=10)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'transfer_consent', 'app': 'pvpp', 'indexes': [Index(fields=['student_id', 'id'])], 'pk_attr': 'id', 'table_description': 'Append-only record of consent to send volunteer records on to 1365/NEIS'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VolunteerCertificate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.CharField(unique=True, max_length=32)),
                ('student', fields.ForeignKeyField('pvpp.User', source_field='student_id', null=True, db_constraint=True, to_field='id', related_name='certificates', on_delete=OnDelete.SET_NULL)),
                ('figures', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('digest', fields.CharField(max_length=40)),
                ('issued_by', fields.ForeignKeyField('pvpp.User', source_field='issued_by_id', null=True, db_constraint=True, to_field='id', related_name='certificates_issued', on_delete=OnDelete.SET_NULL)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'volunteer_certificate', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'A volunteer-hour certificate (봉사활동 확인서) of one student and period.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VolunteerExport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('exported_by', fields.ForeignKeyField('pvpp.User', source_field='exported_by_id', null=True, db_constraint=True, to_field='id', related_name='volunteer_exports', on_delete=OnDelete.SET_NULL)),
                ('school', fields.ForeignKeyField('pvpp.School', source_field='school_id', db_constraint=True, to_field='id', related_name='volunteer_exports', on_delete=OnDelete.CASCADE)),
                ('school_class', fields.ForeignKeyField('pvpp.SchoolClass', source_field='school_class_id', null=True, db_constraint=True, to_field='id', related_name='volunteer_exports', on_delete=OnDelete.SET_NULL)),
                ('period_start', fields.DateField()),
                ('period_end', fields.DateField()),
                ('student_ids', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('withheld', fields.IntField()),
                ('rows', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'volunteer_export', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'Every export of volunteer records: who, when, which students, which period.'},
            bases=['Model'],
        ),
        DescriptionOnly(
            model_name='Balance',
            name='asset',
            field=fields.CharEnumField(description='POINTS: points\nVOLUNTEER_MINUTES: volunteer_minutes\nMILEAGE_WON: mileage_won\nCOINS_WON: coins_won\nHONOURS: honours', enum_type=Asset, max_length=20),
        ),
        DescriptionOnly(
            model_name='LedgerEntry',
            name='asset',
            field=fields.CharEnumField(description='POINTS: points\nVOLUNTEER_MINUTES: volunteer_minutes\nMILEAGE_WON: mileage_won\nCOINS_WON: coins_won\nHONOURS: honours', enum_type=Asset, max_length=20),
        ),
    ]
