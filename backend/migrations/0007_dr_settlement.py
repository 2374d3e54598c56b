from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from backend.dr.models import AdjustmentCause, DisputeStatus, SettlementStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('pvpp', '0006_dr_events')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BaselineChoice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('household', fields.ForeignKeyField('pvpp.Household', source_field='household_id', db_constraint=True, to_field='id', related_name='baseline_choices', on_delete=OnDelete.CASCADE)),
                ('method', fields.CharField(max_length=16)),
                ('evaluated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('scores', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('days_used', fields.IntField(default=0)),
                ('insufficient_reason', fields.CharField(null=True, max_length=200)),
            ],
            options={'table': 'dr_baseline_choice', 'app': 'pvpp', 'indexes': [Index(fields=['household_id', 'evaluated_at'])], 'pk_attr': 'id', 'table_description': 'One evaluation of which baseline method fits a household best, kept as history.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DrSettlement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('participation', fields.OneToOneField('pvpp.DrParticipation', source_field='participation_id', db_constraint=True, to_field='id', related_name='settlement', on_delete=OnDelete.CASCADE)),
                ('event', fields.ForeignKeyField('pvpp.DrEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='settlements', on_delete=OnDelete.CASCADE)),
                ('household', fields.ForeignKeyField('pvpp.Household', source_field='household_id', db_constraint=True, to_field='id', related_name='dr_settlements', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(description='SETTLED: settled\nINSUFFICIENT_DATA: insufficient_data\nFORGIVEN: forgiven', enum_type=SettlementStatus, max_length=20)),
                ('method', fields.CharField(null=True, max_length=16)),
                ('contracted_kwh', fields.FloatField()),
                ('reduction_kwh', fields.FloatField(default=0.0)),
                ('points', fields.IntField(default=0)),
                ('version', fields.IntField(default=1)),
                ('recipients', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('plug_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('explanation', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('settled_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'dr_settlement', 'app': 'pvpp', 'unique_together': (('event', 'household'),), 'pk_attr': 'id', 'table_description': 'What one opted-in household delivered in one event, and the points it was given.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DrDispute',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('settlement', fields.ForeignKeyField('pvpp.DrSettlement', source_field='settlement_id', db_constraint=True, to_field='id', related_name='disputes', on_delete=OnDelete.CASCADE)),
                ('open_key', fields.IntField(null=True, unique=True)),
                ('raised_by', fields.ForeignKeyField('pvpp.User', source_field='raised_by_id', null=True, db_constraint=True, to_field='id', related_name='dr_disputes', on_delete=OnDelete.SET_NULL)),
                ('reason', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=DisputeStatus.OPEN, description='OPEN: open\nACCEPTED: accepted\nREJECTED: rejected', enum_type=DisputeStatus, max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resolved_by', fields.ForeignKeyField('pvpp.User', source_field='resolved_by_id', null=True, db_constraint=True, to_field='id', related_name='dr_resolutions', on_delete=OnDelete.SET_NULL)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolution', fields.TextField(null=True, unique=False)),
                ('adjusted_kwh', fields.FloatField(null=True)),
            ],
            options={'table': 'dr_dispute', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': "A parent's objection to a settlement and an operator's answer."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DrSettlementAdjustment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('settlement', fields.ForeignKeyField('pvpp.DrSettlement', source_field='settlement_id', db_constraint=True, to_field='id', related_name='adjustments', on_delete=OnDelete.CASCADE)),
                ('version', fields.IntField()),
                ('cause', fields.CharEnumField(description='RESTATEMENT: restatement\nDISPUTE: dispute', enum_type=AdjustmentCause, max_length=12)),
                ('reduction_kwh_before', fields.FloatField()),
                ('reduction_kwh_after', fields.FloatField()),
                ('points_before', fields.IntField()),
                ('points_after', fields.IntField()),
                ('note', fields.CharField(default='', max_length=200)),
                ('previous_explanation', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'dr_settlement_adjustment', 'app': 'pvpp', 'unique_together': (('settlement', 'version'),), 'pk_attr': 'id', 'table_description': 'A change of a settlement after the fact, written to the ledger as ADJUSTMENT legs.'},
            bases=['Model'],
        ),
    ]
