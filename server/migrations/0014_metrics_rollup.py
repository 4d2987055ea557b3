from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('laurel', '0013_prize_images')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ActivityRow',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('activity_id', fields.BigIntField()),
                ('member_id', fields.BigIntField(db_index=True)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('purchase', fields.BooleanField()),
                ('cents', fields.BigIntField()),
                ('prev_any', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('prev', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('prev2', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'metrics_activities', 'app': 'laurel', 'pk_attr': 'id', 'table_description': 'An activity with what the order figures need: its member, time and amount, its'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('kind', fields.CharField(max_length=16)),
                ('source', fields.CharField(max_length=16)),
                ('positive', fields.BooleanField()),
                ('amount', fields.BigIntField()),
            ],
            options={'table': 'metrics_ledger_days', 'app': 'laurel', 'unique_together': (('day', 'kind', 'source', 'positive'),), 'pk_attr': 'id', 'table_description': "The ledger's amounts per UTC day of occurred_at, entry kind, source and sign: the"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MemberDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.BigIntField()),
                ('day', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('points', fields.BigIntField()),
                ('midnight_points', fields.BigIntField()),
            ],
            options={'table': 'metrics_member_days', 'app': 'laurel', 'unique_together': (('member_id', 'day'),), 'pk_attr': 'id', 'table_description': "A member's qualifying points (lifetime_delta of qualifying entries) per UTC day of"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MetricsCursor',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('last_id', fields.BigIntField(default=0)),
            ],
            options={'table': 'metrics_cursors', 'app': 'laurel', 'pk_attr': 'name', 'table_description': 'How far each rollup is: the ids of its table up to last_id are in it, none above.'},
            bases=['Model'],
        ),
    ]
