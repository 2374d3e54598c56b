from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from backend.plugs.readings import Vendor
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from backend.plugs.store import create_tables


async def create_reading_tables(apps, schema_editor):
    """Readings, hourly rollups and rollup marks (partitioned on PostgreSQL), and the
    rule that a device has at most one active pairing."""
    conn = schema_editor.client
    await create_tables(conn)
    await conn.execute_script(
        "CREATE UNIQUE INDEX IF NOT EXISTS plug_one_active_pairing ON plug (vendor, device_id) "
        "WHERE unpaired_at IS NULL")

class Migration(migrations.Migration):
    dependencies = [('pvpp', '0002_ledger_activities_programmes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Plug',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('household', fields.ForeignKeyField('pvpp.Household', source_field='household_id', db_constraint=True, to_field='id', related_name='plugs', on_delete=OnDelete.CASCADE)),
                ('vendor', fields.CharEnumField(description='TASMOTA: tasmota\nSHELLY_GEN1: shelly_gen1\nSHELLY_GEN2: shelly_gen2\nHTTP: http', enum_type=Vendor, max_length=16)),
                ('device_id', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=40)),
                ('paired_by', fields.ForeignKeyField('pvpp.User', source_field='paired_by_id', null=True, db_constraint=True, to_field='id', related_name='paired_plugs', on_delete=OnDelete.SET_NULL)),
                ('paired_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('unpaired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('token_hash', fields.CharField(null=True, max_length=64)),
                ('online', fields.BooleanField(null=True)),
                ('online_changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('relay_on', fields.BooleanField(null=True)),
                ('relay_changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('changed_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'plug', 'app': 'pvpp', 'indexes': [Index(fields=['vendor', 'device_id']), Index(fields=['household_id']), Index(fields=['changed_at'])], 'pk_attr': 'id', 'table_description': 'One pairing of a device (vendor + device id) to a household. Unpairing sets'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PairingCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code_hash', fields.CharField(unique=True, max_length=64)),
                ('household', fields.ForeignKeyField('pvpp.Household', source_field='household_id', db_constraint=True, to_field='id', related_name='pairing_codes', on_delete=OnDelete.CASCADE)),
                ('created_by', fields.ForeignKeyField('pvpp.User', source_field='created_by_id', db_constraint=True, to_field='id', related_name='pairing_codes', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('plug', fields.ForeignKeyField('pvpp.Plug', source_field='plug_id', null=True, db_constraint=True, to_field='id', related_name='pairing_code', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'plug_pairing_code', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'A short-lived, single-use code a parent creates so a plug can join the household.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PushBatch',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plug', fields.ForeignKeyField('pvpp.Plug', source_field='plug_id', db_constraint=True, to_field='id', related_name='push_batches', on_delete=OnDelete.CASCADE)),
                ('batch_id', fields.CharField(max_length=64)),
                ('digest', fields.CharField(max_length=64)),
                ('accepted', fields.IntField()),
                ('rejected', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'plug_push_batch', 'app': 'pvpp', 'unique_together': (('plug', 'batch_id'),), 'pk_attr': 'id', 'table_description': 'An HTTP push batch id already taken for a plug, so a replayed push is recognised.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RejectCount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField()),
                ('vendor', fields.CharField(max_length=16)),
                ('reason', fields.CharField(max_length=24)),
                ('count', fields.BigIntField(default=0)),
            ],
            options={'table': 'plug_reject_count', 'app': 'pvpp', 'unique_together': (('day', 'vendor', 'reason'),), 'pk_attr': 'id', 'table_description': 'Rejected plug messages per UTC day, vendor and reason (summed over all bridges).'},
            bases=['Model'],
        ),
        ops.RunPython(create_reading_tables),
    ]
