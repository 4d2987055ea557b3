from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('laurel', '0003_badges')]

    initial = False

    operations = [
        ops.AddField(
            model_name='BoardUpdate',
            name='entry_id',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='LedgerEntry',
            name='occurred_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
