from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('pvpp', '0012_score_month')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Plug',
            name='clock_changed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Plug',
            name='clock_off',
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name='Plug',
            name='clock_offset_min',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Plug',
            name='exporting',
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name='Plug',
            name='feeds_in',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Plug',
            name='mqtt_password_hash',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Plug',
            name='mqtt_username',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='Plug',
            name='returned_wh',
            field=fields.FloatField(null=True),
        ),
    ]
