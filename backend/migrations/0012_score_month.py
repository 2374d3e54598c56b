from tortoise import migrations
from tortoise.migrations import operations as ops

from backend.schools.summary import create


async def create_score_month(apps, schema_editor):
    """Per-student monthly sums for the scoreboards, kept by triggers (backend.schools.summary)."""
    await create(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [('pvpp', '0011_ledger_nodes')]

    initial = False

    operations = [
        ops.RunPython(create_score_month),
    ]
