from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.plugs.models import CommandStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('pvpp', '0003_plugs')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PlugCommand',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plug', fields.ForeignKeyField('pvpp.Plug', source_field='plug_id', db_constraint=True, to_field='id', related_name='commands', on_delete=OnDelete.CASCADE)),
                ('switch_on', fields.BooleanField()),
                ('purpose', fields.CharField(default='manual', max_length=24)),
                ('requested_by', fields.ForeignKeyField('pvpp.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name='plug_commands', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(default=CommandStatus.PENDING, description='PENDING: pending\nSENT: sent\nCONFIRMED: confirmed\nFAILED: failed\nSUPERSEDED: superseded', enum_type=CommandStatus, max_length=12)),
                ('attempts', fields.SmallIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('error', fields.CharField(null=True, max_length=200)),
            ],
            options={'table': 'plug_command', 'app': 'pvpp', 'indexes': [Index(fields=['status', 'id']), Index(fields=['plug_id', 'id'])], 'pk_attr': 'id', 'table_description': "A request to switch a plug's relay, kept as an outbox row: the API (or a DR event)"},
            bases=['Model'],
        ),
    ]
