from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('pvpp', '0009_schools')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DemoLoad',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('seed', fields.IntField()),
                ('households', fields.IntField()),
                ('days', fields.IntField()),
                ('anchor', fields.DateField(description='local day the history ends before')),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('summary', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'demo_load', 'app': 'pvpp', 'unique_together': (('seed', 'households', 'days'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
