from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.accounts.models import ConsentAction, Role
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Municipality',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=120)),
                ('code', fields.CharField(unique=True, description='Administrative code', max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'municipality', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'A local government (시·군·구) that runs a local-currency programme.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Household',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=120)),
                ('invite_code', fields.CharField(unique=True, max_length=16)),
                ('municipality', fields.ForeignKeyField('pvpp.Municipality', source_field='municipality_id', null=True, db_constraint=True, to_field='id', related_name='households', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'household', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'A family home. Members join it with its invite code.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='School',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=120)),
                ('municipality', fields.ForeignKeyField('pvpp.Municipality', source_field='municipality_id', db_constraint=True, to_field='id', related_name='schools', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'school', 'app': 'pvpp', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SchoolClass',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('school', fields.ForeignKeyField('pvpp.School', source_field='school_id', db_constraint=True, to_field='id', related_name='classes', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=60)),
                ('grade', fields.SmallIntField()),
                ('year', fields.SmallIntField()),
                ('join_code', fields.CharField(unique=True, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'school_class', 'app': 'pvpp', 'unique_together': (('school', 'year', 'name'),), 'pk_attr': 'id', 'table_description': 'A class (반) of one school year. Students join it with its join code.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('pseudonym', fields.UUIDField(unique=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('password_hash', fields.CharField(max_length=255)),
                ('display_name', fields.CharField(max_length=60)),
                ('role', fields.CharEnumField(description='STUDENT: student\nPARENT: parent\nTEACHER: teacher\nSCHOOL_ADMIN: school_admin\nOFFICER: officer\nOPERATOR: operator', enum_type=Role, max_length=16)),
                ('birth_date', fields.DateField(null=True)),
                ('household', fields.ForeignKeyField('pvpp.Household', source_field='household_id', null=True, db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.SET_NULL)),
                ('school', fields.ForeignKeyField('pvpp.School', source_field='school_id', null=True, db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.SET_NULL)),
                ('school_class', fields.ForeignKeyField('pvpp.SchoolClass', source_field='school_class_id', null=True, db_constraint=True, to_field='id', related_name='students', on_delete=OnDelete.SET_NULL)),
                ('municipality', fields.ForeignKeyField('pvpp.Municipality', source_field='municipality_id', null=True, db_constraint=True, to_field='id', related_name='officers', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'user', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'A person using the platform.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GuardianLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('guardian', fields.ForeignKeyField('pvpp.User', source_field='guardian_id', db_constraint=True, to_field='id', related_name='children_links', on_delete=OnDelete.CASCADE)),
                ('student', fields.ForeignKeyField('pvpp.User', source_field='student_id', db_constraint=True, to_field='id', related_name='guardian_links', on_delete=OnDelete.CASCADE)),
                ('consent_given_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'guardian_link', 'app': 'pvpp', 'unique_together': (('guardian', 'student'),), 'pk_attr': 'id', 'table_description': 'A parent who is the legal guardian of a student. Consent lives in ``ConsentRecord``.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsentRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('link', fields.ForeignKeyField('pvpp.GuardianLink', source_field='link_id', db_constraint=True, to_field='id', related_name='records', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharEnumField(description='GIVEN: given\nWITHDRAWN: withdrawn', enum_type=ConsentAction, max_length=10)),
                ('notice_version', fields.CharField(max_length=20)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'consent_record', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'Append-only record of a guardian giving or withdrawing consent (PIPA §22-2).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('pvpp.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_reason', fields.CharField(null=True, max_length=40)),
            ],
            options={'table': 'session', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'One signed-in device. Access tokens name it, and revoking it signs the device out.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RefreshToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('session', fields.ForeignKeyField('pvpp.Session', source_field='session_id', db_constraint=True, to_field='id', related_name='refresh_tokens', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'refresh_token', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'A single-use refresh token, stored only as its SHA-256 hash.'},
            bases=['Model'],
        ),
    ]
