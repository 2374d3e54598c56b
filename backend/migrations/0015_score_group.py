from tortoise import migrations
from tortoise.migrations import operations as ops

from backend.schools.group_summary import create


async def create_score_group(apps, schema_editor):
    """Per-group sums for the scoreboards, kept by triggers (backend.schools.group_summary)."""
    await create(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [('pvpp', '0014_plug_channels_topics')]

    initial = False

    operations = [
        ops.RunPython(create_score_group),
    ]
