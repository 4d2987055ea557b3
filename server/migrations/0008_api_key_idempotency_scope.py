from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('laurel', '0007_event_log')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ApiKey',
            name='idempotency_scope',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
