from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from backend.dr.models import DrScope, DrState
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('pvpp', '0005_photos')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DrEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=80)),
                ('scope', fields.CharEnumField(description='NATIONAL: national\nMUNICIPALITY: municipality\nSCHOOL: school', enum_type=DrScope, max_length=16)),
                ('municipality', fields.ForeignKeyField('pvpp.Municipality', source_field='municipality_id', null=True, db_constraint=True, to_field='id', related_name='dr_events', on_delete=OnDelete.RESTRICT)),
                ('school', fields.ForeignKeyField('pvpp.School', source_field='school_id', null=True, db_constraint=True, to_field='id', related_name='dr_events', on_delete=OnDelete.RESTRICT)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('target_kw', fields.FloatField()),
                ('short_notice', fields.BooleanField(default=False)),
                ('state', fields.CharEnumField(default=DrState.SCHEDULED, description='SCHEDULED: scheduled\nNOTIFIED: notified\nRUNNING: running\nENDED: ended\nCANCELLED: cancelled', enum_type=DrState, max_length=12)),
                ('created_by', fields.ForeignKeyField('pvpp.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='dr_events', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('notified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('settled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('live', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('live_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('changed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'dr_event', 'app': 'pvpp', 'indexes': [Index(fields=['state', 'starts_at']), Index(fields=['changed_at'])], 'pk_attr': 'id', 'table_description': 'A window in which households in a scope cut load together against a target.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DrParticipation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event', fields.ForeignKeyField('pvpp.DrEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='participations', on_delete=OnDelete.CASCADE)),
                ('household', fields.ForeignKeyField('pvpp.Household', source_field='household_id', db_constraint=True, to_field='id', related_name='dr_participations', on_delete=OnDelete.CASCADE)),
                ('notified_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('opted_out', fields.BooleanField(default=False)),
                ('opted_out_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_by', fields.ForeignKeyField('pvpp.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='dr_decisions', on_delete=OnDelete.SET_NULL)),
                ('switched_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('restored_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('commands_issued', fields.IntField(default=0)),
                ('commands_failed', fields.IntField(default=0)),
                ('forgiven_reason', fields.CharField(null=True, max_length=24)),
                ('forgiven_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'dr_participation', 'app': 'pvpp', 'unique_together': (('event', 'household'),), 'indexes': [Index(fields=['household_id', 'event_id'])], 'pk_attr': 'id', 'table_description': "One household's part in one event: when it was told, its choice, what was switched."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DrSwitch',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('participation', fields.ForeignKeyField('pvpp.DrParticipation', source_field='participation_id', db_constraint=True, to_field='id', related_name='switches', on_delete=OnDelete.CASCADE)),
                ('plug', fields.ForeignKeyField('pvpp.Plug', source_field='plug_id', db_constraint=True, to_field='id', related_name='dr_switches', on_delete=OnDelete.CASCADE)),
                ('off_command', fields.ForeignKeyField('pvpp.PlugCommand', source_field='off_command_id', null=True, db_constraint=True, to_field='id', related_name='dr_off', on_delete=OnDelete.SET_NULL)),
                ('restore_command', fields.ForeignKeyField('pvpp.PlugCommand', source_field='restore_command_id', null=True, db_constraint=True, to_field='id', related_name='dr_restore', on_delete=OnDelete.SET_NULL)),
                ('restore_skipped', fields.CharField(null=True, max_length=60)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'dr_switch', 'app': 'pvpp', 'unique_together': (('participation', 'plug'),), 'pk_attr': 'id', 'table_description': 'A plug the event switched off, the command that did it and the one that restores it.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Plug',
            name='dr_automation',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
