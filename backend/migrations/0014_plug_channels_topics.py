from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


async def one_active_pairing_per_channel(apps, schema_editor):
    """A device's channels may each be paired (one active row per vendor, device and channel)."""
    await schema_editor.client.execute_script(
        "DROP INDEX IF EXISTS plug_one_active_pairing; "
        "CREATE UNIQUE INDEX IF NOT EXISTS plug_one_active_pairing ON plug (vendor, device_id, channel) "
        "WHERE unpaired_at IS NULL")


class Migration(migrations.Migration):
    dependencies = [('pvpp', '0013_plug_mqtt_accounts_clock_feed_in')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Plug',
            name='channel',
            field=fields.SmallIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Plug',
            name='meter',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Plug',
            name='topic_template',
            field=fields.CharField(null=True, max_length=120),
        ),
        ops.RunPython(one_active_pairing_per_channel),
    ]
