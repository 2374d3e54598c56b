from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('pvpp', '0007_dr_settlement')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Photo',
            name='captured_at_source',
            field=fields.CharField(null=True, max_length=20),
        ),
    ]
