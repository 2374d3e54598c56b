from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('pvpp', '0010_demo_load')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LedgerNode',
            fields=[
                ('id', fields.BigIntField(primary_key=True, unique=True, db_index=True)),
                ('hash', fields.BinaryField()),
            ],
            options={'table': 'ledger_node', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'The hash of a complete subtree of the Merkle tree at a level that is a multiple of 4.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='LedgerHead',
            name='peaks',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
