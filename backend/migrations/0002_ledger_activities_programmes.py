from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from backend.activities.models import ActivityStatus
from backend.ledger.entries import Asset, EntryKind
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('pvpp', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Balance',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.UUIDField()),
                ('asset', fields.CharEnumField(description='POINTS: points\nVOLUNTEER_MINUTES: volunteer_minutes\nMILEAGE_WON: mileage_won\nCOINS_WON: coins_won', enum_type=Asset, max_length=20)),
                ('scope', fields.CharField(default='', max_length=20)),
                ('amount', fields.BigIntField(default=0)),
            ],
            options={'table': 'ledger_balance', 'app': 'pvpp', 'unique_together': (('account', 'asset', 'scope'),), 'pk_attr': 'id', 'table_description': "Materialised sum of an account's entries per asset and scope, checked by the verifier."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Checkpoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tree_size', fields.BigIntField(unique=True)),
                ('root_hash', fields.CharField(max_length=64)),
                ('peaks', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('key_id', fields.CharField(max_length=16)),
                ('note', fields.TextField(unique=False)),
            ],
            options={'table': 'ledger_checkpoint', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'A signed tree head: size, root, and the signed note published to verifiers.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerEntry',
            fields=[
                ('seq', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('txn', fields.UUIDField(db_index=True)),
                ('kind', fields.CharEnumField(description='AWARD: award\nCONVERSION: conversion\nREDEMPTION: redemption\nREVERSAL: reversal\nADJUSTMENT: adjustment', enum_type=EntryKind, max_length=12)),
                ('account', fields.UUIDField(db_index=True, description='Pseudonym of the holder')),
                ('asset', fields.CharEnumField(description='POINTS: points\nVOLUNTEER_MINUTES: volunteer_minutes\nMILEAGE_WON: mileage_won\nCOINS_WON: coins_won', enum_type=Asset, max_length=20)),
                ('scope', fields.CharField(default='', max_length=20)),
                ('amount', fields.BigIntField()),
                ('ref', fields.CharField(unique=True, max_length=160)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('leaf_hash', fields.CharField(max_length=64)),
                ('memo', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'ledger_entry', 'app': 'pvpp', 'indexes': [Index(fields=['account', 'asset', 'recorded_at'])], 'pk_attr': 'seq', 'table_description': 'One leg of a ledger transaction and leaf ``seq`` of the Merkle tree. Never updated.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerHead',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('size', fields.BigIntField(default=0)),
            ],
            options={'table': 'ledger_head', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'The single row (id 1) every writer locks: the number of entries so far.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Programme',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('municipality', fields.ForeignKeyField('pvpp.Municipality', source_field='municipality_id', db_constraint=True, to_field='id', related_name='programmes', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=120)),
                ('year', fields.SmallIntField()),
                ('rules_year', fields.SmallIntField(description='Year of the conversion rules file it follows')),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField()),
                ('coin_budget_won', fields.BigIntField()),
                ('coins_issued_won', fields.BigIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'programme', 'app': 'pvpp', 'unique_together': (('municipality', 'year'),), 'pk_attr': 'id', 'table_description': "A municipality's saving programme for one year."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Activity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('pvpp.User', source_field='user_id', db_constraint=True, to_field='id', related_name='activities', on_delete=OnDelete.CASCADE)),
                ('household', fields.ForeignKeyField('pvpp.Household', source_field='household_id', null=True, db_constraint=True, to_field='id', related_name='activities', on_delete=OnDelete.SET_NULL)),
                ('programme', fields.ForeignKeyField('pvpp.Programme', source_field='programme_id', db_constraint=True, to_field='id', related_name='activities', on_delete=OnDelete.RESTRICT)),
                ('idempotency_key', fields.CharField(max_length=64)),
                ('payload_hash', fields.CharField(max_length=64)),
                ('activity_type', fields.CharField(max_length=40)),
                ('catalogue_version', fields.SmallIntField()),
                ('params', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('occurred_on', fields.DateField()),
                ('status', fields.CharEnumField(description='ACCEPTED: accepted\nPENDING_EVIDENCE: pending_evidence\nREJECTED: rejected', enum_type=ActivityStatus, max_length=20)),
                ('kwh', fields.DecimalField(max_digits=12, decimal_places=3)),
                ('shifted_kwh', fields.DecimalField(max_digits=12, decimal_places=3)),
                ('points', fields.BigIntField(default=0)),
                ('status_reason', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'activity', 'app': 'pvpp', 'unique_together': (('user', 'idempotency_key'),), 'indexes': [Index(fields=['user_id', 'activity_type', 'occurred_on'])], 'pk_attr': 'id', 'table_description': 'One report. ``(user, idempotency_key)`` is unique so a retried or re-synced report counts once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProgrammeEnrolment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('programme', fields.ForeignKeyField('pvpp.Programme', source_field='programme_id', db_constraint=True, to_field='id', related_name='enrolments', on_delete=OnDelete.CASCADE)),
                ('school', fields.ForeignKeyField('pvpp.School', source_field='school_id', db_constraint=True, to_field='id', related_name='enrolments', on_delete=OnDelete.CASCADE)),
                ('enrolled_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'programme_enrolment', 'app': 'pvpp', 'unique_together': (('programme', 'school'),), 'pk_attr': 'id', 'table_description': 'A school taking part in a programme: its students may earn volunteer hours through it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RedemptionCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('nonce', fields.CharField(unique=True, max_length=32)),
                ('holder', fields.UUIDField(description='Pseudonym of the holder')),
                ('municipality', fields.ForeignKeyField('pvpp.Municipality', source_field='municipality_id', db_constraint=True, to_field='id', related_name='redemption_codes', on_delete=OnDelete.CASCADE)),
                ('amount_won', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('redeemed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('redeemed_by', fields.ForeignKeyField('pvpp.User', source_field='redeemed_by_id', null=True, db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'redemption_code', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'A one-time code a holder shows an officer. The nonce is burned when it is redeemed.'},
            bases=['Model'],
        ),
    ]
